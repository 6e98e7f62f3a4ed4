//! Comparing rendered files with a folder on disk: the heart of `imggen check` and the
//! snapshot tests, which use exactly this code.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::Result;
use crate::output::diff::unified_diff;
use crate::output::manifest::Manifest;
use crate::output::tree::Files;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub path: String,
    pub on_disk: Vec<u8>,
    pub rendered: Vec<u8>,
    /// The file on disk is not what imggen last wrote there: someone edited it.
    pub hand_edited: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drift {
    pub changed: Vec<Changed>,
    pub missing: Vec<String>,
    /// Files imggen generated earlier that the current render no longer produces.
    pub stale: Vec<String>,
    /// A render into the folder was interrupted (its manifest says so, or it left the
    /// temporary of its marker or of its complete manifest): some files may be old, some new.
    pub incomplete: bool,
    /// What the build contexts hold that the profile does not render (`check --untracked`
    /// only): relative paths, in order. Rendering again does not remove them.
    pub untracked: Vec<String>,
}

impl Drift {
    pub fn is_clean(&self) -> bool {
        !self.render_fixes() && self.untracked.is_empty()
    }

    /// Whether rendering again changes the folder: everything but what is untracked.
    pub fn render_fixes(&self) -> bool {
        !(self.changed.is_empty()
            && self.missing.is_empty()
            && self.stale.is_empty()
            && !self.incomplete)
    }
}

pub fn compare(files: &Files, dir: &Path) -> Result<Drift> {
    // Never read a folder while a render is writing into it.
    let lock = crate::output::files::lock_folder(dir, crate::output::files::Lock::Shared)?;
    let read = |relative: &str, expected: usize| {
        crate::output::files::read_output(dir, lock.as_ref(), relative, expected)
    };
    let previous = match Manifest::read_bytes(dir, lock.as_ref())? {
        Some(bytes) => Manifest::parse(dir, &bytes)?,
        None => Manifest::default(),
    };
    let mut drift = Drift::default();
    for (path, file) in files {
        // A file or folder of imggen's in the way: rendering sets it aside (it is stale).
        let read = read(path, file.contents.len()).or_else(|error| {
            crate::output::write::giving_way(dir, lock.as_ref(), error, files, false, &previous)
                .map(|_| None)
        });
        match read? {
            Some(on_disk) if on_disk == file.contents => {}
            Some(on_disk) => {
                let hand_edited = previous.written(path, &on_disk) == Some(false);
                drift.changed.push(Changed {
                    path: path.clone(),
                    on_disk,
                    rendered: file.contents.clone(),
                    hand_edited,
                });
            }
            None => drift.missing.push(path.clone()),
        }
    }
    for path in previous.paths() {
        // A file, not the folder a restructure put in its place.
        let file = || std::fs::symlink_metadata(dir.join(path)).is_ok_and(|meta| !meta.is_dir());
        if !files.contains_key(path) && file() {
            drift.stale.push(path.clone());
        }
    }
    // Last, as it lets go of the lock.
    drift.incomplete = previous.incomplete || lock.is_some_and(crate::output::write::interrupted);
    Ok(drift)
}

/// Whether `dir` holds, whole, the render whose manifest has the digest `manifest`: its manifest
/// is that one, every file it lists hashes as listed, and no render into it was interrupted.
/// Then the folder is current, as [`compare`] with that render would find it (the manifest
/// lists what the render writes, so nothing is missing or stale), and this gives the number of
/// files; otherwise `None`: the caller renders and compares, which says what differs.
pub fn unchanged(dir: &Path, manifest: &str) -> Result<Option<usize>> {
    let lock = crate::output::files::lock_folder(dir, crate::output::files::Lock::Shared)?;
    let Some(bytes) = Manifest::read_bytes(dir, lock.as_ref())? else {
        return Ok(None);
    };
    if crate::digest::hash(&bytes) != manifest {
        return Ok(None);
    }
    let listed = Manifest::parse(dir, &bytes)?;
    for (path, digest) in &listed.files {
        let read = crate::output::files::read_output(dir, lock.as_ref(), path, GUESS)?;
        if read.is_none_or(|on_disk| crate::digest::hash(&on_disk) != *digest) {
            return Ok(None);
        }
    }
    // Last, as it lets go of the lock.
    let interrupted = lock.is_some_and(crate::output::write::interrupted);
    Ok((!listed.incomplete && !interrupted).then_some(listed.files.len()))
}

/// What a rendered file is read into first (grown when it is longer): most are a few KB.
const GUESS: usize = 8192;

/// A readable report: one line per drifted file, then a unified diff for each changed one.
pub fn report(drift: &Drift, dir: &Path, color: bool) -> String {
    let mut out = String::new();
    let shown = dir.display();
    if drift.incomplete {
        let _ = writeln!(
            out,
            "incomplete: {shown} (a render into it was interrupted; render again to finish it)"
        );
    }
    for changed in &drift.changed {
        let why = if changed.hand_edited {
            "hand-edited since last render"
        } else {
            "differs from render"
        };
        let _ = writeln!(out, "changed: {shown}/{} ({why})", changed.path);
    }
    for path in &drift.missing {
        let _ = writeln!(out, "missing: {shown}/{path} (the profile renders it)");
    }
    for path in &drift.stale {
        let _ = writeln!(
            out,
            "stale:   {shown}/{path} (generated earlier, no longer rendered)"
        );
    }
    for path in &drift.untracked {
        let _ = writeln!(
            out,
            "untracked: {shown}/{} (in a build context, not rendered: the engine is sent it)",
            // A name committed in a pull request: its control characters shown, not sent.
            crate::output::diff::printable(path)
        );
    }
    for changed in &drift.changed {
        out.push('\n');
        out.push_str(&unified_diff(
            &String::from_utf8_lossy(&changed.on_disk),
            &String::from_utf8_lossy(&changed.rendered),
            &format!("{shown}/{} (on disk)", changed.path),
            &format!("{shown}/{} (rendered)", changed.path),
            color,
        ));
    }
    out
}

/// The same result as [`report`], as JSON for bots and dashboards.
pub fn to_json(drift: &Drift, dir: &Path, files: usize) -> serde_json::Value {
    let changed: Vec<serde_json::Value> = drift
        .changed
        .iter()
        .map(|c| {
            serde_json::json!({
                "path": c.path,
                "hand_edited": c.hand_edited,
                "diff": unified_diff(
                    &String::from_utf8_lossy(&c.on_disk),
                    &String::from_utf8_lossy(&c.rendered),
                    &format!("{}/{} (on disk)", dir.display(), c.path),
                    &format!("{}/{} (rendered)", dir.display(), c.path),
                    false,
                ),
            })
        })
        .collect();
    serde_json::json!({
        "dir": dir.display().to_string(),
        "files": files,
        "in_sync": drift.is_clean(),
        "incomplete": drift.incomplete,
        "changed": changed,
        "missing": drift.missing,
        "stale": drift.stale,
        "untracked": drift.untracked,
    })
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

pub fn compare_renders(left: &Files, right: &Files) -> FileDifferences {
    let mut paths: Vec<&String> = left.keys().chain(right.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut out = FileDifferences::default();
    for path in paths {
        let text = |files: &Files| {
            files
                .get(path)
                .map(|f| String::from_utf8_lossy(&f.contents).into_owned())
        };
        match (text(left), text(right)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b))
                if crate::pipeline::header::without_header(&a)
                    == crate::pipeline::header::without_header(&b) =>
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
