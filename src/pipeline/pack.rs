//! Template packs: a `pack.toml` plus Tera templates, from the binary or (later) from disk.
//!
//! Built-in and on-disk packs become the same thing early: a manifest and a list of
//! `(path inside the pack, contents)` pairs. Templates are registered with Tera as
//! `<pack>/<path>`, so Tera's reports point at the real file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde::Deserialize;

use crate::data::Data;
use crate::error::{Error, Reason, Result};
use crate::pipeline::filters;

/// The record a vendored pack keeps of where it came from.
pub const VENDOR_RECORD: &str = ".imggen-vendor.toml";

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/template-packs");

/// The pack of shared components every other pack may use; it renders nothing itself.
pub const COMMON: &str = "common";

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub description: String,
    pub outputs: Vec<Output>,
    pub copies: Vec<Copy>,
    /// Data the templates read as `pack.vars` (package lists per distro and the like).
    pub vars: BTreeMap<String, Data>,
}

/// `pack.toml` as written. A pack on disk with `extends = "builtin:NAME"` gives only what it
/// changes; everything else comes from that built-in pack.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    extends: Option<String>,
    name: Option<String>,
    version: Option<String>,
    description: Option<String>,
    outputs: Option<Vec<Output>>,
    copies: Option<Vec<Copy>>,
    vars: Option<BTreeMap<String, Data>>,
}

impl RawManifest {
    fn complete(self, base: Option<&Manifest>) -> std::result::Result<Manifest, Reason> {
        let missing = |key: &'static str| Reason::ManifestLacks { key };
        Ok(Manifest {
            name: self
                .name
                .or(base.map(|b| b.name.clone()))
                .ok_or_else(|| missing("name"))?,
            version: self
                .version
                .or(base.map(|b| b.version.clone()))
                .ok_or_else(|| missing("version"))?,
            description: self
                .description
                .or(base.map(|b| b.description.clone()))
                .unwrap_or_default(),
            outputs: self
                .outputs
                .or(base.map(|b| b.outputs.clone()))
                .unwrap_or_default(),
            copies: self
                .copies
                .or(base.map(|b| b.copies.clone()))
                .unwrap_or_default(),
            vars: self
                .vars
                .or(base.map(|b| b.vars.clone()))
                .unwrap_or_default(),
        })
    }
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

/// One file of a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackFile {
    /// The name Tera knows it by, which is also where it is shown to come from:
    /// `python-runtime/Dockerfile.tera` for a built-in, the real path for a pack on disk.
    pub shown_as: String,
    pub contents: String,
}

#[derive(Debug, Clone)]
pub struct Pack {
    pub manifest: Manifest,
    /// Where the pack lives: its name for a built-in, its folder for a pack on disk.
    pub root: String,
    /// Shipped inside imggen (not a folder on disk).
    pub builtin: bool,
    /// Path inside the pack → file, sorted by path.
    pub files: BTreeMap<String, PackFile>,
    /// What templates see as `pack`, converted for Tera once and shared by every render.
    info: std::sync::OnceLock<tera::Value>,
}

/// The `pack` variable of a template: the pack's name, version and `[vars]`.
#[derive(serde::Serialize)]
struct PackInfo<'a> {
    name: &'a str,
    version: &'a str,
    vars: &'a BTreeMap<String, Data>,
}

impl Pack {
    /// A pack from its files; `folder` is its name, `root` where it is shown to live.
    fn from_files(
        folder: &str,
        root: &str,
        files: Vec<(String, String)>,
        builtins: Option<&BTreeMap<String, Pack>>,
    ) -> Result<Self> {
        let bad = |reason: Reason| Error::pack(root, reason);
        let text = files
            .iter()
            .find(|(path, _)| path == "pack.toml")
            .map(|(_, text)| text.clone())
            .ok_or_else(|| bad(Reason::NoManifest))?;
        let raw: RawManifest = toml::from_str(&text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            let (line, column) = crate::profile::line_col(&text, offset);
            Error::Toml {
                location: format!("{root}/pack.toml:{line}:{column}"),
                message: crate::profile::reword(e.message()),
            }
        })?;
        let base = match (&raw.extends, builtins) {
            (None, _) => None,
            (Some(extends), Some(builtins)) => {
                let name = extends.strip_prefix("builtin:").ok_or_else(|| {
                    bad(Reason::ExtendsNotBuiltin {
                        extends: extends.clone(),
                    })
                })?;
                Some(builtins.get(name).ok_or_else(|| {
                    bad(Reason::ExtendsUnknown {
                        name: name.to_string(),
                        known: builtins.keys().cloned().collect(),
                    })
                })?)
            }
            (Some(_), None) => return Err(bad(Reason::BuiltinExtends)),
        };
        let manifest = raw.complete(base.map(|b| &b.manifest)).map_err(bad)?;
        if manifest.name != folder {
            return Err(bad(Reason::FolderName {
                name: manifest.name,
            }));
        }
        for output in &manifest.outputs {
            check_output_path(root, &output.path)?;
        }
        for copy in &manifest.copies {
            check_output_path(root, &copy.into)?;
        }
        let mut all = base.map(|b| b.files.clone()).unwrap_or_default();
        for (path, contents) in files {
            let shown_as = format!("{root}/{path}");
            all.insert(path, PackFile { shown_as, contents });
        }
        for output in &manifest.outputs {
            if !all.contains_key(&output.template) {
                return Err(bad(Reason::MissingTemplate {
                    output: output.path.clone(),
                    template: output.template.clone(),
                }));
            }
        }
        Ok(Self {
            manifest,
            root: root.to_string(),
            builtin: builtins.is_none(),
            files: all,
            info: std::sync::OnceLock::new(),
        })
    }

    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// The `pack` variable templates see (name, version, vars).
    pub fn info(&self) -> tera::Value {
        self.info
            .get_or_init(|| {
                let m = &self.manifest;
                tera::Value::from_serializable(&PackInfo {
                    name: &m.name,
                    version: &m.version,
                    vars: &m.vars,
                })
            })
            .clone()
    }

    /// The name Tera knows `template` by.
    pub fn template_name(&self, template: &str) -> String {
        self.files.get(template).map_or_else(
            || format!("{}/{template}", self.root),
            |f| f.shown_as.clone(),
        )
    }

    /// The name under which condition `index` (outputs first, then copies) is registered.
    pub fn condition_name(&self, kind: &str, index: usize) -> String {
        format!("{}/pack.toml#{kind}[{index}].when", self.root)
    }
}

/// Whether `path` names a place inside a folder: relative, without `..`, `.` or empty parts
/// (an output path inside the output folder, a file inside a vendored pack).
pub fn stays_inside(path: &str) -> bool {
    !(path.is_empty()
        || path.starts_with('/')
        || path.starts_with('\\')
        || path.contains(':')
        || path
            .split(['/', '\\'])
            .any(|part| part == ".." || part == "." || part.is_empty()))
}

/// An output path must stay inside the output folder.
fn check_output_path(pack: &str, path: &str) -> Result<()> {
    if !stays_inside(path) {
        return Err(Error::pack(
            pack,
            Reason::OutputPathEscapes {
                path: path.to_string(),
            },
        ));
    }
    Ok(())
}

/// Every pack this binary knows, loaded once. Templates are parsed only for the packs a render
/// uses: one Tera instance per distinct list of packs (with the shared components), made on
/// first use and kept.
pub struct Packs {
    packs: BTreeMap<String, Pack>,
    /// The digest of the packs on disk these were loaded from (each folder's name, where it
    /// is, and its files): with imggen's own build (the built-in packs), all a render takes
    /// from its packs.
    pub inputs: String,
    teras: std::sync::Mutex<BTreeMap<Vec<String>, std::sync::Arc<tera::Tera>>>,
}

impl Packs {
    /// The built-in packs, loaded once per process and shared: every render without pack
    /// folders uses them, their parsed templates are kept for the next render, and they are
    /// never torn down (the process ends with them).
    pub fn builtin() -> Result<std::sync::Arc<Self>> {
        static BUILTIN_PACKS: std::sync::OnceLock<std::sync::Arc<Packs>> =
            std::sync::OnceLock::new();
        if let Some(packs) = BUILTIN_PACKS.get() {
            return Ok(packs.clone());
        }
        let packs = std::sync::Arc::new(Self::load(&[])?);
        Ok(BUILTIN_PACKS.get_or_init(|| packs).clone())
    }

    /// The built-in packs, then each folder of packs in `dirs`: a pack on disk replaces the
    /// built-in of the same name (or extends it).
    pub fn load(dirs: &[PathBuf]) -> Result<Self> {
        let mut packs = BTreeMap::new();
        for dir in BUILTIN.dirs() {
            let folder = dir.path().to_string_lossy().to_string();
            let mut files = Vec::new();
            collect(dir, dir.path(), &mut files);
            files.sort();
            packs.insert(
                folder.clone(),
                Pack::from_files(&folder, &folder, files, None)?,
            );
        }
        let builtins = packs.clone();
        let mut inputs = crate::digest::Fields::new("imggen packs on disk");
        for dir in dirs {
            for (folder, root) in pack_folders(dir)? {
                let files = read_pack_folder(&root)?;
                let shown = crate::profile::source::clean(&root);
                inputs.add("pack").add(&folder).add(&shown);
                for (path, contents) in &files {
                    inputs.add(path).add(contents);
                }
                packs.insert(
                    folder.clone(),
                    Pack::from_files(&folder, &shown, files, Some(&builtins))?,
                );
            }
        }
        Self::from_packs(packs, inputs.finish())
    }

    fn from_packs(packs: BTreeMap<String, Pack>, inputs: String) -> Result<Self> {
        Ok(Self {
            packs,
            inputs,
            teras: std::sync::Mutex::new(BTreeMap::new()),
        })
    }

    /// The templates of `names` (and the shared components), parsed once per list.
    pub fn tera_for(&self, names: &[String]) -> Result<std::sync::Arc<tera::Tera>> {
        let mut key: Vec<String> = names.to_vec();
        key.push(COMMON.to_string());
        key.sort();
        key.dedup();
        let mut teras = self
            .teras
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(tera) = teras.get(&key) {
            return Ok(tera.clone());
        }
        let mut selected = Vec::new();
        for name in &key {
            selected.push(self.get(name)?);
        }
        let tera = std::sync::Arc::new(Self::parse(selected)?);
        teras.insert(key, tera.clone());
        Ok(tera)
    }

    /// Whether the packs `names` (with the shared components) are all built into imggen.
    pub fn builtin_only(&self, names: &[String]) -> bool {
        names
            .iter()
            .map(String::as_str)
            .chain([COMMON])
            .all(|name| self.packs.get(name).is_some_and(|pack| pack.builtin))
    }

    fn parse<'a>(packs: impl IntoIterator<Item = &'a Pack>) -> Result<tera::Tera> {
        let mut tera = tera::Tera::new();
        tera.autoescape_on(Vec::<&str>::new());
        filters::register(&mut tera);
        let mut templates: Vec<(String, String)> = Vec::new();
        for pack in packs {
            for (path, file) in &pack.files {
                if path.ends_with(".tera") {
                    templates.push((file.shown_as.clone(), file.contents.clone()));
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
        Ok(tera)
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

/// The pack folders (those with a `pack.toml`) directly inside `dir`, sorted.
fn pack_folders(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::read(dir, e))?;
    let mut folders = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::read(dir, e))?;
        let path = entry.path();
        if path.join("pack.toml").is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            folders.push((name, path));
        }
    }
    folders.sort();
    Ok(folders)
}

/// Every file of a pack folder on disk, found with walkdir in a stable order. Symbolic links
/// are refused: a pack must not reach outside its folder.
fn read_pack_folder(root: &Path) -> Result<Vec<(String, String)>> {
    let shown = crate::profile::source::clean(root);
    let bad = |reason: Reason| Error::pack(shown.clone(), reason);
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| Error::read(root, e.into()))?;
        let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let relative = relative.to_string_lossy().replace('\\', "/");
        if entry.path_is_symlink() {
            return Err(bad(Reason::Symlink { path: relative }));
        }
        if !entry.file_type().is_file() || relative == VENDOR_RECORD {
            continue;
        }
        // Read as a profile is: a regular file of at most 1 MiB (a pack comes with pull
        // requests too), and text.
        let file_error = |reason: Reason| {
            bad(Reason::PackFile {
                path: relative.clone(),
                reason: Box::new(reason),
            })
        };
        let (bytes, _) = crate::output::confine::read_regular(entry.path()).map_err(file_error)?;
        let contents = String::from_utf8(bytes).map_err(|_| file_error(Reason::NotUtf8))?;
        files.push((relative, contents));
    }
    Ok(files)
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
        // One pack per role imggen builds, named after it, and the compose pack.
        let mut expected: Vec<&str> = crate::role::built().map(|r| r.name).collect();
        expected.push("compose");
        expected.sort_unstable();
        assert_eq!(names, expected);
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
