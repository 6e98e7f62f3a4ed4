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
pub fn inside(path: &Path, profile_dir: &Path) -> Result<PathBuf, Reason> {
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
    read_regular(&inside(path, profile_dir)?).map(|(contents, _)| contents)
}

/// Which file was read: its device and inode, the same however it was named (through a link,
/// `..` or another spelling of the folder).
pub type FileId = (u64, u64);

/// [`read`] of a profile file, with which file it is.
pub fn read_profile(path: &Path, profile_dir: &Path) -> Result<(Vec<u8>, FileId), Reason> {
    read_regular(&inside(path, profile_dir)?)
}

/// A regular file of at most [`MAX_FILE`] bytes, wherever it is (a profile given on the command
/// line): never a FIFO that blocks or a device that never ends.
pub fn read_regular(path: &Path) -> Result<(Vec<u8>, FileId), Reason> {
    match open_regular(path)? {
        Opened::Regular(file, metadata) => read_opened(file, &metadata),
        Opened::Missing(e) => Err(unreadable(&e)),
        Opened::Other => Err(Reason::NotARegularFile),
    }
}

/// [`read_regular`], or `None` when `path` is not a regular file (nothing there, a folder, a
/// FIFO): one `stat` fewer than asking first.
pub fn read_if_regular(path: &Path) -> Result<Option<(Vec<u8>, FileId)>, Reason> {
    match open_regular(path)? {
        Opened::Regular(file, metadata) => read_opened(file, &metadata).map(Some),
        Opened::Missing(_) | Opened::Other => Ok(None),
    }
}

enum Opened {
    Regular(std::fs::File, std::fs::Metadata),
    Missing(std::io::Error),
    /// A folder, FIFO, device or socket.
    Other,
}

fn unreadable(e: &std::io::Error) -> Reason {
    Reason::Unreadable {
        cause: crate::error::io_reason(e),
    }
}

fn open_regular(path: &Path) -> Result<Opened, Reason> {
    use std::os::unix::fs::OpenOptionsExt as _;
    // Opened without blocking (a FIFO would wait for a writer), then asked what it is: the
    // handle, not the path, so nothing can be swapped in between.
    let nonblocking = i32::try_from(rustix::fs::OFlags::NONBLOCK.bits()).unwrap_or(0);
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nonblocking)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Opened::Missing(e)),
        Err(e) => return Err(unreadable(&e)),
    };
    let metadata = file.metadata().map_err(|e| unreadable(&e))?;
    Ok(match metadata.is_file() {
        true => Opened::Regular(file, metadata),
        false => Opened::Other,
    })
}

fn read_opened(
    file: std::fs::File,
    metadata: &std::fs::Metadata,
) -> Result<(Vec<u8>, FileId), Reason> {
    use std::os::unix::fs::MetadataExt as _;
    let size = usize::try_from(metadata.len().min(MAX_FILE)).unwrap_or(0);
    let mut contents = Vec::with_capacity(size + 1);
    file.take(MAX_FILE + 1)
        .read_to_end(&mut contents)
        .map_err(|e| unreadable(&e))?;
    if contents.len() as u64 > MAX_FILE {
        return Err(Reason::TooLarge { limit: MAX_FILE });
    }
    Ok((contents, (metadata.dev(), metadata.ino())))
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
