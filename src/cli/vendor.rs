//! Vendoring: built-in packs written to disk for an org to own, while still tracking upstream.
//!
//! A vendored pack keeps a record (`.imggen-vendor.toml`) of the imggen and pack versions it came
//! from and the pristine text of every file as vendored (the base). With the base, imggen can
//! tell an org's edit (disk ≠ base) from an upstream change (base ≠ built-in), show the upstream
//! change as a diff, and update only the files the org never touched.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::pipeline::pack::{Packs, VENDOR_RECORD as RECORD};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub pack: String,
    /// Pack version as vendored.
    pub version: String,
    /// imggen version that vendored it.
    pub imggen: String,
    /// Path inside the pack → its text as vendored (or as last merged).
    pub base: BTreeMap<String, String>,
    /// Path → the upstream text a merge left conflict markers for. The file's `base` stays the
    /// old one, so `--status` keeps reporting the change until `--update` finds the markers
    /// resolved and records the merge.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending: BTreeMap<String, String>,
}

impl Record {
    /// The record in `folder`. Its paths come with the repository (a pull request can edit
    /// them), and `--update` writes and removes by them: each must stay inside the pack.
    fn read(folder: &Path) -> Result<Option<Self>> {
        let path = folder.join(RECORD);
        let record: Option<Self> =
            crate::output::files::read_toml(&path, "vendor the pack again into a new folder")?;
        if let Some(record) = &record
            && let Some(bad) = record
                .base
                .keys()
                .chain(record.pending.keys())
                .find(|p| !crate::pipeline::pack::stays_inside(p))
        {
            return Err(Error::VendorRecordPath {
                record: path,
                path: bad.clone(),
            });
        }
        Ok(record)
    }

    fn write(&self, folder: &Path) -> Result<()> {
        let body = toml_edit::ser::to_string_pretty(self).expect("the record is plain data");
        let text = format!(
            "# Written by `imggen vendor`: where this pack came from, and its files as vendored.\n\
             # `imggen vendor --status` and `--update` read it; do not edit by hand.\n{body}"
        );
        write_file(&folder.join(RECORD), &text)
    }
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    crate::output::files::write_atomic(path, text.as_bytes(), false)
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    Ok(crate::output::files::read_optional(path)?
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}

/// The built-in pack's files as `path → text`.
fn upstream(packs: &Packs, name: &str) -> Result<(String, BTreeMap<String, String>)> {
    let pack = packs.get(name)?;
    let files = pack
        .files
        .iter()
        .map(|(path, f)| (path.clone(), f.contents.clone()))
        .collect();
    Ok((pack.manifest.version.clone(), files))
}

/// Writes built-in packs into `into/<pack>/`. Refuses a folder that already exists.
pub fn vendor(packs: &Packs, names: &[String], into: &Path) -> Result<String> {
    // A folder of packs committed as a link would have this, `--status` and `--update` read,
    // write and remove elsewhere.
    crate::output::files::refuse_linked_folder(into)?;
    let mut report = String::new();
    let mut plans = Vec::new();
    for name in names {
        let folder = into.join(name);
        if folder.exists() {
            return Err(Error::pack(
                folder.display().to_string(),
                crate::error::Reason::AlreadyVendored,
            ));
        }
        plans.push((name, folder, upstream(packs, name)?));
    }
    for (name, folder, (version, files)) in plans {
        for (path, text) in &files {
            write_file(&folder.join(path), text)?;
        }
        let record = Record {
            pack: name.clone(),
            version: version.clone(),
            imggen: env!("CARGO_PKG_VERSION").to_string(),
            base: files.clone(),
            pending: BTreeMap::new(),
        };
        record.write(&folder)?;
        report.push_str(&format!(
            "vendored `{name}` {version} into {} ({})\n",
            folder.display(),
            crate::output::diff::count(files.len(), "file", "files")
        ));
    }
    Ok(report)
}

/// One file's state in a vendored pack.
#[derive(Debug, PartialEq, Eq)]
enum State {
    Same,
    /// Upstream changed it; the org did not: `--update` takes it.
    Upstream,
    /// The org changed it; upstream did not.
    Local,
    /// Both changed it: merge by hand.
    Both,
    /// New upstream, not on disk.
    Added,
    /// Gone upstream; unchanged here: `--update` removes it.
    Removed,
}

struct FileStatus {
    path: String,
    state: State,
    base: String,
    upstream: String,
}

fn statuses(
    folder: &Path,
    record: &Record,
    upstream: &BTreeMap<String, String>,
) -> Result<Vec<FileStatus>> {
    let mut paths: Vec<&String> = record.base.keys().chain(upstream.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut out = Vec::new();
    for path in paths {
        let base = record.base.get(path).cloned();
        let up = upstream.get(path).cloned();
        let disk = read_optional(&folder.join(path))?;
        let state = match (&base, &up, &disk) {
            (None, Some(_), None) => State::Added,
            (None, Some(u), Some(d)) if u == d => State::Same,
            (None, Some(_), Some(_)) => State::Both,
            (Some(b), None, Some(d)) if b == d => State::Removed,
            (Some(_), None, _) => State::Local,
            (Some(b), Some(u), Some(d)) => match (b != u, b != d) {
                (false, false) => State::Same,
                (true, false) => State::Upstream,
                (false, true) => State::Local,
                (true, true) if u == d => State::Same,
                (true, true) => State::Both,
            },
            (Some(b), Some(u), None) if b == u => State::Local,
            (Some(_), Some(_), None) => State::Both,
            (None, None, _) => continue,
        };
        out.push(FileStatus {
            path: path.clone(),
            state,
            base: base.unwrap_or_default(),
            upstream: up.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The vendored packs (folders with a record) directly inside `into`, sorted.
fn vendored(into: &Path) -> Result<Vec<(PathBuf, Record)>> {
    let entries = std::fs::read_dir(into).map_err(|e| Error::read(into, e))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::read(into, e))?;
        let folder = entry.path();
        // A vendored pack linked elsewhere: `--update` would write and remove there.
        if entry.file_type().is_ok_and(|t| t.is_symlink()) {
            if folder.join(RECORD).exists() {
                return Err(Error::pack(
                    folder.display().to_string(),
                    crate::error::Reason::Symlink {
                        path: String::new(),
                    },
                ));
            }
            continue;
        }
        if let Some(record) = Record::read(&folder)? {
            refuse_links_inside(&folder)?;
            found.push((folder, record));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// A vendored pack holds plain files and folders only: `--update` reads, writes and removes by
/// the record's paths, and a link committed inside (a folder pointing out of the project, a
/// template pointing at a login file) would take those reads and writes elsewhere.
fn refuse_links_inside(folder: &Path) -> Result<()> {
    for entry in walkdir::WalkDir::new(folder)
        .min_depth(1)
        .follow_links(false)
    {
        let entry = entry.map_err(|e| Error::read(folder, e.into()))?;
        if entry.path_is_symlink() {
            let relative = entry
                .path()
                .strip_prefix(folder)
                .unwrap_or(entry.path())
                .display()
                .to_string();
            return Err(Error::pack(
                folder.display().to_string(),
                crate::error::Reason::Symlink { path: relative },
            ));
        }
    }
    Ok(())
}

fn upstream_diff(status: &FileStatus, folder: &Path, color: bool) -> String {
    crate::output::diff::unified_diff(
        &status.base,
        &status.upstream,
        &format!("{}/{} (as vendored)", folder.display(), status.path),
        &format!("{}/{} (built-in now)", folder.display(), status.path),
        color,
    )
}

/// `vendor --status`: for each vendored pack, what upstream changed since, as diffs, until the
/// change is taken or merged (a merge with conflicts counts once its markers are resolved and
/// `--update` recorded it). Returns the report and whether any upstream change is waiting.
pub fn status(packs: &Packs, into: &Path, color: bool) -> Result<(String, bool)> {
    crate::output::files::refuse_linked_folder(into)?;
    let mut report = String::new();
    let mut pending = false;
    for (folder, record) in vendored(into)? {
        let (version, files) = upstream(packs, &record.pack)?;
        let list = statuses(&folder, &record, &files)?;
        let waiting: Vec<&FileStatus> = list
            .iter()
            .filter(|s| {
                matches!(
                    s.state,
                    State::Upstream | State::Both | State::Added | State::Removed
                )
            })
            .collect();
        let local = list.iter().filter(|s| s.state == State::Local).count();
        if waiting.is_empty() {
            report.push_str(&format!(
                "{}: up to date with built-in `{}` {version} ({} edited here)\n",
                folder.display(),
                record.pack,
                crate::output::diff::count(local, "file", "files"),
            ));
            continue;
        }
        pending = true;
        report.push_str(&format!(
            "{}: built-in `{}` changed since it was vendored ({} → {version}):\n",
            folder.display(),
            record.pack,
            record.version
        ));
        for s in &waiting {
            let pending = record.pending.contains_key(&s.path);
            let markers = pending
                && read_optional(&folder.join(&s.path))?
                    .is_some_and(|text| crate::cli::merge::has_conflict_markers(&text));
            let what = match s.state {
                _ if markers => "conflict markers from `imggen vendor --update`; resolve them",
                _ if pending => "conflict resolved here; `imggen vendor --update` records it",
                State::Upstream => "changed upstream; `imggen vendor --update` takes it",
                State::Both => "changed upstream and edited here; `imggen vendor --update` merges",
                State::Added => "new upstream; `imggen vendor --update` adds it",
                _ => "removed upstream; `imggen vendor --update` removes it",
            };
            report.push_str(&format!("  {}: {what}\n", s.path));
        }
        for s in waiting {
            report.push('\n');
            report.push_str(&upstream_diff(s, &folder, color));
        }
    }
    if report.is_empty() {
        report = format!("no vendored packs in {}\n", into.display());
    }
    Ok((report, pending))
}

/// A merge left conflict markers that are now resolved: the file's base becomes the upstream
/// text it was merged with. Returns the paths recorded.
fn record_resolved(folder: &Path, record: &mut Record) -> Result<Vec<String>> {
    let mut resolved = Vec::new();
    for (path, upstream) in record.pending.clone() {
        let disk = read_optional(&folder.join(&path))?.unwrap_or_default();
        if !crate::cli::merge::has_conflict_markers(&disk) {
            record.base.insert(path.clone(), upstream);
            record.pending.remove(&path);
            resolved.push(path);
        }
    }
    Ok(resolved)
}

/// The vendored packs `update` takes, with their records: the ones named, or every one in
/// `into`; refused when there is none.
fn to_update(names: &[String], into: &Path) -> Result<Vec<(PathBuf, Record)>> {
    crate::output::files::refuse_linked_folder(into)?;
    let folders: Vec<(PathBuf, Record)> = if names.is_empty() {
        vendored(into)?
    } else {
        names
            .iter()
            .map(|name| {
                let folder = into.join(name);
                let record = Record::read(&folder)?.ok_or_else(|| {
                    Error::pack(
                        folder.display().to_string(),
                        crate::error::Reason::NoVendorRecord { record: RECORD },
                    )
                })?;
                Ok((folder, record))
            })
            .collect::<Result<_>>()?
    };
    if folders.is_empty() {
        return Err(Error::pack(
            into.display().to_string(),
            crate::error::Reason::NothingToVendor,
        ));
    }
    Ok(folders)
}

/// `vendor --update [PACK...]` (no names: every vendored pack in `into`): takes upstream
/// changes into files the org never edited, and merges them three ways (base, yours, built-in)
/// into files it did. Conflicts are written into the file with markers and listed; the second
/// value says whether any remain.
pub fn update(packs: &Packs, names: &[String], into: &Path) -> Result<(String, bool)> {
    let folders = to_update(names, into)?;
    let mut report = String::new();
    let mut conflicted = false;
    for (folder, mut record) in folders {
        let resolved = record_resolved(&folder, &mut record)?;
        let (version, files) = upstream(packs, &record.pack)?;
        let list = statuses(&folder, &record, &files)?;
        let (mut taken, mut merged, mut conflicts) = (0, 0, Vec::new());
        let mut base = files.clone();
        for s in &list {
            let target = folder.join(&s.path);
            match s.state {
                State::Upstream | State::Added => {
                    write_file(&target, &s.upstream)?;
                    taken += 1;
                }
                State::Removed => {
                    std::fs::remove_file(&target).map_err(|e| Error::Write {
                        path: target.clone(),
                        source: e,
                    })?;
                    taken += 1;
                }
                State::Both if record.pending.contains_key(&s.path) => {
                    // Still holding the markers of an earlier merge.
                    base.insert(s.path.clone(), s.base.clone());
                    conflicts.push(s.path.clone());
                }
                State::Both => {
                    let disk = read_optional(&target)?.unwrap_or_default();
                    let built_in = format!("built-in `{}` {version}", record.pack);
                    let as_vendored = format!("as vendored ({})", record.version);
                    let result = crate::cli::merge::merge(
                        &s.base,
                        &disk,
                        &s.upstream,
                        ["yours", &built_in, &as_vendored],
                    );
                    write_file(&target, &result.text)?;
                    if result.conflicts == 0 {
                        merged += 1;
                    } else {
                        base.insert(s.path.clone(), s.base.clone());
                        record.pending.insert(s.path.clone(), s.upstream.clone());
                        conflicts.push(s.path.clone());
                    }
                }
                State::Same | State::Local => {}
            }
        }
        let record = Record {
            pack: record.pack.clone(),
            version: version.clone(),
            imggen: env!("CARGO_PKG_VERSION").to_string(),
            base,
            pending: record.pending,
        };
        record.write(&folder)?;
        report.push_str(&format!(
            "updated {} to built-in `{}` {version}: {}, {}, {}\n",
            folder.display(),
            record.pack,
            crate::output::diff::count(taken, "file taken", "files taken"),
            crate::output::diff::count(merged, "file merged", "files merged"),
            crate::output::diff::count(conflicts.len(), "conflict", "conflicts"),
        ));
        for path in resolved {
            report.push_str(&format!("  {path}: conflict resolved; merge recorded\n"));
        }
        for path in &conflicts {
            report.push_str(&format!(
                "  {path}: edited here and changed upstream in the same lines; resolve the \
                 conflict markers in {}, then run `imggen vendor --update` again\n",
                folder.join(path).display()
            ));
        }
        conflicted |= !conflicts.is_empty();
    }
    Ok((report, conflicted))
}
