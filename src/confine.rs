//! Files a profile names (requirements, CA certificates, `krb5.conf`, `extends`, `pack_dirs`)
//! are untrusted: they must stay inside the profile's project, be regular files, and be small.
//! A profile's project is the nearest git work tree that holds the profile file; outside any, the
//! working folder when the profile is in it, else the profile's own folder. Symbolic links are
//! followed first, so one pointing out of the project is refused like the path it points to.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::error::Reason;

/// The largest file a profile may name (and the largest profile file), in bytes.
pub const MAX_FILE: u64 = 1024 * 1024;

/// The project of a profile in the folder `profile_dir`, canonical.
pub fn project_root(profile_dir: &Path) -> PathBuf {
    let cwd = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .unwrap_or_else(|_| PathBuf::from("."));
    let dir = std::fs::canonicalize(profile_dir).unwrap_or_else(|_| cwd.clone());
    match dir.ancestors().find(|d| d.join(".git").exists()) {
        Some(work_tree) => work_tree.to_path_buf(),
        None if dir.starts_with(&cwd) => cwd,
        None => dir,
    }
}

/// The canonical form of `path` when it is inside the project of `profile_dir`.
fn inside(path: &Path, profile_dir: &Path) -> Result<PathBuf, Reason> {
    let canonical = std::fs::canonicalize(path).map_err(|e| Reason::Unreadable {
        cause: crate::error::io_reason(&e),
    })?;
    if canonical.starts_with(project_root(profile_dir)) {
        Ok(canonical)
    } else {
        Err(Reason::OutsideProject)
    }
}

/// A file the profile in `profile_dir` names: inside its project, regular, at most
/// [`MAX_FILE`] bytes.
pub fn read(path: &Path, profile_dir: &Path) -> Result<Vec<u8>, Reason> {
    read_regular(&inside(path, profile_dir)?)
}

/// A regular file of at most [`MAX_FILE`] bytes, wherever it is (a profile given on the command
/// line): never a FIFO that blocks or a device that never ends.
pub fn read_regular(path: &Path) -> Result<Vec<u8>, Reason> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let unreadable = |e: std::io::Error| Reason::Unreadable {
        cause: crate::error::io_reason(&e),
    };
    // Opened without blocking (a FIFO would wait for a writer), then asked what it is: the
    // handle, not the path, so nothing can be swapped in between.
    let nonblocking = i32::try_from(rustix::fs::OFlags::NONBLOCK.bits()).unwrap_or(0);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nonblocking)
        .open(path)
        .map_err(unreadable)?;
    let metadata = file.metadata().map_err(unreadable)?;
    if !metadata.is_file() {
        return Err(Reason::NotARegularFile);
    }
    let size = usize::try_from(metadata.len().min(MAX_FILE)).unwrap_or(0);
    let mut contents = Vec::with_capacity(size + 1);
    file.take(MAX_FILE + 1)
        .read_to_end(&mut contents)
        .map_err(unreadable)?;
    if contents.len() as u64 > MAX_FILE {
        return Err(Reason::TooLarge { limit: MAX_FILE });
    }
    Ok(contents)
}

/// A folder the profile in `profile_dir` names (`pack_dirs`): inside its project.
pub fn dir(path: &Path, profile_dir: &Path) -> Result<(), Reason> {
    let canonical = inside(path, profile_dir)?;
    if canonical.is_dir() {
        Ok(())
    } else {
        Err(Reason::NotAFolder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_fifos_and_folders_are_not_read() {
        assert_eq!(
            read_regular(Path::new("/dev/zero")),
            Err(Reason::NotARegularFile)
        );
        assert_eq!(read_regular(Path::new("/")), Err(Reason::NotARegularFile));
    }

    #[test]
    fn files_outside_the_project_are_refused_even_through_a_link() {
        // The crate's own folder is inside the project (its git work tree) when tests run.
        let here = Path::new("profiles");
        assert!(read(Path::new("Cargo.toml"), here).is_ok());
        assert!(matches!(
            read(Path::new("/etc/hostname"), here),
            Err(Reason::OutsideProject | Reason::Unreadable { .. })
        ));
        let dir = tempfile::tempdir_in(".").expect("temp dir inside the project");
        let link = dir.path().join("innocent.txt");
        std::os::unix::fs::symlink("/etc/passwd", &link).expect("symlink");
        assert_eq!(read(&link, here), Err(Reason::OutsideProject));
    }
}
