//! The source's layers, checked against its imports: a module names (`use crate::…`,
//! `crate::…` paths) only modules of the layers below its own, and every module is in the
//! table. One table, here; CONTRIBUTING.md describes it. A module is a file (`src/error.rs`,
//! `src/output/write.rs`) or a folder inside a subsystem (`src/images/engine/`); a subsystem's
//! `mod.rs` is its face: what it owns, in words, and its modules.

use std::path::{Path, PathBuf};

/// The crate's layers, bottom first. A module of a layer imports nothing of its own layer or
/// above.
const LAYERS: &[&[&str]] = &[
    // Vocabulary every part shares: names, roles, plain data, text tools, the in-memory render,
    // the quoting filters, the Dockerfile reader, image references.
    &[
        "names",
        "digest",
        "role",
        "data",
        "parallel",
        "suggest",
        "output::tree",
        "output::diff",
        "pipeline::filters",
        "images::dockerfile",
        "registry::reference",
        "cli::merge",
        "platform::yaml_lines",
    ],
    // The one error type and all of its wording; the typed profile; the wizard's saved answers.
    &["error", "profile::model", "platform::wizard_config"],
    // The platform's table, confined paths, `.env` files, in-memory checks of a render, profile
    // selection and `--set`.
    &[
        "platform::checkout",
        "output::confine",
        "platform::dotenv",
        "pipeline::verify",
        "profile",
        "profile::set",
    ],
    // Reading and writing inside a folder; profile layers and their sources.
    &["output::files", "profile::layer", "profile::source"],
    // What stands on profiles and files: packs, the per-field checks, a template's budget, the
    // project file, `show`, what `check` remembers.
    &[
        "output::memo",
        "pipeline::pack",
        "pipeline::validate",
        "pipeline::budget",
        "profile::project",
        "cli::show",
    ],
    // The generated header, the manifest, lint rules, engines, the lockfile, vendoring.
    &[
        "pipeline::header",
        "output::manifest",
        "images::lint",
        "images::engine",
        "registry::lock",
        "cli::vendor",
    ],
    // A resolved profile; the registry client.
    &["pipeline::resolve", "registry::client"],
    // Rendering; the upstream images of a profile; profile edits.
    &["pipeline::render", "registry::upstream", "cli::edit"],
    // The pipeline driven for one profile or many; mirroring; the wizard.
    &["pipeline::run", "registry::mirror", "cli::init"],
    // Writing a folder; building and testing images.
    &[
        "output::write",
        "images::build",
        "images::imagetest",
        "proptests",
    ],
    // Checking a folder; the entrance of a request that changes a folder it does not own.
    &["output::check", "output::session"],
    // Applying to the platform.
    &["platform::apply"],
    // Every command carried out; the harness for fuzzing and benchmarks.
    &["cli::commands", "harness"],
    // The command line (clap).
    &["cli::args"],
];

/// The output layer's modules a module may name without entering it: the vocabulary every part
/// shares (the in-memory render, the text of differences).
const OUTPUT_VOCABULARY: &[&str] = &["output::tree", "output::diff"];

/// The subsystems: folders whose `mod.rs` is a face (words and `pub mod` lines, no code).
const FACES: &[&str] = &[
    "pipeline", "output", "platform", "images", "registry", "cli",
];

/// The paths a source text names through `crate::` (comments left out), up to a group or the
/// end of the path: `crate::output::write::{a, b}` names `output::write::`.
fn named_modules(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut names = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inside = group.split('}').next().unwrap_or_default();
            for item in inside.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                names.push(name);
            }
        } else {
            names.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect(),
            );
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The module a source file belongs to: `src/x.rs` and `src/x/mod.rs` are `x`, `src/x/y.rs`
/// is `x::y`, and every file under `src/x/y/` is `x::y`.
fn module_of_file(path: &Path) -> String {
    let relative = path.strip_prefix(src()).expect("under src");
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    match parts.as_slice() {
        [file] => file.clone(),
        [folder, file] if file == "mod" => folder.clone(),
        [folder, module, ..] => format!("{folder}::{module}"),
        [] => unreachable!("a file has a name"),
    }
}

/// The module a `crate::` path names: `crate::output::write::plan` is `output::write`,
/// `crate::error::Error` is `error`.
fn module_of_path(path: &str) -> String {
    let mut segments = path.split("::");
    let first = segments.next().unwrap_or_default().to_string();
    let folder = src().join(&first);
    if let Some(second) = segments.next().filter(|s| !s.is_empty())
        && (folder.join(format!("{second}.rs")).is_file() || folder.join(second).is_dir())
    {
        return format!("{first}::{second}");
    }
    first
}

/// Every source file of the crate but its root (`lib.rs`, `main.rs`), with its text.
fn source_files() -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(src()).sort_by_file_name() {
        let entry = entry.expect("a source folder");
        let path = entry.path();
        let root = path.parent() == Some(src().as_path())
            && matches!(
                path.file_name().and_then(|n| n.to_str()),
                Some("lib.rs" | "main.rs")
            );
        if path.extension().is_some_and(|e| e == "rs") && !root {
            let text = std::fs::read_to_string(path).expect("a source file");
            found.push((path.to_path_buf(), text));
        }
    }
    found
}

#[test]
fn every_module_imports_only_from_the_layers_below_its_own() {
    let layer_of = |name: &str| LAYERS.iter().position(|layer| layer.contains(&name));
    let mut checked = 0;
    for (file, text) in source_files() {
        let module = module_of_file(&file);
        if FACES.contains(&module.as_str()) {
            continue;
        }
        let layer = layer_of(&module)
            .unwrap_or_else(|| panic!("{}: `{module}` is in no layer", file.display()));
        for named in named_modules(&text) {
            let named = module_of_path(&named);
            if named == module {
                continue;
            }
            match layer_of(&named) {
                Some(below) if below < layer => {}
                found => panic!(
                    "{}: `{module}` (layer {layer}) imports `crate::{named}` (layer {}): \
                     imports point down, never up or across",
                    file.display(),
                    found.map_or("none".to_string(), |l| l.to_string())
                ),
            }
            checked += 1;
        }
    }
    assert!(checked >= 100, "the scan found the imports ({checked})");
}

/// An `apply` request enters the output layer once: every read, plan and write of the checkout
/// and its build contexts goes through the session it opens (which holds the checkout's lock
/// from the first read to the last write).
#[test]
fn apply_enters_the_output_layer_through_its_session_only() {
    let text = std::fs::read_to_string(src().join("platform/apply.rs")).expect("apply.rs");
    let output: Vec<String> = named_modules(&text)
        .iter()
        .map(|named| module_of_path(named))
        .filter(|module| module.starts_with("output::"))
        .filter(|module| !OUTPUT_VOCABULARY.contains(&module.as_str()))
        .collect();
    assert!(!output.is_empty(), "the scan found apply's output imports");
    assert!(
        output.iter().all(|module| module == "output::session"),
        "apply names the output layer past its session: {output:?}"
    );
    let opened = text.matches("Session::open(").count();
    assert_eq!(opened, 1, "apply opens one session per request");
}

#[test]
fn every_layered_module_exists_once_and_every_face_is_only_words_and_modules() {
    let modules: std::collections::BTreeSet<String> = source_files()
        .iter()
        .map(|(file, _)| module_of_file(file))
        .collect();
    let mut listed = std::collections::BTreeSet::new();
    for name in LAYERS.iter().flat_map(|layer| layer.iter()) {
        assert!(
            modules.contains(*name),
            "`{name}` is in the table but not in src/"
        );
        assert!(listed.insert(*name), "`{name}` is in the table twice");
    }
    for face in FACES {
        let text = std::fs::read_to_string(src().join(face).join("mod.rs")).expect("a face");
        assert!(
            text.starts_with("//! "),
            "src/{face}/mod.rs says its job first"
        );
        for line in text.lines() {
            assert!(
                line.is_empty() || line.starts_with("//!") || line.starts_with("pub mod "),
                "src/{face}/mod.rs holds only words and modules: {line}"
            );
        }
    }
}

#[test]
fn the_scan_reads_paths_and_groups_and_skips_comments() {
    let text =
        "use crate::{error::Result, role};\n// crate::cli in a comment\nlet x = crate::names::A;\n";
    assert_eq!(named_modules(text), ["error::Result", "role", "names::A"]);
    assert_eq!(module_of_path("output::write::plan"), "output::write");
    assert_eq!(module_of_path("images::engine::Kind"), "images::engine");
    assert_eq!(module_of_path("error::Error"), "error");
    assert_eq!(module_of_path("profile::"), "profile");
}

/// CONTRIBUTING.md's table of layers is this file's, row for row.
#[test]
fn contributing_shows_the_same_layers() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("CONTRIBUTING.md");
    let text = std::fs::read_to_string(path).expect("CONTRIBUTING.md");
    let rows: Vec<Vec<String>> = text
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("| ")?;
            let (number, modules) = rest.split_once(" | ")?;
            number.parse::<usize>().ok()?;
            Some(
                modules
                    .trim_end_matches(" |")
                    .split(", ")
                    .map(|m| m.trim_matches('`').to_string())
                    .collect(),
            )
        })
        .collect();
    let table: Vec<Vec<String>> = LAYERS
        .iter()
        .map(|layer| layer.iter().map(|m| m.to_string()).collect())
        .collect();
    assert_eq!(rows, table);
}
