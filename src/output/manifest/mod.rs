//! The manifest `render` leaves in the output folder: which files imggen wrote, and their hashes.
//!
//! It is how imggen tells its own files (safe to replace or remove) from a user's, and a file
//! edited by hand since the last render from one a template change would alter.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::digest::hash;
use crate::error::Result;
use crate::output::tree::Files;

mod layout;

pub(crate) use layout::read as read_layout;

pub const FILE_NAME: &str = crate::names::MANIFEST_FILE;

/// Whether `path` (relative, `/`-separated) is a name imggen keeps for itself in an output
/// folder: the manifest, or a temporary file's name at any depth (a leftover of an
/// interrupted render, which the next one removes).
pub fn is_reserved(path: &str) -> bool {
    path == FILE_NAME
        || (path.contains(crate::output::files::TEMPORARY)
            && path.split('/').any(crate::output::files::is_temporary))
}

/// What a manifest is read into first (it grows when the manifest is longer):
/// corporate-hardened's, of 17 files, is 2.3 KB.
pub const SIZE_GUESS: usize = 4096;

/// What to do about a manifest that does not parse.
const FIX: &str = "delete it and render again";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub profile: String,
    /// The `-p` and `--set` arguments it was rendered from, as given: what `render`, `check`,
    /// `lint` and `build` use in this folder when given neither.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<String>,
    pub chain: Vec<String>,
    /// Pack name → version.
    pub packs: BTreeMap<String, String>,
    /// Output path → `sha256:<hex>` of what imggen wrote.
    pub files: BTreeMap<String, String>,
    /// Set while a render is replacing files: some may still be the old ones. `check` reports
    /// the folder as incomplete; the next `render` finishes the job.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
    /// While `incomplete`: the hashes of the files being replaced or removed, as they were.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub replacing: BTreeMap<String, String>,
}

impl Manifest {
    /// The manifest of a render, without file hashes: the writer adds them ([`Manifest::with_files`])
    /// when it writes, so a render only compared (`check`) never hashes what it rendered.
    pub fn of(
        files: &Files,
        selection: &crate::profile::Selection,
        profile: &str,
        chain: &[String],
        packs: &crate::pipeline::pack::Packs,
    ) -> Self {
        let mut versions = BTreeMap::new();
        for file in files.values() {
            if let Ok(pack) = packs.get(&file.pack) {
                versions.insert(file.pack.clone(), pack.manifest.version.clone());
            }
        }
        Self {
            profile: profile.to_string(),
            profiles: selection.profiles.clone(),
            sets: selection.sets.clone(),
            chain: chain.to_vec(),
            packs: versions,
            files: BTreeMap::new(),
            incomplete: false,
            replacing: BTreeMap::new(),
        }
    }

    /// This manifest with the hash of every one of `files`.
    pub fn with_files(&self, files: &Files) -> Self {
        let mut out = self.clone();
        out.files = files
            .iter()
            .map(|(path, f)| (path.clone(), hash(&f.contents)))
            .collect();
        out
    }

    /// Whether `path` is a file imggen wrote here, and if so whether `contents` is still what it
    /// wrote (during an interrupted render, either the old or the new version).
    pub fn written(&self, path: &str, contents: &[u8]) -> Option<bool> {
        let recorded: Vec<&String> = [self.files.get(path), self.replacing.get(path)]
            .into_iter()
            .flatten()
            .collect();
        if recorded.is_empty() {
            return None;
        }
        let actual = hash(contents);
        Some(recorded.iter().any(|h| **h == actual))
    }

    /// Every path imggen wrote here (both versions' during an interrupted render).
    pub fn paths(&self) -> impl Iterator<Item = &String> {
        let mut all: Vec<&String> = self.files.keys().chain(self.replacing.keys()).collect();
        all.sort();
        all.dedup();
        all.into_iter()
    }

    pub fn to_text(&self) -> String {
        // Written directly (names, paths and hashes), or by the TOML writer, to the same bytes.
        let body = layout::write(self).unwrap_or_else(|| {
            toml_edit::ser::to_string_pretty(self).expect("the manifest is plain data")
        });
        format!(
            "# Written by imggen: the files it generated in this folder, with their hashes.\n\
             # Do not edit by hand; `imggen render` rewrites it.\n{body}"
        )
    }

    /// The manifest in `dir`, or `None` when there is none.
    pub fn read(dir: &Path) -> Result<Option<Self>> {
        Self::read_bytes(dir, None)?
            .map(|bytes| Self::parse(dir, &bytes))
            .transpose()
    }

    /// The bytes of the manifest in `dir` (through `lock`, the folder's, when held), or `None`
    /// when there is none. Never through a link (what it holds could end up in a message), and
    /// without asking its size first: a manifest of a few dozen files fits [`SIZE_GUESS`].
    pub fn read_bytes(
        dir: &Path,
        lock: Option<&crate::output::files::FolderLock>,
    ) -> Result<Option<Vec<u8>>> {
        crate::output::files::read_output(dir, lock, FILE_NAME, SIZE_GUESS)
    }

    /// The manifest of `dir` from its bytes, already read: in the layout imggen writes, read
    /// without a TOML parser; anything else through it (which also words the errors).
    pub fn parse(dir: &Path, bytes: &[u8]) -> Result<Self> {
        let manifest = match std::str::from_utf8(bytes).ok().and_then(read_layout) {
            Some(manifest) => manifest,
            None => crate::output::files::parse_toml(&dir.join(FILE_NAME), bytes, FIX)?,
        };
        manifest.paths_stay_inside(dir, bytes)?;
        Ok(manifest)
    }

    /// Every path the manifest lists is a file inside the folder: imggen hashes, replaces and
    /// removes by them, and a pull request can edit the manifest (`../../elsewhere` would name
    /// a file outside the folder).
    fn paths_stay_inside(&self, dir: &Path, bytes: &[u8]) -> Result<()> {
        let Some(path) = self
            .files
            .keys()
            .chain(self.replacing.keys())
            .find(|path| !crate::pipeline::pack::stays_inside(path))
        else {
            return Ok(());
        };
        let text = String::from_utf8_lossy(bytes);
        let line = text
            .lines()
            .position(|line| line.contains(path.as_str()))
            .map_or(1, |index| index + 1);
        Err(crate::error::Error::ManifestPath {
            manifest: dir.join(FILE_NAME),
            line,
            path: path.clone(),
        })
    }
}
