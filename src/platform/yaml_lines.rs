//! One scalar of a block-style YAML file set in place, line by line: the lines of that entry
//! change (or are added at the end of its section) and every other byte stays, comments,
//! quoting and YAML 1.1 words (`yes`, `off`) included, which a parse and a rewrite would lose.
//! Only the plain block style people and PyYAML's `yaml.dump` write is edited: anything else on
//! the way (a flow mapping, an anchor or tag, a value over several lines, tabs for indentation,
//! several documents) gives `None`, and the caller writes the file whole.

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
        // Directives, document markers and complex keys: not this editor's.
        if indent == Some(0)
            && (content.starts_with("---")
                || content.starts_with("...")
                || content.starts_with('%'))
            || content.starts_with("? ")
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

/// The first content line after `from` (up to `to`) indented at most `indent`: where a block
/// opened at that indentation ends.
fn block_end(lines: &[Line], from: usize, to: usize, indent: usize) -> usize {
    (from..to)
        .find(|&i| lines[i].indent.is_some_and(|n| n <= indent))
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
        let children_end = block_end(&lines, at + 1, to, own);
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
}
