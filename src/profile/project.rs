//! The project file, `imggen.toml` in the folder imggen runs in: settings every command reads,
//! so a team's choices need no flag. Today it holds the folders of vendored packs, which
//! `imggen vendor` adds itself.
//!
//! ```toml
//! pack_dirs = ["template-packs"]
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Result;

pub const FILE_NAME: &str = "imggen.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// Folders of template packs every command uses ahead of the built-in ones, after
    /// `--pack-dir`.
    #[serde(default)]
    pub pack_dirs: Vec<PathBuf>,
}

impl Project {
    /// The project file in the working folder; none is an empty project.
    pub fn load() -> Result<Self> {
        Ok(
            crate::output::files::read_toml(Path::new(FILE_NAME), "fix or delete it")?
                .unwrap_or_default(),
        )
    }

    /// `command_line` folders, then the project's (each once).
    pub fn pack_dirs(command_line: &[PathBuf]) -> Result<Vec<PathBuf>> {
        let mut dirs = command_line.to_vec();
        for dir in Self::load()?.pack_dirs {
            // Packs are code imggen runs, and the project file comes with pull requests: only
            // folders inside the project, as for a profile's `pack_dirs`.
            crate::output::confine::dir(&dir, Path::new(".")).map_err(|reason| {
                crate::error::Error::ProfileFile {
                    location: FILE_NAME.to_string(),
                    key: "pack_dirs".to_string(),
                    path: dir.clone(),
                    reason: Box::new(reason),
                }
            })?;
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        Ok(dirs)
    }

    /// Adds `dir` to the project file's `pack_dirs` (creating the file), keeping everything
    /// else in it. Returns whether the file changed.
    pub fn add_pack_dir(dir: &Path) -> Result<bool> {
        let path = Path::new(FILE_NAME);
        let existing = crate::output::files::read_project_file(path)?;
        let text = existing
            .as_ref()
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            .unwrap_or_default();
        let mut doc: toml_edit::DocumentMut =
            text.parse()
                .map_err(|e: toml_edit::TomlError| crate::error::Error::Toml {
                    location: FILE_NAME.to_string(),
                    message: e.message().trim().to_string(),
                })?;
        let shown = dir.to_string_lossy().into_owned();
        let list = doc
            .entry("pack_dirs")
            .or_insert_with(|| toml_edit::value(toml_edit::Array::new()));
        let Some(array) = list.as_array_mut() else {
            return Err(crate::error::Error::Toml {
                location: FILE_NAME.to_string(),
                message: "`pack_dirs` must be a list of folders".into(),
            });
        };
        if array.iter().any(|v| v.as_str() == Some(shown.as_str())) {
            return Ok(false);
        }
        array.push(shown);
        if existing.is_none()
            && let Some(mut key) = doc.as_table_mut().key_mut("pack_dirs")
        {
            key.leaf_decor_mut().set_prefix(
                "# imggen's project settings: every imggen command run in this folder reads them.\n",
            );
        }
        crate::output::files::replace_keeping(path, doc.to_string().as_bytes(), 0o644)?;
        Ok(true)
    }
}
