//! Writing rendered files into the output folder without losing anything a user wrote.
//!
//! First a plan is made and every refusal found (a file imggen did not write is never
//! overwritten without `--force`); only then is anything written. Each file is written to a
//! temporary file beside it and renamed into place, so no file is ever half-written.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::files::{read_optional, write_atomic};
use crate::manifest::{self, Manifest};
use crate::render::Files;

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
}

pub fn plan(files: &Files, dir: &Path, force: bool) -> Result<Plan> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::OutNotDir {
            path: dir.to_path_buf(),
        });
    }
    let previous = Manifest::read(dir)?.unwrap_or_default();
    let mut plan = Plan::default();
    for (path, file) in files {
        let target = dir.join(path);
        match read_optional(&target)? {
            None => plan.create.push(path.clone()),
            Some(existing) if existing == file.contents => plan.unchanged.push(path.clone()),
            Some(existing) => {
                let ours =
                    previous.files.contains_key(path) || crate::header::is_generated(&existing);
                if !ours && !force {
                    return Err(Error::NotOurs { path: target });
                }
                // imggen wrote it, and someone changed it since: that edit is not lost silently.
                let recorded = previous.files.get(path);
                if recorded.is_some_and(|hash| *hash != manifest::hash(&existing)) && !force {
                    plan.conflicts.push(target);
                }
                plan.update.push(path.clone());
            }
        }
    }
    for (path, hash) in &previous.files {
        if files.contains_key(path) {
            continue;
        }
        match read_optional(&dir.join(path))? {
            None => {}
            Some(existing) if force || manifest::hash(&existing) == *hash => {
                plan.remove.push(path.clone())
            }
            Some(_) => plan.keep.push(path.clone()),
        }
    }
    Ok(plan)
}

/// Carries out `plan`, then writes the manifest. A plan with conflicts is refused.
pub fn execute(plan: &Plan, files: &Files, manifest: &Manifest, dir: &Path) -> Result<()> {
    plan.refuse_conflicts()?;
    for path in plan.create.iter().chain(&plan.update) {
        let file = &files[path];
        write_atomic(&dir.join(path), &file.contents, file.executable)?;
    }
    for path in &plan.remove {
        let target = dir.join(path);
        std::fs::remove_file(&target).map_err(|e| Error::Write {
            path: target.clone(),
            source: e,
        })?;
        remove_empty_parents(&target, dir);
    }
    let mut manifest = manifest.clone();
    if !plan.keep.is_empty() {
        // Still listed, so a later render or check keeps recognising them as imggen's.
        let previous = Manifest::read(dir)?.unwrap_or_default();
        for path in &plan.keep {
            if let Some(hash) = previous.files.get(path) {
                manifest.files.insert(path.clone(), hash.clone());
            }
        }
    }
    let text = manifest.to_text();
    let path = dir.join(manifest::FILE_NAME);
    if read_optional(&path)?.is_some_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    write_atomic(&path, text.as_bytes(), false)
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
