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
        let _ = writeln!(
            out,
            "@@ -{},{} +{},{} @@",
            old_range.start + 1,
            old_range.len(),
            new_range.start + 1,
            new_range.len()
        );
        for op in &group {
            for change in diff.iter_changes(op) {
                let (sign, style) = match change.tag() {
                    ChangeTag::Delete => ('-', "\x1b[31m"),
                    ChangeTag::Insert => ('+', "\x1b[32m"),
                    ChangeTag::Equal => (' ', ""),
                };
                let line = change.value().trim_end_matches('\n');
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
