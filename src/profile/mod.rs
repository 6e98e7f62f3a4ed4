//! Profiles: loading the selected stack of profile files and `--set`s into one typed profile.
//!
//! The precedence and merge rules are documented and implemented once, in [`layer`].

pub mod layer;
pub mod model;
pub mod project;
pub mod set;
pub mod source;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::error::{Error, Result};
use layer::{Labeler, Layers, Origin, Place};
pub use model::Profile;
use set::Set;
use source::Source;

/// The profile used when none is selected.
pub const DEFAULT_PROFILE: &str = "alpine-layered";

/// Which profiles to stack, and the `--set`s that go on top.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub profiles: Vec<String>,
    pub sets: Vec<String>,
}

impl Selection {
    pub fn of(profile: &str) -> Self {
        Self {
            profiles: vec![profile.to_string()],
            sets: Vec::new(),
        }
    }
}

/// A selection, loaded: the typed profile plus what is needed to explain it.
#[derive(Debug)]
pub struct Stack {
    pub profile: Profile,
    pub layers: Layers,
    /// The profile files applied, parent first.
    pub chain: Vec<String>,
    /// The profiles as selected (what headers and folder names use).
    pub selected: Vec<String>,
    pub sets: Vec<Set>,
    /// The digest of everything the stack was made from: each profile file applied (where it
    /// is, its text), in order, the names selected and the `--set`s. Equal digests, equal
    /// stacks: what lets `check` know a render's inputs are unchanged without rendering.
    pub inputs: String,
}

impl Stack {
    /// A short name for the selection: `corporate-hardened`, or `a+b` for a stack.
    pub fn title(&self) -> String {
        self.selected.join("+")
    }
}

/// Labels a file's values by where their keys start in it.
struct FileLabel {
    place: Arc<Place>,
}

impl FileLabel {
    fn of(source: &Source) -> Self {
        Self {
            place: Arc::new(Place {
                name: source.label.clone(),
                text: source.text.clone(),
                base_dir: source.base_dir.clone(),
                builtin: source.builtin,
            }),
        }
    }
}

impl Labeler for FileLabel {
    fn label(&self, key_offset: Option<usize>) -> Origin {
        Origin::at(&self.place, key_offset)
    }
}

/// Labels every value of a `--set` as `--set`.
struct SetLabel {
    place: Arc<Place>,
}

impl SetLabel {
    fn new() -> Self {
        Self {
            place: Arc::new(Place {
                name: "--set".into(),
                text: String::new(),
                base_dir: ".".into(),
                builtin: false,
            }),
        }
    }
}

impl Labeler for SetLabel {
    fn label(&self, _: Option<usize>) -> Origin {
        Origin::at(&self.place, None)
    }
}

pub fn load(selection: &Selection) -> Result<Stack> {
    let selected = if selection.profiles.is_empty() {
        vec![DEFAULT_PROFILE.to_string()]
    } else {
        selection.profiles.clone()
    };
    let starts = selected
        .iter()
        .map(|reference| source::find(reference, Path::new("."), None))
        .collect::<Result<Vec<_>>>()?;
    load_from(starts, &selection.sets)
}

/// The profile at `path` as if it held `text`: how an edit is checked before it is written.
pub fn load_edited(path: &Path, text: &str) -> Result<Stack> {
    load_from(vec![source::with_text(path, text.to_string())], &[])
}

/// A profile given as text (named `name`), for the fuzzing and benchmark harness.
pub fn load_text(name: &str, text: &str, sets: &[String]) -> Result<Stack> {
    let source = Source {
        name: name.to_string(),
        label: format!("{name}.toml"),
        id: format!("text:{name}"),
        base_dir: ".".into(),
        text: text.to_string(),
        builtin: false,
    };
    load_from(vec![source], sets)
}

fn load_from(starts: Vec<Source>, sets: &[String]) -> Result<Stack> {
    let mut layers = Layers::default();
    let mut applied = BTreeSet::new();
    let mut chain = Vec::new();
    let mut names = Vec::new();
    let mut inputs = crate::digest::Fields::new("imggen profile stack");
    for start in starts {
        let sources = extends_chain(start)?;
        if let Some((first, _)) = sources.first() {
            names.push(first.name.clone());
            inputs.add("selected").add(&first.name);
        }
        for (source, parsed) in sources.iter().rev() {
            if applied.insert(source.id.clone()) {
                layers.apply(parsed.doc.as_table(), &FileLabel::of(source));
                chain.push(source.name.clone());
                // All a layer is made of: the rest of a `Source` (its file's identity) only
                // decides which layers apply, and cycles.
                inputs.add("layer").add(&source.name).add(&source.label);
                inputs.add(source.base_dir.as_os_str().as_encoded_bytes());
                inputs.add([u8::from(source.builtin)]).add(&source.text);
            }
        }
    }
    for set in sets {
        inputs.add("set").add(set);
    }
    let sets = sets
        .iter()
        .map(|arg| Set::parse(arg))
        .collect::<Result<Vec<_>>>()?;
    for set in &sets {
        layers.apply(&checked_set_table(set)?, &SetLabel::new());
    }
    let mut profile: Profile =
        toml_edit::de::from_document(layers.to_document()).map_err(|e| Error::Toml {
            location: "merged profile".into(),
            message: e.message().into(),
        })?;
    profile.extends = None;
    Ok(Stack {
        profile,
        layers,
        chain,
        selected: names,
        sets,
        inputs: inputs.finish(),
    })
}

/// Follows `extends` from `reference`; returns the chain child first. Iterative, so a very deep
/// chain cannot overflow the stack.
fn extends_chain(start: Source) -> Result<Vec<(Source, Arc<Parsed>)>> {
    let mut chain: Vec<(Source, Arc<Parsed>)> = Vec::new();
    let mut next = Some(start);
    while let Some(current) = next.take() {
        let parsed = validate_layer(&current)?;
        if let Some(parent_ref) = &parsed.profile.extends {
            let parent = source::find(parent_ref, &current.base_dir, Some(&current))?;
            let seen = chain.iter().map(|(s, _)| s).chain([&current]);
            if let Some(start) = seen.clone().position(|s| s.id == parent.id) {
                let mut cycle: Vec<String> = seen.skip(start).map(|s| s.label.clone()).collect();
                cycle.push(parent.label);
                // The line of the `extends` that closes the circle.
                let offset = parsed
                    .doc
                    .as_table()
                    .key("extends")
                    .and_then(toml_edit::Key::span)
                    .map_or(0, |span| span.start);
                let line = line_col(&current.text, offset).0;
                return Err(Error::ExtendsCycle {
                    at: format!("{}:{line}", current.label),
                    chain: cycle,
                });
            }
            next = Some(parent);
        }
        chain.push((current, parsed));
    }
    Ok(chain)
}

fn parse_layer(source: &Source) -> Result<toml_edit::Document<String>> {
    toml_edit::Document::parse(source.text.clone()).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        let mut message = e.message().trim().to_string();
        if message == "duplicate key" {
            let key: String = source.text[offset.min(source.text.len())..]
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '=' && *c != ']')
                .collect();
            message = format!("duplicate key `{key}` (a key may be set once per table)");
        }
        Error::Toml {
            location: location(source, offset),
            message,
        }
    })
}

/// One profile file checked against the schema: its typed values (for `extends`) and its
/// document (the layer merged into the stack).
struct Parsed {
    profile: Profile,
    doc: toml_edit::Document<String>,
}

/// [`validate_layer_text`], remembered for the built-in profiles (they cannot change while
/// imggen runs) and shared, not copied: `check --all` over thousands of profiles extending a
/// handful of built-ins parses each built-in once.
fn validate_layer(source: &Source) -> Result<Arc<Parsed>> {
    static BUILTIN: std::sync::Mutex<BTreeMap<String, Arc<Parsed>>> =
        std::sync::Mutex::new(BTreeMap::new());
    if !source.builtin {
        return validate_layer_text(source).map(Arc::new);
    }
    let cache = || {
        BUILTIN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some(parsed) = cache().get(&source.id) {
        return Ok(parsed.clone());
    }
    let parsed = Arc::new(validate_layer_text(source)?);
    cache().insert(source.id.clone(), parsed.clone());
    Ok(parsed)
}

/// Checks one file against the schema on its own, so errors carry its own line numbers.
fn validate_layer_text(source: &Source) -> Result<Parsed> {
    let doc = parse_layer(source)?;
    let deserializer = toml_edit::de::Deserializer::from(doc.clone());
    let profile = Profile::deserialize(deserializer).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        Error::Toml {
            location: location(source, offset),
            message: reword(e.message()),
        }
    })?;
    Ok(Parsed { profile, doc })
}

/// A JSON Schema of the profile format, generated from the typed model so it never drifts.
pub fn schema() -> String {
    let mut schema = schemars::schema_for!(Profile);
    schema.insert("title".into(), "imggen profile".into());
    serde_json::to_string_pretty(&schema).expect("a schema is plain data")
}

/// The value of a `--set`, typed by the schema like `--set` itself.
pub fn typed_value(set: &Set) -> Result<toml_edit::Value> {
    let table = checked_set_table(set)?;
    let mut item: &toml_edit::Item = table.get(&set.path[0]).expect("the table holds the key");
    for key in &set.path[1..] {
        item = item.get(key).expect("the table holds the key");
    }
    Ok(item.as_value().expect("a --set holds a value").clone())
}

/// A `--set` as a table, typed by the schema: read as TOML first, then as a plain string.
fn checked_set_table(set: &Set) -> Result<toml_edit::Table> {
    let mut last_error = String::new();
    for typed in [true, false] {
        if typed && set.typed.is_none() {
            continue;
        }
        let table = set.to_table(typed);
        let mut doc = toml_edit::DocumentMut::new();
        *doc.as_table_mut() = table.clone();
        match toml_edit::de::from_document::<Profile>(doc) {
            Ok(_) => return Ok(table),
            Err(e) if last_error.is_empty() => last_error = reword(e.message()),
            Err(_) => {}
        }
    }
    Err(Error::BadSet {
        arg: set.arg.clone(),
        reason: Box::new(crate::error::Reason::SetType {
            message: last_error,
        }),
    })
}

fn location(source: &Source, offset: usize) -> String {
    let (line, column) = line_col(&source.text, offset);
    format!("{}:{line}:{column}", source.label)
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

/// Turns serde's wording into imggen's: keys, not fields, and a suggestion where one is close.
pub fn reword(message: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((key, expected)) = rest.split_once('`')
    {
        let allowed: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        return match crate::suggest::closest(key, allowed.iter().copied()) {
            Some(near) => format!("unknown key `{key}` (did you mean `{near}`?)"),
            None if allowed.is_empty() => format!("unknown key `{key}`"),
            None => format!(
                "unknown key `{key}` (allowed here: `{}`)",
                allowed.join("`, `")
            ),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant `")
        && let Some((value, expected)) = rest.split_once('`')
    {
        let expected = expected
            .trim_start_matches(", expected ")
            .trim_start_matches("one of ");
        return format!("`{value}` is not allowed here (expected {expected})");
    }
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return format!("expected {}, found {found}", plain_type(expected));
    }
    if let Some(rest) = message.strip_prefix("invalid value: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return format!("expected {}, found {found}", plain_type(expected));
    }
    message.to_string()
}

/// serde's type names in words a profile author uses.
fn plain_type(expected: &str) -> &str {
    match expected {
        "u32" => "a whole number from 0 to 4294967295",
        "i64" => "a whole number",
        "a boolean" => "`true` or `false`",
        "a sequence" => "a list (`[\"a\", \"b\"]`)",
        "a map" => "a table",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("a\nbc\n", 0), (1, 1));
        assert_eq!(line_col("a\nbc\n", 3), (2, 2));
    }

    #[test]
    fn reword_suggests_a_close_key() {
        let text = reword("unknown field `imagez`, expected one of `images`, `mode`");
        assert_eq!(text, "unknown key `imagez` (did you mean `images`?)");
    }

    #[test]
    fn reword_says_types_in_plain_words() {
        let text = reword("invalid type: string \"yes\", expected a boolean");
        assert_eq!(text, "expected `true` or `false`, found string \"yes\"");
        let text = reword("invalid value: integer `-1`, expected u32");
        assert_eq!(
            text,
            "expected a whole number from 0 to 4294967295, found integer `-1`"
        );
    }

    #[test]
    fn reword_lists_allowed_variants() {
        let text = reword("unknown variant `prebuild`, expected `layered` or `prebuilt`");
        assert_eq!(
            text,
            "`prebuild` is not allowed here (expected `layered` or `prebuilt`)"
        );
    }

    #[test]
    fn default_profile_is_the_platform_defaults() {
        let stack = load(&Selection::default()).expect("built-in default loads");
        assert_eq!(stack.selected, [DEFAULT_PROFILE]);
        assert_eq!(
            stack.profile.images,
            crate::role::RoleMap::upstream_defaults()
        );
        assert_eq!(stack.profile.mode, model::Mode::Layered);
    }

    #[test]
    fn set_wins_over_profiles_and_is_typed_by_the_schema() {
        let selection = Selection {
            profiles: vec!["debian-prebuilt".into()],
            sets: vec![
                "mode=layered".into(),
                "python.tag=3.12".into(),
                "hardening.non_root=true".into(),
            ],
        };
        let stack = load(&selection).expect("loads");
        assert_eq!(stack.profile.mode, model::Mode::Layered);
        assert_eq!(stack.profile.python.tag.as_deref(), Some("3.12"));
        assert!(stack.profile.hardening.non_root);
        assert_eq!(
            stack.layers.origin(&["mode"]).map(Origin::label).as_deref(),
            Some("--set")
        );
    }

    #[test]
    fn set_with_a_wrong_type_is_refused() {
        let selection = Selection {
            profiles: vec![],
            sets: vec!["hardening.non_root=maybe".into()],
        };
        let error = load(&selection)
            .expect_err("a string is not a bool")
            .to_string();
        assert!(
            error.starts_with("bad `--set hardening.non_root=maybe`"),
            "{error}"
        );
    }

    #[test]
    fn extends_applies_the_parent_first() {
        let stack = load(&Selection::of("corporate-hardened")).expect("loads");
        let chain = [
            "alpine-layered",
            "debian-layered",
            "debian-prebuilt",
            "corporate-hardened",
        ];
        assert_eq!(stack.chain, chain);
        assert_eq!(stack.profile.distro, model::Distro::Debian);
        let origin = stack.layers.origin(&["distro"]).expect("set by a file");
        // `debian-layered.toml:4`, or `profiles/…` where the repository's own folder shadows it.
        assert!(
            origin.label().contains("debian-layered.toml:4"),
            "{}",
            origin.label()
        );
    }

    #[test]
    fn a_repeated_base_is_applied_once() {
        let selection = Selection {
            profiles: vec!["corporate-hardened".into(), "debian-prebuilt".into()],
            sets: vec![],
        };
        let stack = load(&selection).expect("loads");
        let chain = [
            "alpine-layered",
            "debian-layered",
            "debian-prebuilt",
            "corporate-hardened",
        ];
        assert_eq!(stack.chain, chain);
        assert_eq!(stack.selected, ["corporate-hardened", "debian-prebuilt"]);
        assert!(
            stack.profile.hardening.non_root,
            "the base must not undo the child"
        );
    }
}
