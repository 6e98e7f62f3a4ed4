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

/// How two renders differ, file by file: changed files (text without the generated header
/// differs), files only one side renders, and files whose only difference is the header.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FileDifferences {
    /// Path, left text, right text.
    pub changed: Vec<(String, String, String)>,
    pub only_left: Vec<String>,
    pub only_right: Vec<String>,
    pub header_only: Vec<String>,
}

impl FileDifferences {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty()
            && self.only_left.is_empty()
            && self.only_right.is_empty()
            && self.header_only.is_empty()
    }
}

pub fn compare_files(left: &crate::render::Files, right: &crate::render::Files) -> FileDifferences {
    let mut paths: Vec<&String> = left.keys().chain(right.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut out = FileDifferences::default();
    for path in paths {
        let text = |files: &crate::render::Files| {
            files
                .get(path)
                .map(|f| String::from_utf8_lossy(&f.contents).into_owned())
        };
        match (text(left), text(right)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b))
                if crate::header::without_header(&a) == crate::header::without_header(&b) =>
            {
                out.header_only.push(path.clone());
            }
            (Some(a), Some(b)) => out.changed.push((path.clone(), a, b)),
            (Some(_), None) => out.only_left.push(path.clone()),
            (None, Some(_)) => out.only_right.push(path.clone()),
            (None, None) => {}
        }
    }
    out
}

/// `1 file`, `2 files`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
