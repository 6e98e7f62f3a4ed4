//! The output layer's one entrance for a request that changes a folder it does not own (a
//! platform checkout, for `apply`): a [`Session`] locks the folder for the whole request, reads
//! its files confined to it, plans the build contexts a render writes, and commits every file
//! the request changes in one call, in the order that keeps each file whole when the process is
//! killed (the build contexts first, the record of what was done last).

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::output::files::{FolderLock, Lock};
use crate::output::manifest::Manifest;
use crate::output::tree::Files;
pub use crate::output::write::Plan;

/// A folder held for one request: as given, where it really is (links followed, resolved
/// once), and its lock, held until the session ends. A reader shares the lock; a writer holds
/// it alone, so two requests never interleave their reads and writes.
pub struct Session<'a> {
    dir: &'a Path,
    root: PathBuf,
    writes: bool,
    _lock: Option<FolderLock>,
}

/// Everything one request writes, handed to [`Session::commit`] at once.
pub struct Changes<'a> {
    /// The render, written into its own folder as `render` writes it.
    pub files: &'a Files,
    pub manifest: &'a Manifest,
    pub out: &'a Path,
    pub force: bool,
    /// The session folder's files (relative) to replace in place, or to remove (`None`).
    pub replace: &'a [Replacement<'a>],
    /// The session folder's files (relative) beside which a killed run may have left a staged
    /// copy: removed before anything is written.
    pub sweep: &'a [String],
    /// Written last and atomically: what the request did, read by its next run.
    pub record: (&'a Path, &'a [u8]),
}

/// One file of the session's folder as the request leaves it.
pub struct Replacement<'a> {
    pub path: &'a str,
    /// `None` removes it.
    pub contents: Option<&'a [u8]>,
    /// A new file's permission bits; an existing one keeps its own, and its owner.
    pub mode: u32,
}

impl<'a> Session<'a> {
    /// Locks `dir` (shared when the request only reads, alone when it writes) for as long as
    /// the session lives.
    pub fn open(dir: &'a Path, writes: bool) -> Result<Self> {
        let root = std::fs::canonicalize(dir).map_err(|e| Error::read(dir, e))?;
        let kind = if writes {
            Lock::Exclusive
        } else {
            Lock::Shared
        };
        let lock = crate::output::files::lock_folder(&root, kind)?;
        Ok(Self {
            dir,
            root,
            writes,
            _lock: lock,
        })
    }

    /// The folder as given.
    pub fn dir(&self) -> &'a Path {
        self.dir
    }

    /// A file of the folder, `None` when there is none: read only when, links followed, it is
    /// a regular file inside the folder (a `.env.example` linked to a secret elsewhere on the
    /// machine would otherwise be printed in a diff).
    pub fn read(&self, path: &Path) -> Result<Option<Vec<u8>>> {
        let canonical = match std::fs::canonicalize(path) {
            Ok(canonical) => canonical,
            // Nothing there (or a link to nothing): a file the request may create.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::read(path, e)),
        };
        self.inside(path, &canonical)?;
        crate::output::confine::read_regular(&canonical)
            .map(|(contents, _)| Some(contents))
            .map_err(|reason| Error::CheckoutFile {
                path: path.to_path_buf(),
                reason: Box::new(reason),
            })
    }

    /// A TOML file the request keeps for itself (anywhere: the build contexts may lie outside
    /// the folder), `None` when there is none; `fix` says what to do when it does not parse.
    pub fn read_toml<T: DeserializeOwned>(&self, path: &Path, fix: &str) -> Result<Option<T>> {
        crate::output::files::read_toml(path, fix)
    }

    /// Refuses, before anything is written, to write `relative` when it or a folder on its way
    /// is a link (which would change whatever it points at, or half-apply the folder when the
    /// write through it is refused later) or when its folder leads outside the folder.
    pub fn writable(&self, relative: &str) -> Result<()> {
        let file = self.dir.join(relative);
        let folder = file.parent().unwrap_or(self.dir);
        let target = std::fs::canonicalize(folder).map_err(|e| Error::read(folder, e))?;
        self.inside(folder, &target)?;
        let mut path = self.dir.to_path_buf();
        for part in Path::new(relative).components() {
            path.push(part);
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(Error::LinkNotWritten { path });
            }
        }
        Ok(())
    }

    /// What writing the render `files` into `out` would do (nothing is written).
    pub fn plan(&self, files: &Files, out: &Path, force: bool) -> Result<Plan> {
        crate::output::write::plan(files, out, force)
    }

    /// Writes everything the request changes, in this order: the build contexts (all or
    /// nothing, under their folder's own lock); the staged copies a killed run left beside the
    /// folder's files swept; each replacement, atomically (a `.env` keeps its owner and mode);
    /// the record last, so a run killed before it is seen as unfinished by the next.
    pub fn commit(self, changes: &Changes<'_>) -> Result<()> {
        debug_assert!(self.writes, "a session opened to read commits nothing");
        // Asked again here, whatever the caller asked before (apply does, before it shows a
        // diff): the entrance refuses a link or a way out of the folder before any write.
        for replacement in changes.replace {
            self.writable(replacement.path)?;
        }
        crate::output::write::execute(changes.files, changes.manifest, changes.out, changes.force)?;
        for path in changes.sweep {
            crate::output::files::sweep_stale_copies(&self.dir.join(path))?;
        }
        for replacement in changes.replace {
            let path = self.dir.join(replacement.path);
            match replacement.contents {
                Some(contents) => {
                    crate::output::files::replace_keeping(&path, contents, replacement.mode)?;
                }
                None => std::fs::remove_file(&path).map_err(|e| Error::Write {
                    path: path.clone(),
                    source: e,
                })?,
            }
        }
        let (record, text) = changes.record;
        crate::output::files::write_atomic(record, text, false)
    }

    /// `path`, found to be `canonical`, must lie inside the folder.
    fn inside(&self, path: &Path, canonical: &Path) -> Result<()> {
        if canonical.starts_with(&self.root) {
            Ok(())
        } else {
            Err(Error::OutsideCheckout {
                path: path.to_path_buf(),
                target: canonical.to_path_buf(),
            })
        }
    }
}
