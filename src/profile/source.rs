//! Finding profile files: built-in ones embedded in the binary, and ones on disk that shadow them.

use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use crate::error::{Error, Reason, Result};

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/profiles");

/// The folder, relative to the working directory, whose profiles shadow the built-in ones.
pub const LOCAL_DIR: &str = "profiles";

/// One profile file's text and where it came from.
#[derive(Debug, Clone)]
pub struct Source {
    /// Name shown in headers and `list` (the file stem).
    pub name: String,
    /// Label used in messages and provenance: `corporate-hardened.toml` or the path on disk.
    pub label: String,
    /// Identity used to detect cycles and repeated layers.
    pub id: String,
    /// Folder that relative paths in the file are resolved against (`.` for built-ins).
    pub base_dir: PathBuf,
    pub text: String,
    pub builtin: bool,
}

/// The example CA certificate the built-in corporate profile names (its key was thrown away):
/// a placeholder, never a real organisation's.
pub fn example_ca() -> &'static [u8] {
    BUILTIN
        .get_file("certs/example-corporate-ca.crt")
        .expect("the built-in profiles ship the example CA")
        .contents()
}

/// Names of the built-in profiles, sorted.
pub fn builtin_names() -> Vec<String> {
    let mut names: Vec<String> = BUILTIN
        .files()
        .filter_map(|f| f.path().to_str()?.strip_suffix(".toml").map(str::to_string))
        .collect();
    names.sort();
    names
}

pub fn builtin(name: &str) -> Option<Source> {
    let file = BUILTIN.get_file(format!("{name}.toml"))?;
    let text = file.contents_utf8()?.to_string();
    Some(Source {
        name: name.to_string(),
        label: format!("{name}.toml"),
        id: format!("builtin:{name}"),
        base_dir: PathBuf::from("."),
        text,
        builtin: true,
    })
}

/// A file shipped beside the built-in profiles (e.g. the example CA certificate).
pub fn builtin_file(path: &Path) -> Option<&'static [u8]> {
    BUILTIN.get_file(path).map(|f| f.contents())
}

/// Whether a reference is a path (contains a separator or ends in `.toml`) rather than a name.
fn is_path(reference: &str) -> bool {
    reference.contains('/') || reference.contains('\\') || reference.ends_with(".toml")
}

/// Whether a profile reference read from an output folder's manifest stays inside the project
/// of the working folder (see `confine`): a name does; a path must lead there, links followed.
/// The manifest comes with the folder, in pull requests, so it could name any file on the
/// machine for `check` to read as a profile.
pub fn inside_project(reference: &str) -> bool {
    if !is_path(reference) || reference.starts_with("builtin:") {
        return true;
    }
    // Nothing there (unreadable): `find` says so, reading nothing.
    !matches!(
        crate::output::confine::inside(Path::new(reference), Path::new(".")),
        Err(Reason::OutsideProject)
    )
}

/// The file a `-p` names for the commands that write profiles (`init`, `set`, `unset`): a bare
/// name is `./profiles/NAME.toml`, where `render -p NAME` finds it; a path is that path.
pub fn file_for(reference: &Path) -> PathBuf {
    let text = reference.to_string_lossy();
    if is_path(&text) {
        reference.to_path_buf()
    } else {
        Path::new(LOCAL_DIR).join(format!("{text}.toml"))
    }
}

/// The name `-p NAME` finds the profile file at `path` by (`custom` for
/// `profiles/custom.toml`), when it is one of `./profiles/`'s; `None` for any other path.
pub fn name_for(path: &Path) -> Option<String> {
    let spelled: PathBuf = path
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    let name = spelled.file_stem()?.to_str()?;
    let found = !is_path(name) && !name.chars().any(char::is_control);
    (found && file_for(Path::new(name)) == spelled).then(|| name.to_string())
}

/// The built-in profile a profile file at `path` would shadow: the one `render -p NAME` stops
/// finding once `profiles/NAME.toml` exists.
pub fn shadowed_builtin(path: &Path) -> Option<String> {
    let name = name_for(path)?;
    builtin(&name).map(|_| name)
}

/// Finds the profile `reference` names.
///
/// A path is read from disk, relative to `relative_to`. A name is looked up in `./profiles/` first,
/// then among the built-ins; `builtin:NAME` skips the disk. A disk profile that extends its own
/// name (`profiles/debian-prebuilt.toml` with `extends = "debian-prebuilt"`) gets the built-in.
///
/// `from` is the profile whose `extends` names it (`None` for the command line's): a file a
/// profile names must stay inside that profile's project (see `confine`).
pub fn find(reference: &str, relative_to: &Path, from: Option<&Source>) -> Result<Source> {
    if let Some(name) = reference.strip_prefix("builtin:") {
        return builtin(name).ok_or_else(|| unknown(name));
    }
    if !is_path(reference) && reference.chars().any(char::is_control) {
        // A name is a file name in `./profiles/` (it comes with pull requests), names the
        // profile's folder under `render --all`, and is printed.
        return Err(Error::ControlInProfileName {
            name: reference.to_string(),
        });
    }
    if is_path(reference) {
        let path = relative_to.join(reference);
        if !path.exists() {
            return Err(refused(&path, from, Reason::NoSuchFile));
        }
        return from_disk(&path, from);
    }
    let local = Path::new(LOCAL_DIR).join(format!("{reference}.toml"));
    let found = match from {
        // Named on the command line: opened straight away, not asked for first.
        None => crate::output::confine::read_if_regular(&local)
            .map_err(|reason| refused(&local, from, reason))?
            .map(|read| from_bytes(&local, from, read))
            .transpose()?,
        Some(_) if local.is_file() => Some(from_disk(&local, from)?),
        Some(_) => None,
    };
    if let Some(source) = found
        && Some(source.id.as_str()) != from.map(|f| f.id.as_str())
    {
        return Ok(source);
    }
    builtin(reference).ok_or_else(|| match from {
        // Named by a profile's `extends`: the error points at that line.
        Some(from) => {
            let known = known_names();
            let suggestion = crate::suggest::closest(reference, known.iter().map(String::as_str))
                .map(str::to_string);
            Error::invalid(
                from.extends_location(),
                "extends",
                reference,
                Reason::UnknownProfileName { suggestion, known },
            )
        }
        None => unknown(reference),
    })
}

/// Names of the profiles in `./profiles/` (file stems of its `.toml` files), unsorted.
pub fn local_names() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(LOCAL_DIR) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .filter_map(|path| {
            path.file_stem()
                .and_then(|s| s.to_str())
                .map(str::to_string)
        })
        .collect()
}

/// Every profile a name can select: built-in ones and those in `./profiles/`, sorted, each once.
pub fn known_names() -> Vec<String> {
    let mut names = builtin_names();
    names.extend(local_names());
    names.sort();
    names.dedup();
    names
}

fn unknown(name: &str) -> Error {
    Error::UnknownProfile {
        name: name.to_string(),
        available: known_names(),
    }
}

/// Why the profile file at `path` (named on the command line, or by `from`'s `extends`) cannot
/// be used.
fn refused(path: &Path, from: Option<&Source>, reason: Reason) -> Error {
    Error::ProfileFile {
        location: from.map_or_else(|| "command line".to_string(), Source::extends_location),
        key: if from.is_some() {
            "extends"
        } else {
            "--profile"
        }
        .into(),
        path: PathBuf::from(clean(path)),
        reason: Box::new(reason),
    }
}

/// The profile file at `path`, which the caller has seen exists.
fn from_disk(path: &Path, from: Option<&Source>) -> Result<Source> {
    let read = match from {
        Some(from) => crate::output::confine::read_profile(path, &from.base_dir),
        None => crate::output::confine::read_regular(path),
    };
    from_bytes(
        path,
        from,
        read.map_err(|reason| refused(path, from, reason))?,
    )
}

/// The profile file at `path`, read.
fn from_bytes(
    path: &Path,
    from: Option<&Source>,
    (bytes, file): (Vec<u8>, crate::output::confine::FileId),
) -> Result<Source> {
    let text = String::from_utf8(bytes).map_err(|_| refused(path, from, Reason::NotUtf8))?;
    Ok(source_at(path, text, file_id(file)))
}

impl Source {
    /// `org.toml:3`: where this profile's `extends` is written.
    fn extends_location(&self) -> String {
        let line = self
            .text
            .lines()
            .position(|l| l.trim_start().starts_with("extends"))
            .map_or(1, |i| i + 1);
        format!("{}:{line}", self.label)
    }
}

/// A profile file at `path` with `text`, about to be written to it.
pub fn with_text(path: &Path, text: String) -> Source {
    use std::os::unix::fs::MetadataExt as _;
    // The file it will replace is the one it is, if there is one: as `from_bytes` names it.
    let id = match std::fs::metadata(path) {
        Ok(metadata) => file_id((metadata.dev(), metadata.ino())),
        Err(_) => {
            let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            format!("path:{}", path.display())
        }
    };
    source_at(path, text, id)
}

/// A profile's identity, for finding cycles: the file itself, however a profile names it.
fn file_id((device, inode): crate::output::confine::FileId) -> String {
    format!("file:{device}:{inode}")
}

fn source_at(path: &Path, text: String, id: String) -> Source {
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("profile")
        .to_string();
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Source {
        name,
        label: clean(path),
        id,
        base_dir: if base_dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base_dir
        },
        text,
        builtin: false,
    }
}

/// A path as the user would write it: without a leading `./`.
pub fn clean(path: &Path) -> String {
    let mut text = path.display().to_string();
    while let Some(rest) = text.strip_prefix("./") {
        text = rest.to_string();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_in_the_profiles_folder_is_named_as_render_finds_it() {
        let name = |path: &str| name_for(Path::new(path));
        assert_eq!(name("profiles/custom.toml").as_deref(), Some("custom"));
        assert_eq!(name("./profiles/custom.toml").as_deref(), Some("custom"));
        assert_eq!(name("profiles/./v1.2.toml").as_deref(), Some("v1.2"));
        for elsewhere in [
            "custom.toml",
            "other/custom.toml",
            "profiles/team/custom.toml",
            "/work/profiles/custom.toml",
            "../profiles/custom.toml",
            "profiles/x.toml.toml",
            "profiles/custom.yaml",
        ] {
            assert_eq!(name(elsewhere), None, "{elsewhere}");
        }
        // Every name given is found at the file it names.
        let found = name("profiles/custom.toml").expect("named");
        assert_eq!(
            file_for(Path::new(&found)),
            Path::new("profiles/custom.toml")
        );
    }
}
