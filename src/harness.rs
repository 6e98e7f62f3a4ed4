//! Entry points for the fuzz target and the benchmarks: the pipeline's stages, callable from
//! outside the crate. Not a stable API; the command line is.

use std::path::Path;

use crate::pipeline::pack::Packs;
use crate::pipeline::run::render;
use crate::profile::{Selection, load, load_text};

/// Built-in packs, loaded and their templates parsed: done once, then reused.
pub struct Harness {
    packs: std::sync::Arc<Packs>,
}

impl Harness {
    pub fn new() -> Self {
        Self {
            packs: Packs::builtin().expect("built-in packs are valid"),
        }
    }

    /// Loads and resolves a built-in profile (no rendering); returns the layer count.
    pub fn resolve(&self, profile: &str) -> Result<usize, String> {
        let stack = load(&Selection::of(profile)).map_err(|e| e.to_string())?;
        crate::pipeline::resolve::resolve(&stack, &crate::registry::lock::Lockfile::default())
            .map_err(|e| e.to_string())?;
        Ok(stack.chain.len())
    }

    /// Renders a built-in profile with only `pack`; returns the bytes rendered.
    pub fn render_pack(&self, profile: &str, pack: &str) -> Result<usize, String> {
        let selection = Selection {
            profiles: vec![profile.into()],
            sets: vec![format!("packs=[\"{pack}\"]")],
        };
        let stack = load(&selection).map_err(|e| e.to_string())?;
        let files = render(&self.packs, &stack).map_err(|e| e.to_string())?;
        Ok(files.values().map(|f| f.contents.len()).sum())
    }

    /// Profile text (and `--set`s) through the whole pipeline; returns the files rendered.
    pub fn render_text(&self, text: &str, sets: &[String]) -> Result<usize, String> {
        let stack = load_text("input", text, sets).map_err(|e| e.to_string())?;
        let files = render(&self.packs, &stack).map_err(|e| e.to_string())?;
        Ok(files.len())
    }

    /// Renders a built-in profile and compares it with `dir`; returns whether it is in sync.
    pub fn check(&self, profile: &str, dir: &Path) -> Result<bool, String> {
        let stack = load(&Selection::of(profile)).map_err(|e| e.to_string())?;
        let files = render(&self.packs, &stack).map_err(|e| e.to_string())?;
        Ok(crate::output::check::compare(&files, dir)
            .map_err(|e| e.to_string())?
            .is_clean())
    }
}

/// Every built-in pack loaded afresh (not the process's shared copy) and all their templates
/// parsed: what the first render of a process pays for every pack. Returns the packs loaded.
pub fn load_packs() -> usize {
    let packs = Packs::load(&[]).expect("built-in packs are valid");
    let names: Vec<String> = packs.names().map(str::to_string).collect();
    packs.tera_for(&names).expect("templates parse");
    names.len()
}

/// A manifest's bytes through both of its readers: the strict one for the layout imggen writes,
/// and the TOML parser. `Err` when the strict reader answers and the parser disagrees (what
/// the fuzz target `manifest` looks for); otherwise whether the strict reader answered.
pub fn manifest_readers_agree(bytes: &[u8]) -> Result<bool, String> {
    let Some(fast) = std::str::from_utf8(bytes)
        .ok()
        .and_then(crate::output::manifest::read_layout)
    else {
        return Ok(false);
    };
    let parsed: Option<crate::output::manifest::Manifest> =
        toml_edit::de::from_str(&String::from_utf8_lossy(bytes)).ok();
    match parsed {
        Some(parsed) if parsed == fast => Ok(true),
        other => Err(format!(
            "the strict reader read {fast:?}, the parser {other:?}"
        )),
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

/// What `apply` reads and writes of one key in a `.env` text ([`dotenv_read_and_set`]).
pub struct DotenvRewrite {
    /// The value `docker compose` would give the key, as imggen reads it (`dotenv::value`).
    pub read: Option<Vec<u8>>,
    /// The text with the key set, dropping the values replaced.
    pub dropped: Vec<u8>,
    /// The same, keeping them as comments.
    pub commented: Vec<u8>,
}

/// `key` read in the `.env` text and set to `value` as `apply` writes it (`dotenv::set`), both
/// ways; `Err(line)` when Compose cannot read the text either (the line where it stops). For the
/// differential test against the real Compose (`scripts/validate/dotenv_differential.py`).
pub fn dotenv_read_and_set(text: &[u8], key: &str, value: &str) -> Result<DotenvRewrite, usize> {
    use crate::platform::dotenv::{self, Earlier};
    let set = |earlier| dotenv::set(text, key, value, earlier).map_err(|u| u.line);
    Ok(DotenvRewrite {
        read: dotenv::value(text, key)
            .map_err(|u| u.line)?
            .map(std::borrow::Cow::into_owned),
        dropped: set(Earlier::Dropped)?,
        commented: set(Earlier::Commented)?,
    })
}
