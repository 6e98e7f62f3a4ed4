//! Template packs: a `pack.toml` plus Tera templates, from the binary or (later) from disk.
//!
//! Built-in and on-disk packs become the same thing early: a manifest and a list of
//! `(path inside the pack, contents)` pairs. Templates are registered with Tera as
//! `<pack>/<path>`, so Tera's reports point at the real file.

use std::collections::BTreeMap;

use include_dir::{Dir, include_dir};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::filters;

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/template-packs");

/// The pack of shared components every other pack may use; it renders nothing itself.
pub const COMMON: &str = "common";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub description: String,
    #[serde(default)]
    pub outputs: Vec<Output>,
    #[serde(default)]
    pub copies: Vec<Copy>,
    /// Data the templates read as `pack.vars` (package lists per distro and the like).
    #[serde(default)]
    pub vars: BTreeMap<String, Data>,
}

/// Plain TOML data, as a pack's `[vars]` holds it.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(untagged)]
pub enum Data {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    List(Vec<Data>),
    Table(BTreeMap<String, Data>),
}

/// One template rendered to one output file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    pub template: String,
    pub path: String,
    /// A Tera expression over the render context; the output is skipped when it is false.
    #[serde(default)]
    pub when: Option<String>,
    /// Unix file mode written into the manifest and used when writing (e.g. `0o755` scripts).
    #[serde(default)]
    pub executable: bool,
}

/// Files the profile names (a group such as `ca_certificates`) copied into the output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Copy {
    pub files: String,
    pub into: String,
    #[serde(default)]
    pub when: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Pack {
    pub manifest: Manifest,
    /// `(path inside the pack, contents)`, sorted by path.
    pub files: Vec<(String, String)>,
}

impl Pack {
    fn from_files(folder: &str, files: Vec<(String, String)>) -> Result<Self> {
        let bad = |reason: String| Error::Pack {
            pack: folder.to_string(),
            reason,
        };
        let text = files
            .iter()
            .find(|(path, _)| path == "pack.toml")
            .map(|(_, text)| text.clone())
            .ok_or_else(|| bad("has no `pack.toml`".into()))?;
        let manifest: Manifest = toml_edit::de::from_str(&text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            let (line, column) = crate::profile::line_col(&text, offset);
            Error::Toml {
                location: format!("{folder}/pack.toml:{line}:{column}"),
                message: e.message().trim().to_string(),
            }
        })?;
        if manifest.name != folder {
            return Err(bad(format!("`pack.toml` names it `{}`", manifest.name)));
        }
        for output in &manifest.outputs {
            check_output_path(folder, &output.path)?;
        }
        for copy in &manifest.copies {
            check_output_path(folder, &copy.into)?;
        }
        Ok(Self { manifest, files })
    }

    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    pub fn template_name(&self, template: &str) -> String {
        format!("{}/{template}", self.name())
    }

    /// The name under which output `index`'s condition is registered.
    pub fn condition_name(&self, kind: &str, index: usize) -> String {
        format!("{}/pack.toml#{kind}[{index}].when", self.name())
    }
}

/// An output path must stay inside the output folder.
fn check_output_path(pack: &str, path: &str) -> Result<()> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path.starts_with('\\')
        || path.contains(':')
        || path
            .split(['/', '\\'])
            .any(|part| part == ".." || part == "." || part.is_empty());
    if bad {
        return Err(Error::Pack {
            pack: pack.to_string(),
            reason: format!(
                "output path `{path}` must be a relative path inside the output folder, without \
                 `..`, `.` or empty parts"
            ),
        });
    }
    Ok(())
}

/// Every pack this binary knows, loaded once, with one Tera instance over all their templates.
pub struct Packs {
    packs: BTreeMap<String, Pack>,
    pub tera: tera::Tera,
}

impl Packs {
    pub fn builtin() -> Result<Self> {
        let mut packs = BTreeMap::new();
        for dir in BUILTIN.dirs() {
            let folder = dir.path().to_string_lossy().to_string();
            let mut files = Vec::new();
            collect(dir, dir.path(), &mut files);
            files.sort();
            packs.insert(folder.clone(), Pack::from_files(&folder, files)?);
        }
        Self::from_packs(packs)
    }

    fn from_packs(packs: BTreeMap<String, Pack>) -> Result<Self> {
        let mut tera = tera::Tera::new();
        tera.autoescape_on(Vec::<&str>::new());
        filters::register(&mut tera);
        let mut templates: Vec<(String, String)> = Vec::new();
        for pack in packs.values() {
            for (path, text) in &pack.files {
                if path.ends_with(".tera") {
                    templates.push((pack.template_name(path), text.clone()));
                }
            }
            let conditions = pack.manifest.outputs.iter().map(|o| ("outputs", &o.when));
            let copies = pack.manifest.copies.iter().map(|c| ("copies", &c.when));
            for (index, (kind, when)) in conditions.chain(copies).enumerate() {
                if let Some(expr) = when {
                    let name = pack.condition_name(kind, index);
                    templates.push((name, format!("{{% if {expr} %}}true{{% endif %}}")));
                }
            }
        }
        tera.add_raw_templates(templates)?;
        Ok(Self { packs, tera })
    }

    pub fn get(&self, name: &str) -> Result<&Pack> {
        self.packs.get(name).ok_or_else(|| Error::UnknownPack {
            name: name.to_string(),
            available: self.names().map(str::to_string).collect(),
        })
    }

    /// Names of the packs a profile can list (every pack but the shared components).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.packs
            .keys()
            .map(String::as_str)
            .filter(|n| *n != COMMON)
    }

    pub fn all(&self) -> impl Iterator<Item = &Pack> {
        self.packs.values().filter(|p| p.name() != COMMON)
    }
}

fn collect(dir: &Dir<'_>, root: &std::path::Path, out: &mut Vec<(String, String)>) {
    for file in dir.files() {
        let relative = file.path().strip_prefix(root).unwrap_or(file.path());
        let text = file.contents_utf8().unwrap_or_default().to_string();
        out.push((relative.to_string_lossy().replace('\\', "/"), text));
    }
    for sub in dir.dirs() {
        collect(sub, root, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_packs_load() {
        let packs = Packs::builtin().expect("built-in packs are valid");
        let names: Vec<&str> = packs.names().collect();
        assert_eq!(
            names,
            ["compose", "kerberos-test", "postgres", "python-runtime"]
        );
    }

    #[test]
    fn output_paths_stay_inside_the_output_folder() {
        for path in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "",
            "C:/x",
        ] {
            assert!(check_output_path("p", path).is_err(), "{path}");
        }
        assert!(check_output_path("p", "python-runtime/Dockerfile").is_ok());
    }
}
