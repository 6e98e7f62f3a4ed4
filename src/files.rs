//! Small file helpers shared by the modules that read and write imggen's own files.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The file's bytes, or `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(contents) => Ok(Some(contents)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::read(path, e)),
    }
}

/// A TOML file imggen wrote (manifest, vendor record), or `None` when it does not exist.
/// `fix` says what to do when it does not parse.
pub fn read_toml<T: DeserializeOwned>(path: &Path, fix: &str) -> Result<Option<T>> {
    let Some(bytes) = read_optional(path)? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes);
    toml_edit::de::from_str(&text)
        .map(Some)
        .map_err(|e| Error::Toml {
            location: path.display().to_string(),
            message: format!("{} ({fix})", e.message().trim()),
        })
}

/// Writes `contents` to a temporary file beside `target`, then renames it into place, so the
/// target is never half-written.
pub fn write_atomic(target: &Path, contents: &[u8], executable: bool) -> Result<()> {
    write_atomic_mode(target, contents, if executable { 0o755 } else { 0o644 })
}

/// [`write_atomic`] with the given permission bits (a `.env` that holds secrets keeps its own).
pub fn write_atomic_mode(target: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let fail = |e| Error::Write {
        path: target.to_path_buf(),
        source: e,
    };
    let folder = target
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&folder).map_err(fail)?;
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    let temp = folder.join(format!(".{name}.imggen-tmp"));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        set_mode(&temp, mode)?;
        std::fs::rename(&temp, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(fail)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

/// The permission bits of an existing file, if it exists.
#[cfg(unix)]
pub fn mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
pub fn mode_of(_: &Path) -> Option<u32> {
    None
}
