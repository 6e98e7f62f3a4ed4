//! A unified text diff (what `check`, `diff`, `vendor`, `set` and `init` print), colored on request.

use std::fmt::Write as _;

use similar::{ChangeTag, TextDiff};

pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str, color: bool) -> String {
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    let _ = writeln!(out, "--- {old_name}\n+++ {new_name}");
    for group in diff.grouped_ops(3) {
        let (first, last) = (&group[0], &group[group.len() - 1]);
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        // An empty range is numbered by the line before it (`-0,0` at the top), as GNU diff
        // and patch have it.
        let start = |range: &std::ops::Range<usize>| range.start + usize::from(!range.is_empty());
        let _ = writeln!(
            out,
            "@@ -{},{} +{},{} @@",
            start(&old_range),
            old_range.len(),
            start(&new_range),
            new_range.len()
        );
        for op in &group {
            for change in diff.iter_changes(op) {
                let (sign, style) = match change.tag() {
                    ChangeTag::Delete => ('-', "\x1b[31m"),
                    ChangeTag::Insert => ('+', "\x1b[32m"),
                    ChangeTag::Equal => (' ', ""),
                };
                let line = printable(change.value().trim_end_matches('\n'));
                if color && !style.is_empty() {
                    let _ = writeln!(out, "{style}{sign}{line}\x1b[0m");
                } else {
                    let _ = writeln!(out, "{sign}{line}");
                }
                if change.missing_newline() {
                    out.push_str("\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}

/// A line (or a name from disk) as printed: its control characters (but a tab, and the `\r` of a CRLF ending)
/// written out as `\u{1b}`. What `check` shows comes from pull requests, and an escape sequence
/// in a committed file would otherwise reach the reader's terminal (to hide a line, retitle the
/// window, or color the log).
pub fn printable(line: &str) -> std::borrow::Cow<'_, str> {
    let body = line.strip_suffix('\r').unwrap_or(line);
    if !body.chars().any(|c| c.is_control() && c != '\t') {
        return line.into();
    }
    let mut out = String::with_capacity(line.len() + 8);
    for c in body.chars() {
        if c.is_control() && c != '\t' {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out.push_str(&line[body.len()..]);
    out.into()
}

/// [`printable`] of every line of `text`, line breaks kept: how messages are printed, since
/// the values they quote (a key, a path, an image name) may come from a pull request.
pub fn printable_lines(text: &str) -> std::borrow::Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return text.into();
    }
    text.split('\n')
        .map(printable)
        .collect::<Vec<_>>()
        .join("\n")
        .into()
}

/// Rows as aligned columns: each column but the last padded to its widest cell, two spaces
/// apart, so a long name never runs into the next column.
pub fn columns<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (index, cell) in row.iter().enumerate() {
            if index + 1 < N {
                let _ = write!(line, "{cell:<width$}  ", width = widths[index]);
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `1 file`, `2 files`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_printed_as_escapes_not_sent_to_the_terminal() {
        let old = "A=1\r\nX=\u{1b}]0;title\u{7}\u{1b}[2J\tend\r\n";
        let new = "A=1\r\n";
        let diff = unified_diff(old, new, "a", "b", false);
        assert!(
            !diff.contains('\u{1b}') && !diff.contains('\u{7}'),
            "{diff:?}"
        );
        assert!(
            diff.contains("-X=\\u{1b}]0;title\\u{7}\\u{1b}[2J\tend\r\n"),
            "{diff:?}"
        );
        // Ordinary lines come out as they are, a CRLF's `\r` included.
        assert!(diff.contains(" A=1\r\n"), "{diff:?}");
    }

    #[test]
    fn a_message_keeps_its_lines_and_loses_its_escapes() {
        assert_eq!(
            printable_lines("unknown key `\u{1b}[2Jx`\n --> a.toml:1\tx"),
            "unknown key `\\u{1b}[2Jx`\n --> a.toml:1\tx"
        );
        assert!(matches!(
            printable_lines("plain\ntext"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
