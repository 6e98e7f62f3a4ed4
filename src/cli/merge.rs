//! Three-way merge of text, line by line: what `vendor --update` does with a file both the org
//! and upstream changed since it was vendored.
//!
//! Each side's changes against the common base are hunks (a base range and its replacement).
//! Hunks of one side apply as they are; hunks of both sides that touch the same base lines
//! apply once when they agree, and otherwise become a conflict, written with the usual markers
//! (`<<<<<<<`, `|||||||` with the base, `=======`, `>>>>>>>`).

use similar::{Algorithm, DiffOp, capture_diff_slices};

/// The merged text, and how many conflicts it holds.
pub struct Merged {
    pub text: String,
    pub conflicts: usize,
}

/// One side's change: base lines `start..end` replaced by `lines`.
#[derive(Debug, Clone)]
struct Hunk<'a> {
    start: usize,
    end: usize,
    lines: Vec<&'a str>,
}

fn hunks<'a>(base: &[&'a str], side: &[&'a str]) -> Vec<Hunk<'a>> {
    let mut out: Vec<Hunk<'a>> = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, base, side) {
        let (start, end, new) = match op {
            DiffOp::Equal { .. } => continue,
            DiffOp::Delete {
                old_index,
                old_len,
                new_index,
            } => (old_index, old_index + old_len, new_index..new_index),
            DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => (old_index, old_index, new_index..new_index + new_len),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => (
                old_index,
                old_index + old_len,
                new_index..new_index + new_len,
            ),
        };
        // Adjacent operations are one change.
        match out.last_mut() {
            Some(last) if last.end == start => {
                last.end = end;
                last.lines.extend(&side[new]);
            }
            _ => out.push(Hunk {
                start,
                end,
                lines: side[new].to_vec(),
            }),
        }
    }
    out
}

/// `base[start..end]` with `hunks` (all inside that range) applied.
fn apply<'a>(base: &[&'a str], start: usize, end: usize, hunks: &[Hunk<'a>]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut at = start;
    for hunk in hunks {
        out.extend(&base[at..hunk.start]);
        out.extend(&hunk.lines);
        at = hunk.end;
    }
    out.extend(&base[at..end]);
    out
}

fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// Merges `ours` and `theirs`, both changed from `base`. `labels` name the two sides and the
/// base in conflict markers.
pub fn merge(base: &str, ours: &str, theirs: &str, labels: [&str; 3]) -> Merged {
    let (base_lines, our_lines, their_lines) = (lines(base), lines(ours), lines(theirs));
    let ours = hunks(&base_lines, &our_lines);
    let theirs = hunks(&base_lines, &their_lines);
    let mut text = String::new();
    let mut conflicts = 0;
    let (mut i, mut j, mut at) = (0, 0, 0);
    while i < ours.len() || j < theirs.len() {
        // The next region: the earliest hunk, grown while a hunk of either side overlaps it.
        let first = match (ours.get(i), theirs.get(j)) {
            (Some(a), Some(b)) if b.start < a.start => b,
            (Some(a), _) => a,
            (None, Some(b)) => b,
            (None, None) => unreachable!("the loop runs while hunks are left"),
        };
        let (start, mut end) = (first.start, first.end);
        let (i0, j0) = (i, j);
        loop {
            let touches = |h: &Hunk| {
                h.start < end || h.start == start || (h.start == end && h.start == h.end)
            };
            if let Some(h) = ours.get(i).filter(|h| touches(h)) {
                end = end.max(h.end);
                i += 1;
            } else if let Some(h) = theirs.get(j).filter(|h| touches(h)) {
                end = end.max(h.end);
                j += 1;
            } else {
                break;
            }
        }
        for line in &base_lines[at..start] {
            text.push_str(line);
        }
        let mine = apply(&base_lines, start, end, &ours[i0..i]);
        let upstream = apply(&base_lines, start, end, &theirs[j0..j]);
        if i0 == i {
            text.extend(upstream);
        } else if j0 == j || mine == upstream {
            text.extend(mine);
        } else {
            conflicts += 1;
            let block = |text: &mut String, marker: String, lines: &[&str]| {
                text.push_str(&marker);
                text.push('\n');
                for line in lines {
                    text.push_str(line);
                    if !line.ends_with('\n') {
                        text.push('\n');
                    }
                }
            };
            block(&mut text, format!("<<<<<<< {}", labels[0]), &mine);
            block(
                &mut text,
                format!("||||||| {}", labels[2]),
                &base_lines[start..end],
            );
            block(&mut text, "=======".to_string(), &upstream);
            text.push_str(&format!(">>>>>>> {}\n", labels[1]));
        }
        at = end;
    }
    for line in &base_lines[at..] {
        text.push_str(line);
    }
    Merged { text, conflicts }
}

/// Whether `text` still holds conflict markers a merge wrote.
pub fn has_conflict_markers(text: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with("<<<<<<< ") || l.starts_with(">>>>>>> "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: [&str; 3] = ["yours", "built-in", "as vendored"];

    #[test]
    fn changes_to_different_lines_merge_cleanly() {
        let base = "a\nb\nc\nd\n";
        let merged = merge(base, "A\nb\nc\nd\n", "a\nb\nc\nD\n", LABELS);
        assert_eq!(merged.conflicts, 0);
        assert_eq!(merged.text, "A\nb\nc\nD\n");
    }

    #[test]
    fn the_same_change_on_both_sides_applies_once() {
        let merged = merge("a\nb\n", "a\nB\n", "a\nB\n", LABELS);
        assert_eq!((merged.conflicts, merged.text.as_str()), (0, "a\nB\n"));
    }

    #[test]
    fn insertions_and_deletions_on_each_side_merge() {
        let base = "1\n2\n3\n4\n5\n";
        let merged = merge(base, "0\n1\n2\n3\n4\n5\n", "1\n2\n4\n5\n6\n", LABELS);
        assert_eq!(merged.conflicts, 0);
        assert_eq!(merged.text, "0\n1\n2\n4\n5\n6\n");
    }

    #[test]
    fn different_changes_to_one_line_conflict_with_markers() {
        let merged = merge("a\nb\nc\n", "a\nmine\nc\n", "a\ntheirs\nc\n", LABELS);
        assert_eq!(merged.conflicts, 1);
        assert_eq!(
            merged.text,
            "a\n<<<<<<< yours\nmine\n||||||| as vendored\nb\n=======\ntheirs\n>>>>>>> built-in\nc\n"
        );
        assert!(has_conflict_markers(&merged.text));
    }

    #[test]
    fn one_sided_changes_are_taken_whole() {
        assert_eq!(merge("a\n", "a\n", "b\n", LABELS).text, "b\n");
        assert_eq!(merge("a\n", "b\n", "a\n", LABELS).text, "b\n");
        assert_eq!(merge("a", "a", "a\nb", LABELS).text, "a\nb");
    }
}
