//! Layering: how profile files and `--set`s combine into one profile, and where each value came from.
//!
//! Precedence, lowest first:
//! 1. built-in defaults (the `Default`s of the typed model),
//! 2. each `--profile`'s `extends` chain, parent before child,
//! 3. each later `--profile` (left to right on the command line),
//! 4. `--set`, in the order given.
//!
//! Merge rule: tables (including inline tables) merge key by key, recursively; every other value
//! (string, number, boolean, array, array of tables) in a later layer replaces the earlier one
//! whole. A layer already applied earlier in the stack is not applied again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml_edit::{Item, Table, Value};

/// A file (or `--set`) values come from, shared by every value it sets.
#[derive(Debug, PartialEq, Eq)]
pub struct Place {
    /// `corporate-hardened.toml`, a path on disk, or `--set`.
    pub name: String,
    /// The file's text, to find a value's line when one is asked for (empty for `--set`).
    pub text: String,
    /// Folder that relative paths in this file are resolved against.
    pub base_dir: PathBuf,
    /// A built-in profile: its relative paths name files embedded in the binary.
    pub builtin: bool,
}

/// Where one value was set: a place, and where its key starts in the place's text. The line is
/// worked out only when a message needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    place: Arc<Place>,
    offset: Option<usize>,
    /// Which layer set it: 1 for the first applied, counting up (see [`Layers::apply`]).
    layer: usize,
}

impl Origin {
    pub fn at(place: &Arc<Place>, offset: Option<usize>) -> Self {
        Self {
            place: place.clone(),
            offset,
            layer: 0,
        }
    }

    /// Which layer set the value: a later layer has a larger number.
    pub fn layer(&self) -> usize {
        self.layer
    }

    /// `corporate-hardened.toml:14`, or `--set`.
    pub fn label(&self) -> String {
        match self.offset {
            Some(offset) => format!(
                "{}:{}",
                self.place.name,
                crate::profile::line_col(&self.place.text, offset).0
            ),
            None => self.place.name.clone(),
        }
    }

    /// Folder that relative paths in this value are resolved against.
    pub fn base_dir(&self) -> &Path {
        &self.place.base_dir
    }

    /// Set by a built-in profile.
    pub fn builtin(&self) -> bool {
        self.place.builtin
    }
}

#[derive(Debug, Clone)]
enum Node {
    Table(BTreeMap<String, Node>),
    Leaf {
        item: Box<Item>,
        origin: Origin,
        /// For an array: each element's origin by field (`""` for the element itself).
        elements: Vec<BTreeMap<String, Origin>>,
    },
}

/// The merged tree of every layer applied so far.
#[derive(Debug, Default)]
pub struct Layers {
    root: BTreeMap<String, Node>,
    /// How many layers were applied.
    applied: usize,
}

/// How to label a value: given the byte offset of its key in the source, the label to record.
pub trait Labeler {
    fn label(&self, key_offset: Option<usize>) -> Origin;
}

impl Layers {
    /// Merges `table` on top of what is there.
    pub fn apply(&mut self, table: &Table, labeler: &dyn Labeler) {
        /// Stamps each origin with the layer's number.
        struct Numbered<'a>(&'a dyn Labeler, usize);
        impl Labeler for Numbered<'_> {
            fn label(&self, key_offset: Option<usize>) -> Origin {
                Origin {
                    layer: self.1,
                    ..self.0.label(key_offset)
                }
            }
        }
        self.applied += 1;
        merge_table(&mut self.root, table, &Numbered(labeler, self.applied));
    }

    /// The merged values as a TOML document, ready to deserialize into the typed profile.
    pub fn to_document(&self) -> toml_edit::DocumentMut {
        let mut doc = toml_edit::DocumentMut::new();
        *doc.as_table_mut() = to_table(&self.root);
        doc
    }

    /// Where the value at `path` (e.g. `["python", "tag"]`) was set; `None` for a default.
    pub fn origin(&self, path: &[&str]) -> Option<&Origin> {
        let (last, parents) = path.split_last()?;
        let mut table = &self.root;
        for key in parents {
            match table.get(*key)? {
                Node::Table(inner) => table = inner,
                Node::Leaf { origin, .. } => return Some(origin),
            }
        }
        match table.get(*last)? {
            Node::Leaf { origin, .. } => Some(origin),
            Node::Table(_) => None,
        }
    }

    /// Where the value at `path` was set, as messages say it (`org.toml:4`, `--set`), or
    /// [`DEFAULTS`](crate::error::DEFAULTS) for a value no layer set.
    pub fn label(&self, path: &[&str]) -> String {
        self.origin(path)
            .map_or_else(|| crate::error::DEFAULTS.into(), Origin::label)
    }

    /// [`Layers::label`], but for a table the label of the first value set inside it (a
    /// table itself has no origin: each of its values has its own).
    pub fn label_within(&self, path: &[&str]) -> String {
        fn first_set(node: &Node) -> Option<&Origin> {
            match node {
                Node::Leaf { origin, .. } => Some(origin),
                Node::Table(table) => table.values().find_map(first_set),
            }
        }
        let mut node = path.first().and_then(|key| self.root.get(*key));
        for key in path.iter().skip(1) {
            if let Some(Node::Table(table)) = node {
                node = table.get(*key);
            }
        }
        node.and_then(first_set)
            .map_or_else(|| crate::error::DEFAULTS.into(), Origin::label)
    }

    /// [`Layers::label`] of one element's field (see [`Layers::origin_at`]).
    pub fn label_at(&self, path: &[&str], index: usize, field: &str) -> String {
        self.origin_at(path, index, field)
            .map_or_else(|| crate::error::DEFAULTS.into(), Origin::label)
    }

    /// Where `field` of the `index`th element of the array at `path` was set (`field` empty:
    /// the element itself), falling back to the array's own origin.
    pub fn origin_at(&self, path: &[&str], index: usize, field: &str) -> Option<&Origin> {
        let (last, parents) = path.split_last()?;
        let mut table = &self.root;
        for key in parents {
            match table.get(*key)? {
                Node::Table(inner) => table = inner,
                Node::Leaf { .. } => return None,
            }
        }
        match table.get(*last)? {
            Node::Leaf {
                origin, elements, ..
            } => Some(
                elements
                    .get(index)
                    .and_then(|fields| fields.get(field).or_else(|| fields.get("")))
                    .unwrap_or(origin),
            ),
            Node::Table(_) => None,
        }
    }

    /// Resolves a path-valued setting against the folder of the file that set it; `true` when
    /// that file is a built-in profile (the path is then inside the embedded profiles).
    pub fn resolve_path(&self, key: &[&str], value: &str) -> (PathBuf, bool) {
        match self.origin(key) {
            Some(origin) if origin.builtin() => (PathBuf::from(value), true),
            Some(origin) => (lexical(&origin.base_dir().join(value)), false),
            None => (Path::new(".").join(value), false),
        }
    }
}

/// `a/b/../c` → `a/c` without touching the disk, so a path from a profile in a folder that
/// does not exist yet (`imggen init`) still names the right file.
fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            Component::CurDir if out.as_os_str().is_empty() => out.push("."),
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn merge_table(into: &mut BTreeMap<String, Node>, table: &Table, labeler: &dyn Labeler) {
    for (key, item) in table.iter() {
        let offset = table.key(key).and_then(|k| k.span()).map(|span| span.start);
        merge_item(into, key, item, offset, labeler);
    }
}

fn merge_item(
    into: &mut BTreeMap<String, Node>,
    key: &str,
    item: &Item,
    offset: Option<usize>,
    labeler: &dyn Labeler,
) {
    // Inline tables are converted (and lose their spans: their keys are labelled by the inline
    // table's own key); tables are read where they are, not copied.
    let converted;
    let sub_table = match item {
        Item::Table(t) => Some(t),
        Item::Value(Value::InlineTable(t)) => {
            converted = t.clone().into_table();
            Some(&converted)
        }
        _ => None,
    };
    match sub_table {
        Some(table) => {
            let entry = into
                .entry(key.to_string())
                .or_insert_with(|| Node::Table(BTreeMap::new()));
            if let Node::Leaf { .. } = entry {
                *entry = Node::Table(BTreeMap::new());
            }
            if let Node::Table(inner) = entry {
                for (k, v) in table.iter() {
                    let inner_offset = table.key(k).and_then(|k| k.span()).map(|s| s.start);
                    merge_item(inner, k, v, inner_offset.or(offset), labeler);
                }
            }
        }
        None => {
            into.insert(
                key.to_string(),
                Node::Leaf {
                    item: Box::new(item.clone()),
                    origin: labeler.label(offset),
                    elements: element_origins(item, labeler),
                },
            );
        }
    }
}

/// Each element of an array (of tables) with its fields' origins, from their spans.
fn element_origins(item: &Item, labeler: &dyn Labeler) -> Vec<BTreeMap<String, Origin>> {
    fn fields<'t>(
        keys: impl Iterator<Item = (&'t str, Option<usize>)>,
        own: Option<usize>,
        labeler: &dyn Labeler,
    ) -> BTreeMap<String, Origin> {
        let mut out: BTreeMap<String, Origin> = keys
            .filter_map(|(key, offset)| Some((key.to_string(), labeler.label(Some(offset?)))))
            .collect();
        let first = out.values().next().cloned();
        if let Some(origin) = own.map(|o| labeler.label(Some(o))).or(first) {
            out.insert(String::new(), origin);
        }
        out
    }
    let span_of = |key: Option<&toml_edit::Key>| key.and_then(|k| k.span()).map(|s| s.start);
    match item {
        Item::ArrayOfTables(tables) => tables
            .iter()
            .map(|t| {
                let keys = t.iter().map(|(k, _)| (k, span_of(t.key(k))));
                fields(keys, t.span().map(|s| s.start), labeler)
            })
            .collect(),
        Item::Value(Value::Array(values)) => values
            .iter()
            .map(|value| match value {
                Value::InlineTable(t) => {
                    let keys = t.iter().map(|(k, _)| (k, span_of(t.key(k))));
                    fields(keys, value.span().map(|s| s.start), labeler)
                }
                other => fields(std::iter::empty(), other.span().map(|s| s.start), labeler),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn to_table(nodes: &BTreeMap<String, Node>) -> Table {
    let mut table = Table::new();
    for (key, node) in nodes {
        let item = match node {
            Node::Table(inner) => Item::Table(to_table(inner)),
            Node::Leaf { item, .. } => (**item).clone(),
        };
        table.insert(key, item);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Arc<Place>);

    impl Labeler for Fixed {
        fn label(&self, _: Option<usize>) -> Origin {
            Origin::at(&self.0, None)
        }
    }

    fn layers(sources: &[(&'static str, &str)]) -> Layers {
        let mut layers = Layers::default();
        for (name, text) in sources {
            let doc = toml_edit::Document::parse(text.to_string()).expect("test TOML parses");
            let place = Place {
                name: name.to_string(),
                text: String::new(),
                base_dir: PathBuf::from(name),
                builtin: false,
            };
            layers.apply(doc.as_table(), &Fixed(Arc::new(place)));
        }
        layers
    }

    #[test]
    fn tables_merge_and_scalars_replace() {
        let merged = layers(&[
            (
                "parent",
                "mode = 'layered'\n[python]\ntag = 'a'\ntoolchain = true\n",
            ),
            ("child", "[python]\ntag = 'b'\n"),
        ]);
        let doc = merged.to_document().to_string();
        assert!(doc.contains("tag = \"b\""), "{doc}");
        assert!(doc.contains("toolchain = true"), "{doc}");
        assert!(doc.contains("mode = \"layered\""), "{doc}");
        assert_eq!(
            merged
                .origin(&["python", "tag"])
                .map(Origin::label)
                .as_deref(),
            Some("child")
        );
        assert_eq!(
            merged
                .origin(&["python", "toolchain"])
                .map(Origin::label)
                .as_deref(),
            Some("parent")
        );
    }

    #[test]
    fn lists_replace_whole() {
        let merged = layers(&[
            ("parent", "[python]\npip_packages = ['a', 'b']\n"),
            ("child", "[python]\npip_packages = ['c']\n"),
        ]);
        let doc = merged.to_document().to_string();
        assert!(doc.contains("pip_packages = [\"c\"]"), "{doc}");
        assert!(!doc.contains("\"a\""), "{doc}");
    }

    #[test]
    fn inline_tables_merge_like_tables() {
        let merged = layers(&[
            ("parent", "labels = { a = '1', b = '2' }\n"),
            ("child", "[labels]\nb = '3'\n"),
        ]);
        assert_eq!(
            merged
                .origin(&["labels", "a"])
                .map(Origin::label)
                .as_deref(),
            Some("parent")
        );
        assert_eq!(
            merged
                .origin(&["labels", "b"])
                .map(Origin::label)
                .as_deref(),
            Some("child")
        );
    }

    #[test]
    fn arrays_of_tables_replace_whole() {
        let merged = layers(&[
            (
                "parent",
                "[[postgres.databases]]\nname = 'a'\n[[postgres.databases]]\nname = 'b'\n",
            ),
            ("child", "[[postgres.databases]]\nname = 'c'\n"),
        ]);
        let doc = merged.to_document().to_string();
        assert_eq!(doc.matches("[[postgres.databases]]").count(), 1, "{doc}");
        assert!(doc.contains("name = \"c\""), "{doc}");
    }

    #[test]
    fn relative_paths_are_normalised_without_the_disk() {
        assert_eq!(
            lexical(Path::new("profiles/../certs/a.crt")),
            Path::new("certs/a.crt")
        );
        assert_eq!(lexical(Path::new("./a/./b/../c")), Path::new("./a/c"));
        assert_eq!(lexical(Path::new("../x")), Path::new("../x"));
    }

    #[test]
    fn unset_values_have_no_origin() {
        let merged = layers(&[("only", "mode = 'prebuilt'\n")]);
        assert!(merged.origin(&["python", "tag"]).is_none());
        let (path, builtin) = merged.resolve_path(&["python", "requirements"], "r.txt");
        assert_eq!((path.as_path(), builtin), (Path::new("./r.txt"), false));
    }
}
