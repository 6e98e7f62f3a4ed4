//! Writing rendered files into the output folder: all or nothing, one writer at a time, and
//! never losing anything a user wrote.
//!
//! [`plan`] finds every refusal first (a file imggen did not write, a hand edit, a link inside
//! the folder) and touches nothing. [`execute`] (and [`execute_all`], for many folders with the
//! flushes shared) then:
//! 1. takes the folder's advisory lock (a second imggen waits for it, and says so), removes the
//!    temporary files an interrupted render left, and plans again under the lock;
//! 2. renames into place a manifest marked incomplete, with the hashes of the files about to be
//!    replaced (written first under its reserved temporary name in the folder's root), before
//!    it writes anything else: so no other temporary file exists without the marker in place,
//!    and `check` asks for the two reserved names instead of listing the folder
//!    ([`interrupted`]);
//! 3. stages every new file under a temporary name unique to the process, beside its target,
//!    and the complete manifest under its reserved name, then flushes them and the marker to
//!    disk at once (`syncfs`, or an `fsync` per file where there is none);
//! 4. renames every staged file into place; if one rename fails, the files already replaced are
//!    put back and the manifest restored, so the folder is as it was (as it is when staging or
//!    the flush fails);
//! 5. removes the files no longer rendered, flushes the folders' entries, and renames the
//!    complete manifest into place last, and flushes it.
//!
//! [`plan_job`] also says whether a folder is current (executing would write nothing at all):
//! `render --all` renders again, to write, only the folders that are not.
//!
//! A render killed at any point leaves whole files only (old or new), and a folder that `check`
//! reports as incomplete until the next `render` finishes it.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output::files::{
    FolderLock, Lock, lock_folder, read_output, stage_beside, write_atomic,
};
use crate::output::manifest::{self, Manifest};
use crate::output::tree::Files;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub create: Vec<String>,
    pub update: Vec<String>,
    pub unchanged: Vec<String>,
    /// imggen's files the current render no longer produces.
    pub remove: Vec<String>,
    /// Files no longer produced that were edited by hand: kept.
    pub keep: Vec<String>,
    /// Generated files edited by hand that this render would overwrite (without `--force`).
    pub conflicts: Vec<PathBuf>,
    /// imggen's own files, or folders of them, where this render needs the other kind (a pack
    /// that turned a file into a folder, or the reverse): set aside under a temporary name
    /// before staging, removed with the files no longer rendered (all of them in `remove`).
    pub set_aside: Vec<String>,
    /// The bytes the plan read of each file it updates or removes, read under the folder's
    /// lock: the marker's hashes and a rollback's old contents come from them, not from
    /// reading each file again.
    pub old: std::collections::BTreeMap<String, Vec<u8>>,
    /// Executing it would write nothing: every file and the manifest are already what this
    /// render writes, and no interrupted render left anything to finish (known only to
    /// [`plan_job`]; `false` otherwise).
    pub current: bool,
}

impl Plan {
    /// Refuses a plan that would overwrite a hand edit: nothing is written then.
    pub fn refuse_conflicts(&self) -> Result<()> {
        if self.conflicts.is_empty() {
            Ok(())
        } else {
            Err(Error::HandEdited {
                paths: self.conflicts.clone(),
            })
        }
    }

    fn changes_files(&self) -> bool {
        !(self.create.is_empty() && self.update.is_empty() && self.remove.is_empty())
    }
}

/// What rendering `files` into `dir` would do, read under the folder's shared lock (so never
/// in the middle of another render's writes), after verifying the files. Writes nothing.
pub fn plan(files: &Files, dir: &Path, force: bool) -> Result<Plan> {
    crate::pipeline::verify::verify(files)?;
    let lock = lock_folder(dir, Lock::Shared)?;
    plan_locked(files, dir, lock.as_ref(), force, None)
}

/// [`plan`] for a job, which also says whether executing it would write anything at all
/// ([`Plan::current`]): `render --all` renders again only the folders that are not current.
/// A current folder holds these very bytes already, verified when they were written (as `check`
/// has it): the files are verified only when the folder is not.
pub fn plan_job(job: &Job<'_>, force: bool) -> Result<Plan> {
    let plan = {
        let lock = lock_folder(job.dir, Lock::Shared)?;
        plan_locked(job.files, job.dir, lock.as_ref(), force, Some(job.manifest))?
    };
    if !job.verified && !plan.current {
        crate::pipeline::verify::verify(job.files)?;
    }
    Ok(plan)
}

/// The plan, read under `lock` (the folder's, `None` when there was no folder to lock).
fn plan_locked(
    files: &Files,
    dir: &Path,
    lock: Option<&FolderLock>,
    force: bool,
    manifest: Option<&Manifest>,
) -> Result<Plan> {
    // A lock was opened as a folder: only without one is there something to ask.
    if lock.is_none() {
        match std::fs::metadata(dir) {
            Ok(meta) if !meta.is_dir() => {
                return Err(Error::OutNotDir {
                    path: dir.to_path_buf(),
                });
            }
            // No folder yet: every file is new, nothing to read.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(all_new(files)),
            _ => {}
        }
    }
    let old_manifest = Manifest::read_bytes(dir, lock)?;
    let previous = match &old_manifest {
        Some(bytes) => Manifest::parse(dir, bytes)?,
        None => Manifest::default(),
    };
    let mut plan = plan_against(files, dir, lock, force, &previous)?;
    if let (Some(manifest), Some(old)) = (manifest, &old_manifest) {
        plan.current = !changes(&plan, &previous)
            && complete_manifest(manifest, files, &plan, &previous)
                .to_text()
                .as_bytes()
                == old.as_slice()
            && crate::output::files::temporaries(dir).is_empty();
    }
    Ok(plan)
}

/// Whether carrying out `plan` changes files, or finishes the interrupted render `previous`
/// (the folder's manifest) records.
fn changes(plan: &Plan, previous: &Manifest) -> bool {
    plan.changes_files() || previous.incomplete
}

/// The manifest a render leaves: `manifest` with the hash of every one of `files`, and still
/// listing the files it keeps (no longer rendered, edited by hand), so that a later render or
/// check keeps recognising them as imggen's.
fn complete_manifest(
    manifest: &Manifest,
    files: &Files,
    plan: &Plan,
    previous: &Manifest,
) -> Manifest {
    let mut complete = manifest.with_files(files);
    for path in &plan.keep {
        if let Some(hash) = previous.files.get(path) {
            complete.files.insert(path.clone(), hash.clone());
        }
    }
    complete
}

/// The plan for an empty folder: create everything.
fn all_new(files: &Files) -> Plan {
    Plan {
        create: files.keys().cloned().collect(),
        ..Plan::default()
    }
}

/// Whether `dir` holds nothing (read under its lock, so nothing appears meanwhile).
fn is_empty(dir: &Path) -> Result<bool> {
    let mut entries = std::fs::read_dir(dir).map_err(|e| Error::read(dir, e))?;
    Ok(entries.next().is_none())
}

/// A guess at the size of a file imggen no longer renders: the read grows past it.
const OLD_FILE_GUESS: usize = 4096;

/// The plan, given the manifest `dir` holds (`previous`), read under `lock`. A link inside the
/// folder is refused ([`read_output`]): everything is later written by path.
fn plan_against(
    files: &Files,
    dir: &Path,
    lock: Option<&FolderLock>,
    force: bool,
    previous: &Manifest,
) -> Result<Plan> {
    let mut plan = Plan::default();
    for (path, file) in files {
        let target = dir.join(path);
        let existing = match read_output(dir, lock, path, file.contents.len()) {
            Err(error) => {
                let way = giving_way(dir, lock, error, files, force, previous)?;
                if !plan.set_aside.contains(&way) {
                    plan.set_aside.push(way);
                }
                None
            }
            Ok(existing) => existing,
        };
        match existing {
            None => plan.create.push(path.clone()),
            Some(existing) if existing == file.contents => plan.unchanged.push(path.clone()),
            Some(existing) => {
                let written = previous.written(path, &existing);
                let ours = written.is_some() || crate::pipeline::header::is_generated(&existing);
                if !ours && !force {
                    return Err(Error::NotOurs { path: target });
                }
                // imggen wrote it, and someone changed it since: that edit is not lost silently.
                if written == Some(false) && !force {
                    plan.conflicts.push(target);
                }
                plan.update.push(path.clone());
                plan.old.insert(path.clone(), existing);
            }
        }
    }
    for path in previous.paths() {
        if files.contains_key(path) {
            continue;
        }
        // Where the other kind now stands (a restructure a killed render carried out), the
        // old file is gone.
        let old = match read_output(dir, lock, path, OLD_FILE_GUESS) {
            Err(Error::InTheWay { .. }) => None,
            read => read?,
        };
        match old {
            None => {}
            Some(existing) if force || previous.written(path, &existing) == Some(true) => {
                plan.remove.push(path.clone());
                plan.old.insert(path.clone(), existing);
            }
            Some(_) => plan.keep.push(path.clone()),
        }
    }
    Ok(plan)
}

/// What gives way when reading an output of the render `files` into `dir` failed with `error`:
/// the path of the file, or folder, of the other kind in the way ([`Error::InTheWay`]), when
/// it is imggen's own to replace ([`ours_to_replace`]). Any other error is returned, and so
/// is that one when the thing in the way is not all imggen's.
pub fn giving_way(
    dir: &Path,
    lock: Option<&FolderLock>,
    error: Error,
    files: &Files,
    force: bool,
    previous: &Manifest,
) -> Result<String> {
    let Error::InTheWay { path, file } = error else {
        return Err(error);
    };
    let way = file.as_deref().unwrap_or(&path).strip_prefix(dir).ok();
    match way.map(path_text) {
        Some(way) if ours_to_replace(dir, lock, &way, files, force, previous) => Ok(way),
        _ => Err(Error::InTheWay { path, file }),
    }
}

/// Whether `way` (a file, or a folder, of the output folder `dir` where this render needs the
/// other kind) holds only files imggen wrote there, as it wrote them (or edited, with `force`),
/// and that this render no longer writes: those imggen sets aside and removes. Anything else in
/// the way (a file of the user's, a hand edit, a link) is left for the user to clear.
fn ours_to_replace(
    dir: &Path,
    lock: Option<&FolderLock>,
    way: &str,
    files: &Files,
    force: bool,
    previous: &Manifest,
) -> bool {
    let ours = |relative: &str| {
        !files.contains_key(relative)
            && match read_output(dir, lock, relative, OLD_FILE_GUESS) {
                Ok(Some(bytes)) => match previous.written(relative, &bytes) {
                    Some(unchanged) => unchanged || force,
                    None => false,
                },
                _ => false,
            }
    };
    let root = dir.join(way);
    match std::fs::symlink_metadata(&root) {
        Ok(meta) if meta.is_file() => ours(way),
        // What an interrupted render left under a temporary name is not counted: `render`
        // removes it before it plans, and `check` reports the folder unfinished.
        Ok(meta) if meta.is_dir() => walkdir::WalkDir::new(&root)
            .follow_links(false)
            .into_iter()
            .filter_entry(|entry| {
                !entry
                    .file_name()
                    .to_str()
                    .is_some_and(crate::output::files::is_temporary)
            })
            .all(|entry| match entry {
                Ok(entry) if entry.file_type().is_dir() => true,
                Ok(entry) if entry.file_type().is_file() => entry
                    .path()
                    .strip_prefix(dir)
                    .is_ok_and(|relative| ours(&path_text(relative))),
                _ => false,
            }),
        _ => false,
    }
}

/// A path inside the output folder as the manifest writes it (`/` between parts).
fn path_text(relative: &Path) -> String {
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// One folder to render into: what goes in it, and its manifest.
pub struct Job<'a> {
    pub files: &'a Files,
    pub manifest: &'a Manifest,
    pub dir: &'a Path,
    /// `files` were verified already ([`plan_job`] of these very files): not done twice.
    pub verified: bool,
}

/// Renders into `dir` all or nothing, under the folder's lock (see the module comment).
/// Returns the plan carried out, made again under the lock.
pub fn execute(files: &Files, manifest: &Manifest, dir: &Path, force: bool) -> Result<Plan> {
    let mut plans = execute_all(
        &[Job {
            files,
            manifest,
            dir,
            verified: false,
        }],
        force,
    )?;
    Ok(plans.remove(0))
}

/// A folder being written: its lock, what it held, and what goes in.
struct Open<'a> {
    job: &'a Job<'a>,
    /// Held until the folder is written: no other imggen reads or writes it meanwhile.
    _lock: Option<FolderLock>,
    manifest_path: PathBuf,
    old_manifest: Option<Vec<u8>>,
    plan: Plan,
    complete: Manifest,
    /// Whether files change (or an interrupted render is finished).
    changes: bool,
    staged: Vec<Staged>,
    /// Whether the incomplete marker is in place (the manifest replaced by it).
    marker_placed: bool,
    /// The complete manifest, staged under a temporary name (when it changes).
    complete_staged: Option<PathBuf>,
    /// What [`Plan::set_aside`] names, each renamed to a temporary name beside it:
    /// `(where it was, where it is)`.
    aside: Vec<(PathBuf, PathBuf)>,
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// [`execute`] for many folders at once, each all or nothing, with the flushes to disk shared:
/// every folder's incomplete marker placed, its files and complete manifest staged, then all
/// flushed together; every folder's files renamed (a folder whose rename fails is rolled back;
/// the others keep their new files and stay marked incomplete, as after a crash, until the next
/// render finishes them); flushed; the complete manifests renamed and flushed. Three flushes
/// however many folders, instead of three per folder. Between two flushes the folders are
/// independent, so each step runs on every core. Returns each folder's plan, in order.
pub fn execute_all(jobs: &[Job<'_>], force: bool) -> Result<Vec<Plan>> {
    // The locks one at a time, in the jobs' order: two imggens writing the same folders take
    // them in the same order, so neither waits on the other in a cycle.
    let mut locked = Vec::with_capacity(jobs.len());
    for job in jobs {
        std::fs::create_dir_all(job.dir).map_err(write_error(job.dir))?;
        locked.push((job, lock_folder(job.dir, Lock::Exclusive)?));
    }
    let mut open = in_order(locked, |(job, lock)| open_folder(job, lock, force))?;
    let result = write_folders(&mut open);
    if result.is_err() {
        for folder in &open {
            discard(&folder.staged);
            if let Some(temp) = &folder.complete_staged {
                let _ = std::fs::remove_file(temp);
            }
        }
    }
    result?;
    Ok(open.into_iter().map(|o| o.plan).collect())
}

/// `work` on every item, on every core ([`crate::parallel::map_in_order`]); every item is
/// worked on, and the first error in the items' order is the one returned.
fn in_order<I: Send, T: Send>(
    items: Vec<I>,
    work: impl Fn(I) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    crate::parallel::map_in_order(items, work)
        .into_iter()
        .collect()
}

/// `work` on every folder (on every core, see [`in_order`]); the first error in order.
fn each_folder(
    open: &mut [Open<'_>],
    work: impl Fn(&mut Open<'_>) -> Result<()> + Sync,
) -> Result<()> {
    in_order(open.iter_mut().collect(), work).map(|_| ())
}

/// Cleans and plans one locked folder (nothing written yet but the folder itself).
fn open_folder<'a>(job: &'a Job<'a>, lock: Option<FolderLock>, force: bool) -> Result<Open<'a>> {
    if !job.verified {
        crate::pipeline::verify::verify(job.files)?;
    }
    let dir = job.dir;
    let manifest_path = dir.join(manifest::FILE_NAME);
    // A new (empty) folder has nothing to read: no leftovers, no manifest, no files.
    let empty = is_empty(dir)?;
    if !empty {
        remove_temporaries(dir);
    }
    // The manifest is read once: for the plan, the record of kept files, and a rollback.
    let old_manifest = if empty {
        None
    } else {
        Manifest::read_bytes(dir, lock.as_ref())?
    };
    let previous = match &old_manifest {
        Some(bytes) => Manifest::parse(dir, bytes)?,
        None => Manifest::default(),
    };
    let plan = if empty {
        all_new(job.files)
    } else {
        plan_against(job.files, dir, lock.as_ref(), force, &previous)?
    };
    plan.refuse_conflicts()?;
    let complete = complete_manifest(job.manifest, job.files, &plan, &previous);
    let changes = changes(&plan, &previous);
    Ok(Open {
        job,
        _lock: lock,
        manifest_path,
        old_manifest,
        plan,
        complete,
        changes,
        staged: Vec::new(),
        marker_placed: false,
        complete_staged: None,
        aside: Vec::new(),
    })
}

/// Writes every folder in three steps, each flushed before the next: everything staged beside
/// its target, the files renamed into place, then the complete manifests.
fn write_folders(open: &mut [Open<'_>]) -> Result<()> {
    let Some(touched) = stage_folders(open)? else {
        return Ok(());
    };
    replace_files(open)?;
    // 3. The complete manifests, last.
    each_folder(open, |folder| match &folder.complete_staged {
        Some(temp) => {
            std::fs::rename(temp, &folder.manifest_path).map_err(write_error(&folder.manifest_path))
        }
        None => Ok(()),
    })?;
    flush(&[], &paths(&touched))
}

/// Both kinds of flush, an error naming the first folder.
fn flush(files: &[&Path], folders: &[&Path]) -> Result<()> {
    crate::output::files::flush(files, folders).map_err(|source| Error::Write {
        path: folders
            .first()
            .map_or_else(PathBuf::new, |f| f.to_path_buf()),
        source,
    })
}

/// Step 1; the folders whose complete manifest is staged, or `None` when nothing was.
fn stage_folders(open: &mut [Open<'_>]) -> Result<Option<Vec<PathBuf>>> {
    // 1. In every folder that changes, the incomplete marker renamed into place before anything
    // else is written, so no other temporary file exists without it; then every new file and
    // every complete manifest staged, and all of it flushed at once.
    // The folders are independent until a flush: each one's work runs on every core.
    let staging = each_folder(open, |folder| {
        let text = folder.complete.to_text();
        if folder.changes {
            place_marker(folder)?;
        }
        if folder.changes || folder.old_manifest.as_deref() != Some(text.as_bytes()) {
            let temp = folder.job.dir.join(COMPLETE_TEMPORARY);
            write_reserved(&temp, text.as_bytes()).map_err(write_error(&temp))?;
            folder.complete_staged = Some(temp);
        }
        if !folder.plan.set_aside.is_empty() {
            set_aside(folder)?;
        }
        if folder.changes {
            folder.staged = stage(folder.job.files, &folder.plan, folder.job.dir)?;
        }
        Ok(())
    });
    let staged: Vec<&Path> = open
        .iter()
        .flat_map(|o| {
            let files = o.staged.iter().map(|s| s.temp.as_path());
            let marker = o.marker_placed.then_some(o.manifest_path.as_path());
            files.chain(marker).chain(o.complete_staged.as_deref())
        })
        .collect();
    // Owned: the steps below work on `open` again.
    let touched: Vec<PathBuf> = open
        .iter()
        .filter(|o| o.complete_staged.is_some())
        .map(|o| o.job.dir.to_path_buf())
        .collect();
    let flushed = staging.and_then(|()| match staged.is_empty() {
        true => Ok(()),
        false => flush(&staged, &paths(&touched)),
    });
    if let Err(error) = flushed {
        // Nothing replaced yet: each folder's own manifest goes back, and what was set aside.
        for folder in open.iter().filter(|o| o.marker_placed) {
            discard(&folder.staged);
            put_back(&folder.aside);
            restore_manifest(&folder.manifest_path, folder.old_manifest.as_deref());
        }
        return Err(error);
    }
    if staged.is_empty() {
        return Ok(None);
    }
    Ok(Some(touched))
}

/// Step 2.
fn replace_files(open: &mut [Open<'_>]) -> Result<()> {
    let dirs: Vec<PathBuf> = open
        .iter()
        .filter(|o| o.changes)
        .map(|o| o.job.dir.to_path_buf())
        .collect();
    // 2. Every folder's files renamed into place, and the ones no longer rendered removed. A
    // failed rename rolls its folder back; the others stay marked incomplete (their new files
    // in place), for the next render to finish.
    each_folder(open, |folder| {
        if !folder.changes {
            return Ok(());
        }
        if let Err(error) = commit(
            &folder.staged,
            &folder.manifest_path,
            folder.old_manifest.as_deref(),
        ) {
            put_back(&folder.aside);
            return Err(error);
        }
        let set_aside = |path: &str| {
            folder.plan.set_aside.iter().any(|way| {
                path.strip_prefix(way.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
        };
        for path in folder.plan.remove.iter().filter(|p| !set_aside(p)) {
            let target = folder.job.dir.join(path);
            std::fs::remove_file(&target).map_err(write_error(&target))?;
            remove_empty_parents(&target, folder.job.dir);
        }
        for (_, temp) in &folder.aside {
            crate::output::files::remove_entry(temp).map_err(write_error(temp))?;
        }
        Ok(())
    })?;
    // Subfolders the renames went into, and those that held what was set aside (removed
    // now), for systems without `syncfs`.
    let mut folders: Vec<&Path> = open
        .iter()
        .flat_map(|o| {
            let renamed = o.staged.iter().filter_map(|s| s.target.parent());
            renamed.chain(o.aside.iter().filter_map(|(_, temp)| temp.parent()))
        })
        .chain(dirs.iter().map(PathBuf::as_path))
        .collect();
    folders.sort();
    folders.dedup();
    flush(&[], &folders)?;
    Ok(())
}

/// Renames each of `folder`'s [`Plan::set_aside`] to a temporary name beside it, out of the way
/// of the files staged next. The incomplete marker is made durable first, so that no crash
/// leaves the folder without it while something is set aside (the next render removes what is
/// left under a temporary name, and finishes the folder). On a failure what was set aside is
/// put back.
fn set_aside(folder: &mut Open<'_>) -> Result<()> {
    let dir = folder.job.dir;
    crate::output::files::flush(&[folder.manifest_path.as_path()], &[dir])
        .map_err(write_error(&folder.manifest_path))?;
    for way in &folder.plan.set_aside {
        let from = dir.join(way);
        let name = from.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let temp = from.with_file_name(crate::output::files::temporary_name(name));
        if let Err(source) = std::fs::rename(&from, &temp) {
            put_back(&folder.aside);
            return Err(Error::Write { path: from, source });
        }
        folder.aside.push((from, temp));
    }
    Ok(())
}

/// Puts back what [`set_aside`] moved, once what was staged in its place is gone (the empty
/// folders staging made where a file was are removed first).
fn put_back(aside: &[(PathBuf, PathBuf)]) {
    for (from, temp) in aside.iter().rev() {
        if from.is_dir() && !from.is_symlink() {
            for entry in walkdir::WalkDir::new(from).contents_first(true) {
                if let Ok(entry) = entry
                    && entry.file_type().is_dir()
                {
                    let _ = std::fs::remove_dir(entry.path());
                }
            }
        }
        let _ = std::fs::rename(temp, from);
    }
}

/// Marks `folder` incomplete: its manifest replaced by the complete one marked so, with the
/// hashes of the files about to be replaced or removed, as they are now (so that after a crash
/// the next render knows both the old and the new bytes for imggen's). Staged under a temporary
/// name in the folder's root and renamed; flushed with the staged files.
fn place_marker(folder: &mut Open<'_>) -> Result<()> {
    let dir = folder.job.dir;
    let mut marker = folder.complete.clone();
    marker.incomplete = true;
    for (path, old) in &folder.plan.old {
        marker
            .replacing
            .insert(path.clone(), crate::digest::hash(old));
    }
    let path = &folder.manifest_path;
    let temp = dir.join(MARKER_TEMPORARY);
    write_reserved(&temp, marker.to_text().as_bytes()).map_err(write_error(&temp))?;
    if let Err(source) = std::fs::rename(&temp, path) {
        let _ = std::fs::remove_file(&temp);
        return Err(Error::Write {
            path: path.clone(),
            source,
        });
    }
    folder.marker_placed = true;
    Ok(())
}

/// The temporary names of the incomplete marker and of the complete manifest, in an output
/// folder's root. Fixed, as one writer at a time holds the folder's lock, so that
/// [`interrupted`] asks for two names instead of listing the folder; temporaries like any other
/// (`files::is_temporary`), removed by the next render.
const MARKER_TEMPORARY: &str = ".imggen-manifest.toml.imggen-tmp-marker";
const COMPLETE_TEMPORARY: &str = ".imggen-manifest.toml.imggen-tmp-complete";

/// Writes a manifest under its reserved temporary name, as a new file: whatever is left under
/// that name (by an interrupted render, or anyone) is removed first, never written through.
fn write_reserved(temp: &Path, contents: &[u8]) -> std::io::Result<()> {
    match crate::output::files::write_unsynced(temp, contents, 0o644) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(temp)?;
            crate::output::files::write_unsynced(temp, contents, 0o644)
        }
        result => result,
    }
}

/// Whether a render into the folder `lock` holds (let go of here) was interrupted before its
/// manifest said so: one of the two reserved temporaries is in the folder's root. A render
/// writes its marker before anything else, so no other temporary of it is left without the
/// marker in place or its temporary there (see the module comment).
pub fn interrupted(lock: crate::output::files::FolderLock) -> bool {
    [MARKER_TEMPORARY, COMPLETE_TEMPORARY]
        .iter()
        .any(|name| lock.has_entry(name))
}

/// Puts a folder's manifest back as it was before a render that failed (none, if it had none).
fn restore_manifest(path: &Path, old: Option<&[u8]>) {
    let _ = match old {
        Some(bytes) => write_atomic(path, bytes, false).map_err(|_| ()),
        None => std::fs::remove_file(path).map_err(|_| ()),
    };
}

fn paths(owned: &[PathBuf]) -> Vec<&Path> {
    owned.iter().map(PathBuf::as_path).collect()
}

/// Temporary files (and folders set aside) an interrupted imggen left (only called under the
/// lock, when none of ours exist). Links are not followed.
fn remove_temporaries(dir: &Path) {
    for leftover in crate::output::files::temporaries(dir) {
        let _ = crate::output::files::remove_entry(&leftover);
    }
}

/// A new file staged under a temporary name (flushed with the rest before it is renamed), and
/// what it replaces.
struct Staged {
    temp: PathBuf,
    target: PathBuf,
    /// The bytes and mode of the file it replaces, to put back on a rollback.
    old: Option<(Vec<u8>, u32)>,
}

fn stage(files: &Files, plan: &Plan, dir: &Path) -> Result<Vec<Staged>> {
    let mut staged = Vec::new();
    // Each folder made once (the output folder exists already).
    let mut made = std::collections::BTreeSet::from([dir.to_path_buf()]);
    let updated = plan.update.iter().map(|p| (p, true));
    for (path, replaces) in plan.create.iter().map(|p| (p, false)).chain(updated) {
        let file = &files[path];
        let target = dir.join(path);
        let folder = target.parent().unwrap_or(dir).to_path_buf();
        let mode = if file.executable { 0o755 } else { 0o644 };
        // What a rollback puts back: only an updated file had something before.
        let old = match replaces {
            true => plan.old.get(path).map(|bytes| {
                let mode = crate::output::files::mode_of(&target).unwrap_or(0o644);
                (bytes.clone(), mode)
            }),
            false => None,
        };
        let folder_made = if made.contains(&folder) {
            Ok(())
        } else {
            let result = std::fs::create_dir_all(&folder);
            made.insert(folder);
            result
        };
        match folder_made.and_then(|()| stage_beside(&target, &file.contents, mode)) {
            Ok(temp) => staged.push(Staged { temp, target, old }),
            Err(source) => {
                discard(&staged);
                return Err(Error::Write {
                    path: target,
                    source,
                });
            }
        }
    }
    Ok(staged)
}

fn discard(staged: &[Staged]) {
    for s in staged {
        let _ = std::fs::remove_file(&s.temp);
    }
}

/// Renames every staged file into place. On a failure the files already replaced get their old
/// contents back (new ones are removed), the rest are discarded and the manifest is restored.
fn commit(staged: &[Staged], manifest_path: &Path, old_manifest: Option<&[u8]>) -> Result<()> {
    for (index, s) in staged.iter().enumerate() {
        if let Err(source) = std::fs::rename(&s.temp, &s.target) {
            for done in &staged[..index] {
                let _ = match &done.old {
                    Some((bytes, mode)) => {
                        crate::output::files::write_atomic_mode(&done.target, bytes, *mode)
                            .map_err(|_| ())
                    }
                    None => std::fs::remove_file(&done.target).map_err(|_| ()),
                };
            }
            discard(&staged[index..]);
            restore_manifest(manifest_path, old_manifest);
            return Err(Error::Write {
                path: s.target.clone(),
                source,
            });
        }
    }
    Ok(())
}

fn remove_empty_parents(file: &Path, root: &Path) {
    let mut current = file.parent();
    while let Some(folder) = current {
        if folder == root || std::fs::remove_dir(folder).is_err() {
            break;
        }
        current = folder.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `plan_job` verifies the files only when the folder does not hold them already.
    #[test]
    fn a_current_folder_is_not_verified_again_and_any_other_is() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut r = crate::pipeline::run::render_one(
            &crate::profile::Selection::of("debian-layered"),
            dir.path(),
            &[],
        )
        .expect("renders");
        // Bytes the checks refuse (no FROM), written as if verified by an earlier render.
        let dockerfile = r.files.keys().find(|p| p.ends_with("/Dockerfile")).cloned();
        let file = r
            .files
            .get_mut(&dockerfile.expect("a Dockerfile"))
            .expect("there");
        file.contents = b"RUN true\n".to_vec();
        r.manifest = r.manifest.with_files(&r.files);
        let job = |verified| Job {
            files: &r.files,
            manifest: &r.manifest,
            dir: &r.dir,
            verified,
        };
        assert!(
            crate::pipeline::verify::verify(&r.files).is_err(),
            "the checks refuse it"
        );
        execute_all(&[job(true)], false).expect("writes unverified");
        let plan = plan_job(&job(false), false).expect("current: not verified");
        assert!(plan.current);
        std::fs::remove_file(r.dir.join(".env")).expect("rm");
        let error = plan_job(&job(false), false).expect_err("not current: verified");
        assert!(error.to_string().contains("FROM"), "{error}");
    }

    /// Folders are worked on in parallel, but the error reported is the first in the folders'
    /// order, whichever thread met one first, and every item is worked on.
    #[test]
    fn in_order_reports_the_first_error_in_order_after_doing_every_item() {
        let done = std::sync::atomic::AtomicUsize::new(0);
        let items: Vec<usize> = (0..200).collect();
        let result = in_order(items, |n| {
            done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if n % 60 == 59 {
                Err(Error::Write {
                    path: PathBuf::from(format!("folder-{n}")),
                    source: std::io::Error::other("full"),
                })
            } else {
                Ok(n * 2)
            }
        });
        let Err(Error::Write { path, .. }) = result else {
            panic!("an error")
        };
        assert_eq!(path, PathBuf::from("folder-59"));
        assert_eq!(done.load(std::sync::atomic::Ordering::Relaxed), 200);
        let doubled = in_order((0..100).collect(), |n: usize| Ok(n * 2)).expect("no error");
        assert_eq!(doubled, (0..100).map(|n| n * 2).collect::<Vec<_>>());
    }

    /// A rename that fails part-way puts back every file already replaced, removes the ones it
    /// created, discards the rest of the staged files and restores the manifest.
    #[test]
    fn what_was_set_aside_is_put_back_where_staging_left_only_empty_folders() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        let aside = |name: &str| root.join(crate::output::files::temporary_name(name));
        // A file that staging needed as a folder (emptied again by the rollback).
        let (file, file_aside) = (root.join("file"), aside("file"));
        std::fs::write(&file_aside, "old file\n").expect("write");
        std::fs::create_dir_all(file.join("deeper/still")).expect("folders");
        // A folder where a file was to go (that file was never renamed into place).
        let (folder, folder_aside) = (root.join("folder"), aside("folder"));
        std::fs::create_dir_all(folder_aside.join("sub")).expect("folders");
        std::fs::write(folder_aside.join("sub/old"), "old\n").expect("write");
        put_back(&[(file.clone(), file_aside), (folder.clone(), folder_aside)]);
        assert_eq!(
            std::fs::read_to_string(&file).expect("a file again"),
            "old file\n"
        );
        assert_eq!(
            std::fs::read_to_string(folder.join("sub/old")).expect("the folder again"),
            "old\n"
        );
        let mut left: Vec<String> = std::fs::read_dir(root)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["file", "folder"], "nothing under a temporary name");
    }

    #[test]
    fn a_failed_rename_rolls_the_folder_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::write(root.join("replaced"), "old\n").expect("write");
        std::fs::write(root.join(manifest::FILE_NAME), "old manifest\n").expect("write");
        let stage_one = |name: &str, contents: &str, old: Option<&str>| {
            let temp = root.join(crate::output::files::temporary_name(name));
            crate::output::files::write_unsynced(&temp, contents.as_bytes(), 0o644).expect("stage");
            Staged {
                temp,
                target: root.join(name),
                old: old.map(|o| (o.as_bytes().to_vec(), 0o644)),
            }
        };
        let mut staged = vec![
            stage_one("replaced", "new\n", Some("old\n")),
            stage_one("created", "new\n", None),
        ];
        // Its temporary file is gone, so its rename fails after the first two succeeded.
        let missing = stage_one("failing", "new\n", None);
        std::fs::remove_file(&missing.temp).expect("rm");
        staged.push(missing);
        staged.push(stage_one("never-reached", "new\n", None));
        let manifest_path = root.join(manifest::FILE_NAME);
        std::fs::write(&manifest_path, "incomplete marker\n").expect("write");
        let result = commit(&staged, &manifest_path, Some(b"old manifest\n"));
        assert!(matches!(result, Err(Error::Write { .. })));
        let mut left: Vec<String> = std::fs::read_dir(root)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [manifest::FILE_NAME, "replaced"]);
        assert_eq!(
            std::fs::read_to_string(root.join("replaced")).expect("read"),
            "old\n"
        );
        assert_eq!(
            std::fs::read_to_string(&manifest_path).expect("read"),
            "old manifest\n"
        );
    }
}
