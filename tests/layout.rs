//! The source's layers, checked against its imports: a module names (`use crate::…`,
//! `crate::…` paths) only modules of the layers below its own. One table, here; CONTRIBUTING.md
//! describes it. The modules not yet in it (the pipeline, the output folder, the registry
//! client and the commands, which still import each other in a circle) are the rest of the
//! layout work (#38).

use std::path::Path;

/// The crate's layers, bottom first. A module of a layer imports nothing of its own layer or
/// above.
const LAYERS: &[&[&str]] = &[
    // Names, text, tables and small tools that everything shares.
    &[
        "names",
        "diff",
        "role",
        "filters",
        "dockerfile",
        "data",
        "merge",
        "parallel",
        "reference",
        "suggest",
        "wizard_config",
    ],
    // The one error type and all of its wording.
    &["error"],
    // Reading what comes from outside: confined paths, `.env` files, the platform's table.
    &["confine", "dotenv", "platform"],
    // Files (reading with limits, writing atomically, locks, temporary names) and profiles
    // (the model, layering with provenance, sources, `--set`).
    &["files", "profile"],
    // What stands on profiles and files: the render's bounds, packs, the project file
    // (`imggen.toml`), `show`, the per-field checks of values.
    &["budget", "pack", "project", "show", "validate"],
    // Engines, the generated header, lint rules, the lockfile, vendoring.
    &["engine", "header", "lint", "lock", "vendor"],
];

/// The modules a source text names through `crate::` (comments left out).
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
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
            }
        } else {
            names.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    names.retain(|n| !n.is_empty());
    names
}

/// A module's source files: `src/NAME.rs`, or every file under `src/NAME/`.
fn sources(module: &str) -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let file = src.join(format!("{module}.rs"));
    if file.is_file() {
        let text = std::fs::read_to_string(&file).expect("a source file");
        return vec![(file.display().to_string(), text)];
    }
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(src.join(module)) {
        let entry = entry.expect("a source folder");
        if entry.path().extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(entry.path()).expect("a source file");
            found.push((entry.path().display().to_string(), text));
        }
    }
    assert!(!found.is_empty(), "no source for module `{module}`");
    found
}

#[test]
fn every_module_imports_only_from_the_layers_below_its_own() {
    let layer_of = |name: &str| LAYERS.iter().position(|layer| layer.contains(&name));
    let mut checked = 0;
    for (layer, modules) in LAYERS.iter().enumerate() {
        for module in *modules {
            for (file, text) in sources(module) {
                for named in named_modules(&text) {
                    if named == *module {
                        continue;
                    }
                    match layer_of(&named) {
                        Some(below) if below < layer => {}
                        found => panic!(
                            "{file}: `{module}` (layer {layer}) imports `crate::{named}` (layer \
                             {}): imports point down, never up or across",
                            found.map_or("not below it".to_string(), |l| l.to_string())
                        ),
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 5, "the scan found the imports ({checked})");
}

#[test]
fn the_scan_reads_paths_and_groups_and_skips_comments() {
    let text =
        "use crate::{error::Result, role};\n// crate::cli in a comment\nlet x = crate::names::A;\n";
    assert_eq!(named_modules(text), ["error", "role", "names"]);
}
