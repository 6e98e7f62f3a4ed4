//! One scalar of a block-style YAML file set in place, line by line: the lines of that entry
//! change (or are added at the end of its section) and every other byte stays, comments,
//! quoting and YAML 1.1 words (`yes`, `off`) included, which a parse and a rewrite would lose.
//! Only the plain block style people and PyYAML's `yaml.dump` write is edited: anything else on
//! the way (a flow mapping, an anchor or tag, a value over several lines, tabs for indentation,
//! several documents) gives `None`, and so does a file with a block scalar (`|`, `>`) or a
//! quoted value over several lines anywhere, whose lines a line editor could take for others;
//! the caller then writes the file whole.

/// A line: where its text starts and ends (without its line ending), and its indentation.
struct Line {
    start: usize,
    end: usize,
    /// Leading spaces; `None` for a blank line or a comment.
    indent: Option<usize>,
}

fn lines(text: &str) -> Option<Vec<Line>> {
    let mut found = Vec::new();
    let mut start = 0;
    for piece in text.split_inclusive('\n') {
        let body = piece.trim_end_matches('\n').trim_end_matches('\r');
        let content = body.trim_start_matches(' ');
        if content.starts_with('\t') {
            return None;
        }
        let indent = if content.is_empty() || content.starts_with('#') {
            None
        } else {
            Some(body.len() - content.len())
        };
        // Directives, document markers and complex keys: not this editor's; nor values whose
        // next lines are theirs, whatever those lines look like.
        if indent == Some(0)
            && (content.starts_with("---")
                || content.starts_with("...")
                || content.starts_with('%'))
            || content.starts_with("? ")
            || indent.is_some() && spans_lines(content)
        {
            return None;
        }
        found.push(Line {
            start,
            end: start + body.len(),
            indent,
        });
        start += piece.len();
    }
    Some(found)
}

/// Whether the value a line's content starts goes on over the next lines by its own rules: a
/// block scalar, or a quoted value that does not close on this line.
fn spans_lines(content: &str) -> bool {
    let mut value = content;
    while let Some(rest) = value
        .strip_prefix('-')
        .filter(|r| r.is_empty() || r.starts_with(' '))
    {
        value = rest.trim_start();
    }
    // Past a key: a quoted one to its closing quote and `:`, a plain one to its `: `.
    if value.starts_with(['"', '\'']) {
        match value_end(value, 0) {
            None => return true,
            Some(end) if value[end..].starts_with(':') => value = &value[end + 1..],
            Some(_) => return false,
        }
    } else if let Some(at) = value.find(": ") {
        value = &value[at + 1..];
    } else if value.ends_with(':') {
        value = "";
    }
    value = value.trim_start();
    // Past anchors and tags, to what they stand before.
    while value.starts_with(['&', '!']) {
        value = value.find(' ').map_or("", |at| value[at..].trim_start());
    }
    match value.chars().next() {
        Some('|' | '>') => true,
        Some('"' | '\'') => value_end(value, 0).is_none(),
        _ => false,
    }
}

/// What follows `key:` on a line whose content (after its indentation) is `content`, when the
/// line is that key's (plain, `"key"` or `'key'`); the offset is into `content`.
fn after_key(content: &str, key: &str) -> Option<usize> {
    let quoted = [
        format!("\"{key}\":"),
        format!("'{key}':"),
        format!("{key}:"),
    ];
    let prefix = quoted.iter().find(|q| content.starts_with(q.as_str()))?;
    let rest = &content[prefix.len()..];
    (rest.is_empty() || rest.starts_with([' ', '\r'])).then_some(prefix.len())
}

/// Where the value written after a key ends (from `at`, in `body`): the closing quote of a
/// quoted one on this line, or a plain one's end before ` #`. `None` for what this editor does
/// not take: a quote that goes on to the next line, a flow collection, an anchor, alias, tag or
/// block scalar.
fn value_end(body: &str, at: usize) -> Option<usize> {
    let value = &body[at..];
    match value.chars().next() {
        None | Some('#') => Some(at),
        Some('"') => {
            let mut escaped = false;
            for (i, c) in value.char_indices().skip(1) {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => return Some(at + i + 1),
                    _ => escaped = false,
                }
            }
            None
        }
        Some('\'') => {
            let bytes = value.as_bytes();
            let mut i = 1;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return Some(at + i + 1);
                }
                i += 1;
            }
            None
        }
        Some('[' | '{' | '&' | '*' | '!' | '|' | '>' | '%' | '@' | '`') => None,
        Some(_) => {
            let end = value.find(" #").unwrap_or(value.len());
            Some(at + value[..end].trim_end().len())
        }
    }
}

/// The first content line after `from` (up to `to`) indented at most `indent`, other than an
/// item of a sequence at `indent` (PyYAML writes a key's sequence at the key's own indentation):
/// where the value of a key at that indentation ends.
fn block_end(text: &str, lines: &[Line], from: usize, to: usize, indent: usize) -> usize {
    (from..to)
        .find(|&i| match lines[i].indent {
            Some(n) if n < indent => true,
            Some(n) if n == indent => {
                let content = &text[lines[i].start + n..lines[i].end];
                !(content == "-" || content.starts_with("- "))
            }
            _ => false,
        })
        .unwrap_or(to)
}

/// `text` with the scalar at `path` set to `scalar` (written as given: quoted by the caller);
/// with `earlier`, a value there before that differs stays on a comment line above, that
/// prefix then `KEY was VALUE`. Sections on the path that are missing are added at the end of
/// the section that holds them. `None` where this editor does not take the file.
pub fn set(text: &str, path: &[&str], scalar: &str, earlier: Option<&str>) -> Option<String> {
    let lines = lines(text)?;
    let ending = if text.contains("\r\n") { "\r\n" } else { "\n" };
    // The section being searched: its lines, and the indentation of the key that opened it.
    let (mut from, mut to, mut opened) = (0, lines.len(), None::<usize>);
    for (depth, key) in path.iter().enumerate() {
        let indent = (from..to).find_map(|i| lines[i].indent);
        if let Some(indent) = indent
            && opened.is_some_and(|o| indent <= o)
        {
            return None;
        }
        let found = indent.and_then(|indent| {
            (from..to).find(|&i| {
                lines[i].indent == Some(indent)
                    && after_key(&text[lines[i].start + indent..lines[i].end], key).is_some()
            })
        });
        let Some(at) = found else {
            // Missing: the rest of the path, at the end of this section.
            let indent = indent.unwrap_or_else(|| opened.map_or(0, |o| o + 2));
            let mut added = String::new();
            for (step, key) in path[depth..].iter().enumerate() {
                added.push_str(&" ".repeat(indent + 2 * step));
                added.push_str(key);
                added.push(':');
                if depth + step + 1 == path.len() {
                    added.push(' ');
                    added.push_str(scalar);
                }
                added.push_str(ending);
            }
            // After the section's last line with content; in an empty section, right after its
            // key (at the top level, at the end of the file).
            let at = match (from..to).rev().find(|&i| lines[i].indent.is_some()) {
                Some(i) => lines.get(i + 1).map_or(text.len(), |l| l.start),
                None if opened.is_none() => text.len(),
                None => lines.get(from).map_or(text.len(), |l| l.start),
            };
            let (before, after) = text.split_at(at);
            let join = if before.is_empty() || before.ends_with('\n') {
                ""
            } else {
                ending
            };
            return Some(format!("{before}{join}{added}{after}"));
        };
        let line = &lines[at];
        let own = indent.expect("found a key at it");
        let value_at = line.start + own + after_key(&text[line.start + own..line.end], key)?;
        let body = &text[line.start..line.end];
        let value_from = value_at - line.start;
        let skipped = body[value_from..].len() - body[value_from..].trim_start().len();
        let children_end = block_end(text, &lines, at + 1, to, own);
        if depth + 1 < path.len() {
            // A section: nothing may follow its key on the line but a comment.
            if !matches!(
                body[value_from + skipped..].chars().next(),
                None | Some('#')
            ) {
                return None;
            }
            (from, to, opened) = (at + 1, children_end, Some(own));
            continue;
        }
        // The scalar: on this line alone.
        if (at + 1..children_end).any(|i| lines[i].indent.is_some()) {
            return None;
        }
        let start = value_from + skipped;
        let end = value_end(body, start)?;
        let written = &body[start..end];
        if written == scalar {
            return Some(text.to_string());
        }
        let mut out = String::with_capacity(text.len() + scalar.len() + 64);
        out.push_str(&text[..line.start]);
        if let Some(prefix) = earlier
            && !matches!(written, "" | "null" | "~")
        {
            out.push_str(&" ".repeat(own));
            out.push_str(&format!("{prefix}{key} was {written}"));
            out.push_str(ending);
        }
        out.push_str(&body[..start]);
        if start == value_from {
            out.push(' ');
        }
        out.push_str(scalar);
        if end == start && end < body.len() {
            // An empty value before a comment: keep a space between them.
            out.push(' ');
        }
        out.push_str(&text[line.start + end..]);
        return Some(out);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEEP: Option<&str> = Some("# before imggen apply, ");

    const WIZARD: &str = "# my notes\nservices:\n  kerberos:\n    enabled: yes # by hand\n    \
                          image: ubuntu:22.04\n  postgres:\n    image: 'postgres:16'  # pinned\n    \
                          password: null\n  other:\n    tags:\n    - a\n";

    #[test]
    fn a_value_is_replaced_where_it_stands_and_every_other_byte_stays() {
        let path = ["services", "postgres", "image"];
        assert_eq!(
            set(WIZARD, &path, "\"x:1\"", None).as_deref(),
            Some(WIZARD.replace("'postgres:16'", "\"x:1\"").as_str())
        );
        assert_eq!(
            set(WIZARD, &path, "\"x:1\"", KEEP).as_deref(),
            Some(
                WIZARD
                    .replace(
                        "    image: 'postgres:16'",
                        "    # before imggen apply, image was 'postgres:16'\n    image: \"x:1\""
                    )
                    .as_str()
            )
        );
        // A null is nothing to keep; `yes` (PyYAML's true) stays as written elsewhere.
        let set_null =
            set(WIZARD, &["services", "postgres", "password"], "\"p\"", KEEP).expect("edits");
        assert!(
            set_null.contains("    password: \"p\"\n  other:"),
            "{set_null}"
        );
        assert!(set_null.contains("enabled: yes # by hand\n"), "{set_null}");
        assert!(!set_null.contains("was null"), "{set_null}");
    }

    #[test]
    fn a_missing_entry_or_section_is_added_at_the_end_of_its_section() {
        let added = set(
            WIZARD,
            &["services", "kerberos", "use_prebuilt"],
            "true",
            KEEP,
        )
        .expect("edits");
        assert_eq!(
            added,
            WIZARD.replace(
                "image: ubuntu:22.04\n",
                "image: ubuntu:22.04\n    use_prebuilt: true\n"
            )
        );
        let added = set(
            WIZARD,
            &["services", "openmetadata", "server_image"],
            "\"s\"",
            KEEP,
        )
        .expect("edits");
        assert_eq!(
            added,
            format!("{WIZARD}  openmetadata:\n    server_image: \"s\"\n")
        );
        assert_eq!(
            set("", &["services", "a"], "true", KEEP).as_deref(),
            Some("services:\n  a: true\n")
        );
        assert_eq!(
            set("x: 1", &["services", "a"], "true", KEEP).as_deref(),
            Some("x: 1\nservices:\n  a: true\n")
        );
        // Quoted keys, as imggen's whole rewrite writes them.
        assert_eq!(
            set(
                "\"services\":\n  \"a\": false\r\n",
                &["services", "a"],
                "true",
                None
            )
            .as_deref(),
            Some("\"services\":\n  \"a\": true\r\n")
        );
    }

    #[test]
    fn what_this_editor_does_not_take_is_left_to_a_whole_rewrite() {
        for text in [
            "services: {postgres: {image: x}}\n",
            "services:\n  postgres: &pg\n    image: x\n",
            "services:\n  postgres:\n    image: |\n      x\n",
            "services:\n  postgres:\n    image: \"x\n      y\"\n",
            "services:\n  postgres:\n    image: x\n      y\n",
            "---\nservices:\n  postgres:\n    image: x\n",
            "services:\n\tpostgres:\n",
            "services:\n  postgres:\n    image:\n      nested: 1\n",
            "services:\n  postgres: scalar\n",
        ] {
            assert_eq!(
                set(text, &["services", "postgres", "image"], "\"y\"", KEEP),
                None,
                "{text:?}"
            );
        }
    }

    mod generated {
        use super::*;
        use proptest::prelude::*;
        use serde_yaml::{Mapping, Value};

        /// A YAML document's value as generated: written by [`write`].
        #[derive(Debug, Clone)]
        enum Node {
            Map(Vec<Entry>),
            /// A value on the key's line, as written.
            Scalar(&'static str),
            /// Items at the key's indentation, as PyYAML writes them.
            Seq(Vec<&'static str>),
            /// What the line editor leaves to a whole rewrite.
            Other(u8),
        }

        #[derive(Debug, Clone)]
        struct Entry {
            key: &'static str,
            /// 0 plain, 1 double-quoted, 2 single-quoted.
            style: u8,
            note_before: bool,
            note_after: bool,
            value: Node,
        }

        const KEYS: [&str; 5] = ["services", "kerberos", "postgres", "image", "enabled"];
        const SCALARS: [&str; 12] = [
            "abc",
            "yes",
            "no",
            "1.5",
            "a:b",
            "x#y",
            "\"q\\\"x\"",
            "'it''s'",
            "null",
            "~",
            "",
            "postgres:17.5-alpine",
        ];

        fn node() -> impl Strategy<Value = Node> {
            let leaf = prop_oneof![
                4 => prop::sample::select(&SCALARS[..]).prop_map(Node::Scalar),
                1 => prop::collection::vec(prop::sample::select(&SCALARS[..5]), 1..3)
                    .prop_map(Node::Seq),
                1 => (0u8..6).prop_map(Node::Other),
            ];
            leaf.prop_recursive(3, 32, 4, |inner| {
                prop::collection::vec(
                    (
                        prop::sample::select(&KEYS[..]),
                        0u8..3,
                        any::<bool>(),
                        any::<bool>(),
                        inner,
                    ),
                    0..4,
                )
                .prop_map(map_of)
            })
        }

        fn write(entries: &[Entry], indent: usize, out: &mut String) {
            let pad = " ".repeat(indent);
            for e in entries {
                if e.note_before {
                    out.push_str(&format!("{pad}# note: {}: x\n", e.key));
                }
                let key = match e.style {
                    0 => e.key.to_string(),
                    1 => format!("\"{}\"", e.key),
                    _ => format!("'{}'", e.key),
                };
                let note = if e.note_after { "  # by hand" } else { "" };
                match &e.value {
                    Node::Map(children) => {
                        out.push_str(&format!("{pad}{key}:{note}\n"));
                        write(children, indent + 2, out);
                    }
                    Node::Scalar(value) => out.push_str(&format!("{pad}{key}: {value}{note}\n")),
                    Node::Seq(items) => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        for item in items {
                            out.push_str(&format!("{pad}- {item}\n"));
                        }
                    }
                    Node::Other(kind) => {
                        let inner = " ".repeat(indent + 2);
                        out.push_str(&match kind {
                            0 => format!("{pad}{key}: {{a: 1}}\n"),
                            1 => format!("{pad}{key}: [1, 2]\n"),
                            2 => format!("{pad}{key}: &anchor v\n"),
                            3 => format!("{pad}{key}: |\n{inner}text\n{inner}# not a comment\n"),
                            4 => format!("{pad}{key}: \"over\n{inner}# two lines\"\n"),
                            _ => format!("{pad}{key}: plain\n{inner}goes on\n"),
                        });
                    }
                }
            }
        }

        fn parse(text: &str) -> Option<Mapping> {
            match serde_yaml::from_str::<Value>(text).ok()? {
                Value::Mapping(map) => Some(map),
                Value::Null => Some(Mapping::new()),
                _ => None,
            }
        }

        /// The document with `path` set as `apply` sets it; whether the path met a value the
        /// editor may refuse (a section that is not a mapping, a leaf that is a collection).
        fn expected(mut map: Mapping, path: &[&str], scalar: &str) -> (Mapping, bool) {
            let value: Value = serde_yaml::from_str(scalar).expect("a scalar");
            let mut hard = false;
            let mut current = &mut map;
            let (last, sections) = path.split_last().expect("a path");
            for part in sections {
                let key = Value::from(*part);
                match current.get(&key) {
                    Some(Value::Mapping(_)) => {}
                    found => {
                        hard |= found.is_some();
                        current.insert(key.clone(), Value::Mapping(Mapping::new()));
                    }
                }
                current = current
                    .get_mut(&key)
                    .and_then(Value::as_mapping_mut)
                    .expect("a mapping");
            }
            hard |= matches!(
                current.get(*last),
                Some(Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_))
            );
            current.insert(Value::from(*last), value);
            (map, hard)
        }

        fn has_other(entries: &[Entry]) -> bool {
            entries.iter().any(|e| match &e.value {
                Node::Map(children) => has_other(children),
                Node::Other(_) => true,
                _ => false,
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2048))]

            /// Whatever the file, the editor gives `None` or a file that reads as the one set,
            /// with every line it had but the entry's own; on a file with nothing it leaves to a
            /// whole rewrite, and a path through mappings, it always edits.
            #[test]
            fn an_edit_reads_back_as_the_value_set_and_keeps_every_other_line(
                root in prop::collection::vec(
                    (prop::sample::select(&KEYS[..]), 0u8..3, any::<bool>(), any::<bool>(), node()),
                    0..4,
                ),
                path in prop::collection::vec(prop::sample::select(&KEYS[..]), 1..4),
                scalar in prop::sample::select(&["\"new:1\"", "true"][..]),
            ) {
                let Node::Map(entries) = map_of(root) else { unreachable!("a mapping") };
                let mut text = String::new();
                write(&entries, 0, &mut text);
                let Some(before) = parse(&text) else { return Ok(()) };
                let (want, hard) = expected(before, &path, scalar);
                let edited = set(&text, &path, scalar, KEEP);
                if let Some(edited) = &edited {
                    prop_assert_eq!(parse(edited), Some(want), "{}\n->\n{}", text, edited);
                    let lines: Vec<&str> = text.lines().collect();
                    let kept = common_lines(&lines, &edited.lines().collect::<Vec<_>>());
                    prop_assert!(kept + 1 >= lines.len(), "{}\n->\n{}", text, edited);
                } else {
                    prop_assert!(hard || has_other(&entries), "refused:\n{}", text);
                }
            }
        }

        /// How many lines of `a` stand in `b` in their order (the longest common subsequence).
        fn common_lines(a: &[&str], b: &[&str]) -> usize {
            let mut row = vec![0; b.len() + 1];
            for line in a {
                let mut diagonal = 0;
                for (j, other) in b.iter().enumerate() {
                    let up = row[j + 1];
                    row[j + 1] = if line == other {
                        diagonal + 1
                    } else {
                        up.max(row[j])
                    };
                    diagonal = up;
                }
            }
            row[b.len()]
        }

        /// A mapping of the generated entries, each key once (YAML refuses a key twice).
        fn map_of(root: Vec<(&'static str, u8, bool, bool, Node)>) -> Node {
            let mut seen = Vec::new();
            Node::Map(
                root.into_iter()
                    .filter(|(key, ..)| {
                        let new = !seen.contains(key);
                        seen.push(*key);
                        new
                    })
                    .map(|(key, style, note_before, note_after, value)| Entry {
                        key,
                        style,
                        note_before,
                        note_after,
                        value,
                    })
                    .collect(),
            )
        }
    }
}
