//! Small file helpers shared by the modules that read and write imggen's own files.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The file's bytes, or `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(contents) => Ok(Some(contents)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::read(path, e)),
    }
}

/// A file of imggen's own that comes with the project, and so with a pull request (the project
/// file, the lockfile, `apply`'s and `vendor`'s records): `None` when there is none, else read
/// as a profile's files are: a regular file (never a FIFO that blocks or a device that never
/// ends) of at most [`crate::output::confine::MAX_FILE`] bytes, inside the project of its folder (a
/// link is followed, and refused when it leads out: its content could end up in a message).
pub fn read_project_file(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::read(path, e)),
        Ok(_) => {}
    }
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    crate::output::confine::read(path, folder)
        .map(Some)
        .map_err(|reason| Error::ProjectFile {
            path: path.to_path_buf(),
            reason: Box::new(reason),
        })
}

/// [`read_optional`] of a file expected to be about `expected` bytes long (what imggen last
/// rendered there): read without asking the file's size first, one system call fewer per file
/// than `std::fs::read`. `check` and `render` read a hundred thousand of them over 10,000
/// profiles. Any length is read whole.
pub fn read_optional_sized(path: &Path, expected: usize) -> Result<Option<Vec<u8>>> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::CLOEXEC;
    match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(file) => read_sized(&file, expected).map(Some),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
    .map_err(|e| Error::read(path, e))
}

/// The whole of `file`, read into a buffer of `expected` bytes and one more (grown if the file
/// is longer), so that a file of the expected length takes one `read` and the `read` that says
/// it ended: not `read_to_end`, which for a `File` asks the size (statx, lseek) first.
fn read_sized(file: &rustix::fd::OwnedFd, expected: usize) -> std::io::Result<Vec<u8>> {
    // Read into the vector's spare capacity: never zeroed first (that was 4% of `check --all`).
    let mut contents = Vec::with_capacity(expected + 1);
    loop {
        if contents.len() == contents.capacity() {
            contents.reserve(contents.capacity());
        }
        match rustix::io::read(file, rustix::buffer::spare_capacity(&mut contents)) {
            Ok(0) => break,
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(contents)
}

/// Opens `relative` (a path imggen writes: relative, without `..`) under the folder open as
/// `dir`, for reading, never through a symbolic link (`ELOOP` when there is one on the way):
/// one `openat2` that refuses links where Linux has it, else one `openat` per component, each
/// refusing a link.
fn open_beneath(
    dir: rustix::fd::BorrowedFd<'_>,
    relative: &Path,
) -> rustix::io::Result<rustix::fd::OwnedFd> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{Mode, OFlags, ResolveFlags};
        let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let resolve = ResolveFlags::NO_SYMLINKS | ResolveFlags::BENEATH;
        match rustix::fs::openat2(dir, relative, flags, Mode::empty(), resolve) {
            // Older kernels, and sandboxes that filter the call: the walk below.
            Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => {}
            opened => return opened,
        }
    }
    open_walking(dir, relative)
}

/// [`open_beneath`] without `openat2`: one `openat` per component, each refusing a link.
fn open_walking(
    dir: rustix::fd::BorrowedFd<'_>,
    relative: &Path,
) -> rustix::io::Result<rustix::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    // Not blocking: a FIFO put there would otherwise hold the open until a writer came.
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW | OFlags::NONBLOCK;
    // Only plain names: a `..` (or a root) would leave the folder, which `openat2` refuses too.
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in relative.components() {
        match component {
            std::path::Component::Normal(part) => parts.push(part),
            std::path::Component::CurDir => {}
            _ => return Err(rustix::io::Errno::XDEV),
        }
    }
    let mut opened: Option<rustix::fd::OwnedFd> = None;
    for (index, part) in parts.iter().enumerate() {
        let folder = if index + 1 < parts.len() {
            OFlags::DIRECTORY
        } else {
            OFlags::empty()
        };
        let base = opened.as_ref().map_or(dir, rustix::fd::AsFd::as_fd);
        let next = match rustix::fs::openat(base, *part, flags | folder, Mode::empty()) {
            // A folder asked for without following: a link there says "not a folder".
            Err(rustix::io::Errno::NOTDIR) => {
                let nofollow = rustix::fs::AtFlags::SYMLINK_NOFOLLOW;
                let stat = rustix::fs::statat(base, *part, nofollow)?;
                return Err(match rustix::fs::FileType::from_raw_mode(stat.st_mode) {
                    rustix::fs::FileType::Symlink => rustix::io::Errno::LOOP,
                    _ => rustix::io::Errno::NOTDIR,
                });
            }
            next => next?,
        };
        opened = Some(next);
    }
    opened.ok_or(rustix::io::Errno::INVAL)
}

/// Refuses a symbolic link anywhere on `relative` below `dir`, or on the way to `dir` itself
/// (see [`open_output_folder`]): what imggen reads or writes in an output folder, where a link
/// could lead outside it.
fn refuse_links(dir: &Path, relative: &str) -> Result<()> {
    if let Some(link) = folder_link(dir) {
        return Err(Error::OutputIsLink {
            dir: dir.to_path_buf(),
            link,
        });
    }
    match first_link(dir, relative) {
        Some(path) => Err(Error::LinkInOutput { path }),
        None => Ok(()),
    }
}

/// The part of the output folder `dir` a pull request could have made: all of a relative path;
/// of an absolute one, what lies below the working folder, else its last part (the rest was
/// typed by whoever runs imggen).
fn committed_part(dir: &Path) -> (PathBuf, PathBuf) {
    static CWD: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    if dir.is_relative() {
        return (PathBuf::new(), dir.to_path_buf());
    }
    let cwd = CWD.get_or_init(|| std::env::current_dir().ok());
    if let Some(below) = cwd.as_ref().and_then(|cwd| dir.strip_prefix(cwd).ok()) {
        let base = dir.ancestors().nth(below.components().count());
        return (
            base.map(Path::to_path_buf).unwrap_or_default(),
            below.to_path_buf(),
        );
    }
    match (dir.parent(), dir.file_name()) {
        (Some(parent), Some(name)) => (parent.to_path_buf(), PathBuf::from(name)),
        _ => (dir.to_path_buf(), PathBuf::new()),
    }
}

/// The first symbolic link on the committed part of the output folder `dir` (see
/// [`committed_part`]), up to the first part that is not there.
fn folder_link(dir: &Path) -> Option<PathBuf> {
    let (base, committed) = committed_part(dir);
    first_link(&base, &committed)
}

/// Refuses to write into the folder `dir` when a link lies on the part of its path a pull
/// request could have committed ([`folder_link`]): the writes would land wherever it points.
pub fn refuse_linked_folder(dir: &Path) -> Result<()> {
    match folder_link(dir) {
        Some(link) => Err(Error::LinkNotWritten { path: link }),
        None => Ok(()),
    }
}

/// Opens the output folder `dir` (`None` when there is none), refusing a symbolic link on the
/// part of its path a pull request could have committed ([`committed_part`]): a folder
/// committed as a link to `..`, or to another checkout, would have `check` show that place's
/// `.env` in its diff, and `render` write there. One `openat2` that refuses links where Linux
/// has it, else a `stat` of each part first.
fn open_output_folder(dir: &Path) -> Result<Option<std::fs::File>> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let walked = || match folder_link(dir) {
        Some(_) => Err(rustix::io::Errno::LOOP),
        None => rustix::fs::open(dir, flags, Mode::empty()),
    };
    #[cfg(target_os = "linux")]
    let opened = {
        let (base, committed) = committed_part(dir);
        let committed = if committed.as_os_str().is_empty() {
            Path::new(".")
        } else {
            committed.as_path()
        };
        let resolve = rustix::fs::ResolveFlags::NO_SYMLINKS;
        // A relative path from the working folder itself: one system call.
        let opened = if base.as_os_str().is_empty() {
            rustix::fs::openat2(rustix::fs::CWD, committed, flags, Mode::empty(), resolve)
        } else {
            rustix::fs::open(&base, flags, Mode::empty()).and_then(|base| {
                rustix::fs::openat2(&base, committed, flags, Mode::empty(), resolve)
            })
        };
        match opened {
            // Older kernels, and sandboxes that filter the call: a `stat` of each part first.
            Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => walked(),
            other => other,
        }
    };
    #[cfg(not(target_os = "linux"))]
    let opened = walked();
    match opened {
        Ok(fd) => Ok(Some(std::fs::File::from(fd))),
        Err(rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR) => Ok(None),
        Err(rustix::io::Errno::LOOP) if let Some(link) = folder_link(dir) => {
            Err(Error::OutputIsLink {
                dir: dir.to_path_buf(),
                link,
            })
        }
        Err(e) => Err(Error::Write {
            path: dir.to_path_buf(),
            source: e.into(),
        }),
    }
}

/// The parts of `relative` below `dir`, in order, each with what it is (a link not followed)
/// and whether it is the last, up to the first that is not there. `..` and `.` are followed,
/// not asked about.
fn walk(dir: &Path, relative: &Path) -> impl Iterator<Item = (PathBuf, std::fs::Metadata, bool)> {
    let mut current = dir.to_path_buf();
    let mut parts = relative.components().peekable();
    std::iter::from_fn(move || {
        loop {
            let component = parts.next()?;
            current.push(component);
            if matches!(component, std::path::Component::Normal(_)) {
                let meta = std::fs::symlink_metadata(&current).ok()?;
                return Some((current.clone(), meta, parts.peek().is_none()));
            }
        }
    })
}

/// The first symbolic link on `relative` below `dir`, up to the first part that is not there.
fn first_link(dir: &Path, relative: impl AsRef<Path>) -> Option<PathBuf> {
    walk(dir, relative.as_ref())
        .find(|(_, meta, _)| meta.file_type().is_symlink())
        .map(|(path, _, _)| path)
}

/// Why `relative` in the output folder `dir` could not be read, when the folder holds
/// something of the other kind in its way: a file where its path needs a folder, or a folder
/// where it is a file (what an earlier render, or a user, left there). `None` otherwise.
fn in_the_way(dir: &Path, relative: &str) -> Option<Error> {
    let path = dir.join(relative);
    walk(dir, Path::new(relative)).find_map(|(current, meta, last)| match (last, meta.is_dir()) {
        (true, true) => Some(Error::InTheWay {
            path: path.clone(),
            file: None,
        }),
        (false, false) => Some(Error::InTheWay {
            path: path.clone(),
            file: Some(current),
        }),
        _ => None,
    })
}

/// A TOML file imggen wrote (manifest, vendor record), or `None` when it does not exist.
/// `fix` says what to do when it does not parse.
pub fn read_toml<T: DeserializeOwned>(path: &Path, fix: &str) -> Result<Option<T>> {
    read_project_file(path)?
        .map(|bytes| parse_toml(path, &bytes, fix))
        .transpose()
}

/// [`read_toml`] of bytes already read from `path`.
pub fn parse_toml<T: DeserializeOwned>(path: &Path, bytes: &[u8], fix: &str) -> Result<T> {
    toml_edit::de::from_str(&String::from_utf8_lossy(bytes)).map_err(|e| Error::Toml {
        location: path.display().to_string(),
        message: format!("{} ({fix})", e.message().trim()),
    })
}

/// Writes `contents` to a temporary file beside `target`, then renames it into place, so the
/// target is never half-written.
pub fn write_atomic(target: &Path, contents: &[u8], executable: bool) -> Result<()> {
    write_atomic_mode(target, contents, if executable { 0o755 } else { 0o644 })
}

/// [`write_atomic`] with the given permission bits.
pub fn write_atomic_mode(target: &Path, contents: &[u8], mode: u32) -> Result<()> {
    write_atomic_as(target, contents, mode, None)
}

/// [`write_atomic`] over a file of the user's that imggen edits in place (a checkout's `.env`,
/// which holds secrets; a profile; the project file): the new file keeps the old one's
/// permission bits and, where this process may set them, its owner and group, so a `sudo
/// imggen apply` does not leave a user's secrets file owned by root. A new file gets `mode`.
/// A symbolic link is refused, not replaced by a file nor written through, and so is a linked
/// folder on the part of the path a pull request could have committed (see [`folder_link`]).
pub fn replace_keeping(target: &Path, contents: &[u8], mode: u32) -> Result<()> {
    // Nor through a linked folder on the way (`profiles` committed as a link elsewhere).
    if let Some(folder) = target.parent() {
        refuse_linked_folder(folder)?;
    }
    match std::fs::symlink_metadata(target) {
        Ok(old) if old.file_type().is_symlink() => Err(Error::LinkNotWritten {
            path: target.to_path_buf(),
        }),
        #[cfg(unix)]
        Ok(old) => {
            use std::os::unix::fs::MetadataExt;
            write_atomic_as(
                target,
                contents,
                old.mode() & 0o7777,
                Some((old.uid(), old.gid())),
            )
        }
        _ => write_atomic_as(target, contents, mode, None),
    }
}

fn write_atomic_as(
    target: &Path,
    contents: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<()> {
    let fail = |e| Error::Write {
        path: target.to_path_buf(),
        source: e,
    };
    let folder = target
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&folder).map_err(fail)?;
    // Staged readable by its owner only, whatever the file's own mode: a user's file holds
    // secrets (a `.env`), and a copy a kill leaves behind must not show them to anyone else.
    let temp = stage_beside(target, contents, 0o600).map_err(fail)?;
    #[cfg(unix)]
    if let Some((uid, gid)) = owner {
        // Only root (or the owner, for a group it is in) may; anyone else's new file stays
        // theirs, with the old permission bits.
        let _ = std::os::unix::fs::chown(&temp, Some(uid), Some(gid));
    }
    #[cfg(not(unix))]
    let _ = owner;
    let result = std::fs::File::open(&temp)
        .and_then(|file| {
            set_mode(&file, mode)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, target));
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(fail)
}

/// How [`lock_folder`] holds an output folder: readers share it, a writer has it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    Shared,
    Exclusive,
}

/// The output folder's advisory lock (`flock` on the folder itself, so nothing is left behind),
/// held until the returned handle is dropped; `None` when there is no folder (nothing to
/// guard). A process that must wait says so on stderr.
pub fn lock_folder(dir: &Path, kind: Lock) -> Result<Option<FolderLock>> {
    let fail = |source| Error::Write {
        path: dir.to_path_buf(),
        source,
    };
    // Opened as a folder straight away: no `stat` first to ask whether it is one.
    let Some(handle) = open_output_folder(dir)? else {
        return Ok(None);
    };
    let attempt = match kind {
        Lock::Shared => handle.try_lock_shared(),
        Lock::Exclusive => handle.try_lock(),
    };
    match attempt {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let dir = dir.to_path_buf();
            eprintln!("{}", crate::error::Warning::WaitingForLock { dir });
            match kind {
                Lock::Shared => handle.lock_shared(),
                Lock::Exclusive => handle.lock(),
            }
            .map_err(fail)?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(fail(e)),
    }
    Ok(Some(FolderLock(handle)))
}

/// [`read_optional_sized`] of `relative` in the output folder `dir`, never through a symbolic
/// link inside the folder (refused, naming the link): through `lock`'s handle of the folder
/// ([`FolderLock::read_sized`]), or by path, each part asked first, where there is no lock
/// because there was no folder. Every read of an output folder's files goes through here.
pub fn read_output(
    dir: &Path,
    lock: Option<&FolderLock>,
    relative: &str,
    expected: usize,
) -> Result<Option<Vec<u8>>> {
    let read = match lock {
        Some(lock) => lock.read_sized(dir, relative, expected),
        None => {
            refuse_links(dir, relative)?;
            read_optional_sized(&dir.join(relative), expected)
        }
    };
    read.map_err(|error| match &error {
        Error::Read { source, .. }
            if matches!(
                source.kind(),
                std::io::ErrorKind::NotADirectory | std::io::ErrorKind::IsADirectory
            ) =>
        {
            in_the_way(dir, relative).unwrap_or(error)
        }
        _ => error,
    })
}

/// A folder locked by [`lock_folder`], unlocked when dropped.
#[derive(Debug)]
pub struct FolderLock(std::fs::File);

impl FolderLock {
    /// [`read_optional_sized`] of `relative`, in the folder `dir` this locks: opened from the
    /// lock's handle (the folder's own path is not walked again for every file), and never
    /// through a symbolic link inside the folder, which is refused: what the folder holds comes
    /// from a pull request, and a link there could show any file `check` can read in its diff.
    pub fn read_sized(
        &self,
        dir: &Path,
        relative: &str,
        expected: usize,
    ) -> Result<Option<Vec<u8>>> {
        use rustix::fd::AsFd as _;
        let failed = |e: rustix::io::Errno| Error::read(dir.join(relative), e.into());
        match open_beneath(self.0.as_fd(), Path::new(relative)) {
            Ok(file) => read_sized(&file, expected)
                .map(Some)
                .map_err(|e| Error::read(dir.join(relative), e)),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(rustix::io::Errno::LOOP) => Err(first_link(dir, relative).map_or_else(
                || failed(rustix::io::Errno::LOOP),
                |path| Error::LinkInOutput { path },
            )),
            Err(e) => Err(failed(e)),
        }
    }

    /// Whether the folder this locks holds an entry `name` (of any kind; a link is not
    /// followed): asked through the lock's own handle, one `stat` and no path walk.
    pub fn has_entry(&self, name: &str) -> bool {
        rustix::fs::statat(&self.0, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).is_ok()
    }
}

/// The marker in every temporary file's name.
pub const TEMPORARY: &str = crate::names::TEMPORARY_MARK;

/// A temporary name beside `name`, unique to this process and call: two imggens, or two
/// writes in one, never share one.
pub fn temporary_name(name: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let pid = PID.get_or_init(std::process::id);
    format!(".{name}{TEMPORARY}{pid}-{n}")
}

/// Removes what a killed imggen left beside `target` while replacing it: a staged copy
/// (`.NAME.imggen-tmp-PID-N`) whose process is gone (one of a live process is its to finish).
/// A user's file holds secrets, and such a copy is not matched by the ignore rule for its name.
pub fn sweep_stale_copies(target: &Path) -> Result<()> {
    let (Some(folder), Some(name)) = (target.parent(), target.file_name().and_then(|n| n.to_str()))
    else {
        return Ok(());
    };
    let prefix = format!(".{name}{TEMPORARY}");
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::read(folder, e)),
    };
    for entry in left_by_gone_processes(entries, &prefix) {
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| Error::Write { path, source: e })?;
        }
    }
    Ok(())
}

/// The entries named `PREFIX` + `PID-N` (how [`temporary_name`] and [`private_dir`] name what
/// they make) whose process is gone: what a killed imggen left. One of a live process (this
/// one's, or another imggen's still at work) is that process's to finish.
fn left_by_gone_processes(
    entries: std::fs::ReadDir,
    prefix: &str,
) -> impl Iterator<Item = std::fs::DirEntry> + '_ {
    entries
        .filter_map(std::result::Result::ok)
        .filter(move |entry| {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_prefix(prefix))
                .and_then(|rest| rest.split_once('-'))
                .and_then(|(pid, n)| n.parse::<u32>().ok().and(pid.parse::<u32>().ok()))
            else {
                return false;
            };
            pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists()
        })
}

/// Whether a file name is one [`temporary_name`] made.
pub fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.contains(TEMPORARY)
}

/// The temporary files under `dir` (links below it not followed), and folders under a
/// temporary name (not listed further): what an interrupted write left. `render --all` looks
/// in every output folder for them (a folder holding one is not current), so each folder costs
/// one `open`, its `getdents` and a `close`: an entry's type comes with it, with no `stat`
/// (except on a file system that does not say, where the entry is asked with `lstat`).
pub fn temporaries(dir: &Path) -> Vec<PathBuf> {
    use rustix::fs::{FileType, Mode, OFlags, RawDir};
    use std::os::unix::ffi::OsStrExt as _;
    let mut found = Vec::new();
    // One buffer for every `getdents`: 8 KiB holds many entries of the longest name.
    let mut buffer: Vec<u8> = Vec::with_capacity(8192);
    // Folders still to list. Iterative, so a deep tree cannot overflow the stack.
    let mut pending = vec![dir.to_path_buf()];
    let mut follow = OFlags::empty();
    while let Some(folder) = pending.pop() {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | follow;
        // `dir` itself may be a link to the folder; nothing under it is followed.
        follow = OFlags::NOFOLLOW;
        let Ok(fd) = rustix::fs::open(&folder, flags, Mode::empty()) else {
            continue;
        };
        'listing: loop {
            let mut entries = RawDir::new(&fd, buffer.spare_capacity_mut());
            while let Some(entry) = entries.next() {
                let entry = match entry {
                    Ok(entry) => entry,
                    // An entry longer than the buffer: a larger one goes on where this stopped.
                    Err(rustix::io::Errno::INVAL) => {
                        buffer.reserve(buffer.capacity() * 2);
                        continue 'listing;
                    }
                    Err(_) => break 'listing,
                };
                let name = entry.file_name().to_bytes();
                if name == b"." || name == b".." {
                    continue;
                }
                let path = folder.join(std::ffi::OsStr::from_bytes(name));
                let kind = match entry.file_type() {
                    FileType::Unknown => rustix::fs::lstat(&path)
                        .map_or(FileType::Unknown, |s| FileType::from_raw_mode(s.st_mode)),
                    known => known,
                };
                let temporary = std::str::from_utf8(name).is_ok_and(is_temporary);
                match kind {
                    // A folder of imggen's own files set aside by a render that was stopped.
                    FileType::Directory if temporary => found.push(path),
                    FileType::Directory => pending.push(path),
                    FileType::RegularFile if temporary => found.push(path),
                    _ => {}
                }
            }
            break;
        }
    }
    found.sort();
    found
}

/// A new folder under the system's temporary folder that only this user can enter, made by this
/// call (never one that was there: someone else's folder, or a link, under a predictable name
/// in a shared `/tmp`), and removed with what it holds when dropped. For files that hold
/// secrets, such as a login handed to another program, or that another program writes by name.
pub fn private_dir(prefix: &str) -> Result<PrivateDir> {
    remove_on_signal();
    sweep_private_dirs(prefix);
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    let base = std::env::temp_dir();
    let mut attempt = 0u32;
    loop {
        let path = base.join(format!("{prefix}-{}-{attempt}", std::process::id()));
        match builder.create(&path) {
            Ok(()) => {
                live_private_dirs().push(path.clone());
                return Ok(PrivateDir(path));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 1000 => {
                attempt += 1;
            }
            Err(source) => return Err(Error::Write { path: base, source }),
        }
    }
}

/// A folder [`private_dir`] made; gone when this is dropped, however the work in it ended.
#[derive(Debug)]
pub struct PrivateDir(PathBuf);

impl PrivateDir {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        live_private_dirs().retain(|dir| *dir != self.0);
    }
}

/// The private folders this process holds now: what a signal must not leave behind.
fn live_private_dirs() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    static LIVE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// On Ctrl-C, SIGTERM or SIGHUP, removes every private folder this process holds (logins for
/// an engine or `skopeo`: base64 of a user and password), then exits with status 130; drops do
/// not run when a signal ends a process. Installed with the first private folder; where
/// another handler is set already (`test`, `init`), that one stays.
fn remove_on_signal() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            for dir in live_private_dirs().drain(..) {
                let _ = std::fs::remove_dir_all(dir);
            }
            let _ = writeln!(
                std::io::stderr(),
                "error: stopped by a signal; the logins it had written are removed"
            );
            std::process::exit(130);
        });
    });
}

/// Removes what a killed imggen (SIGKILL, which no handler sees) left under the temporary
/// folder: this user's `PREFIX-PID-N` folders whose process is gone.
fn sweep_private_dirs(prefix: &str) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in left_by_gone_processes(entries, &format!("{prefix}-")) {
        #[cfg(unix)]
        let mine = {
            use std::os::unix::fs::MetadataExt;
            entry
                .metadata()
                .is_ok_and(|m| m.is_dir() && m.uid() == rustix::process::getuid().as_raw())
        };
        #[cfg(not(unix))]
        let mine = false;
        if mine {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Removes `path`: a file (or a link, never followed), or a folder with everything in it.
pub fn remove_entry(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        _ => std::fs::remove_file(path),
    }
}

/// Writes `contents` with `mode` to the new file `path`, not yet flushed: staging writes many
/// files, then makes them durable at once ([`flush`]). Never into a file that is there already,
/// nor through a link there: that is an error (`AlreadyExists`).
pub fn write_unsynced(path: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    file.write_all(contents)?;
    // Exactly `mode`, whatever the umask took from it: asked only when the umask takes some of
    // it (the usual 022 takes nothing from 0644 or 0755), one system call fewer per file.
    if umask().is_none_or(|umask| umask & mode != 0) {
        set_mode(&file, mode)?;
    }
    Ok(())
}

/// The process's umask, read once from `/proc/self/status` (Linux): reading it with `umask(2)`
/// means setting it, which would race with other threads creating files. `None` where unknown.
fn umask() -> Option<u32> {
    static UMASK: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| u32::from_str_radix(&proc_status("Umask")?, 8).ok())
}

/// The value of `field` in `/proc/self/status` (Linux), trimmed; `None` where there is none.
pub fn proc_status(field: &str) -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        Some(value.trim().to_string())
    })
}

/// Writes `contents` with `mode` to a new temporary file beside `target` (named by
/// [`temporary_name`]), not yet flushed, and returns its path. A name already taken (a link
/// someone put in the output folder under a temporary's name, or a leftover of an earlier
/// process with this one's id) is passed over for the next, never written through. A
/// temporary file it could not finish is removed.
pub fn stage_beside(target: &Path, contents: &[u8], mode: u32) -> std::io::Result<PathBuf> {
    let folder = target.parent().unwrap_or_else(|| Path::new("."));
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    let mut taken = None;
    for _ in 0..16 {
        let temp = folder.join(temporary_name(name));
        match write_unsynced(&temp, contents, mode) {
            Ok(()) => return Ok(temp),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => taken = Some(e),
            Err(e) => {
                // Made by this call (it was not there), or never made.
                let _ = std::fs::remove_file(&temp);
                return Err(e);
            }
        }
    }
    Err(taken.unwrap_or_else(|| std::io::Error::from(std::io::ErrorKind::AlreadyExists)))
}

/// Makes `files`, and the renames and removals in `folders`, durable: one `syncfs` per file
/// system that holds one of `folders` where there is `syncfs` (Linux), else an `fsync` per file
/// and per folder. Staging many files and flushing them once is what keeps writing hundreds of
/// folders from costing a journal commit per file.
pub fn flush(files: &[&Path], folders: &[&Path]) -> std::io::Result<()> {
    let mut synced = Vec::new();
    let mut whole = true;
    for folder in folders {
        let device = device_of(folder);
        if device.is_some() && synced.contains(&device) {
            continue;
        }
        if sync_filesystem(folder).is_err() {
            whole = false;
            break;
        }
        synced.push(device);
    }
    if whole && !folders.is_empty() {
        return Ok(());
    }
    for file in files {
        std::fs::File::open(file)?.sync_all()?;
    }
    for folder in folders {
        std::fs::File::open(folder)?.sync_all()?;
    }
    Ok(())
}

/// The device a path's file system is on, to flush each file system once.
#[cfg(unix)]
fn device_of(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.dev())
}

#[cfg(not(unix))]
fn device_of(_: &Path) -> Option<u64> {
    None
}

#[cfg(target_os = "linux")]
fn sync_filesystem(dir: &Path) -> std::io::Result<()> {
    let handle = std::fs::File::open(dir)?;
    rustix::fs::syncfs(&handle).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn sync_filesystem(_: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Sets an open file's permission bits (through its handle: no second path lookup).
#[cfg(unix)]
fn set_mode(file: &std::fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &std::fs::File, _: u32) -> std::io::Result<()> {
    Ok(())
}

/// The permission bits of an existing file, if it exists.
#[cfg(unix)]
pub fn mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
pub fn mode_of(_: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_written_file_has_exactly_its_mode_whatever_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        // Not `private_dir`: its names are this process's, and another test checks that one it
        // dropped is gone.
        let dir = tempfile::tempdir().expect("temp dir");
        // The umask this process runs under (the test harness's threads share it): a file
        // staged with mode bits the umask takes away must still get them.
        let umask = umask().expect("Linux has /proc/self/status");
        for mode in [0o644, 0o755, 0o600, 0o666 | umask] {
            let path = dir.path().join(format!("f{mode:o}"));
            write_unsynced(&path, b"x", mode).expect("written");
            let got = std::fs::metadata(&path)
                .expect("there")
                .permissions()
                .mode()
                & 0o7777;
            assert_eq!(got, mode, "umask {umask:o}");
        }
    }

    #[test]
    fn a_private_dir_is_new_closed_to_others_and_gone_when_dropped() {
        let first = private_dir("imggen-test").expect("made");
        let second = private_dir("imggen-test").expect("made");
        assert_ne!(
            first.path(),
            second.path(),
            "a folder that exists is never reused"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(first.path())
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        std::fs::write(first.path().join("login.json"), "{}").expect("writes");
        let paths = [first.path().to_path_buf(), second.path().to_path_buf()];
        drop((first, second));
        for path in paths {
            assert!(!path.exists(), "{}", path.display());
        }
    }

    #[test]
    fn read_optional_sized_reads_the_whole_file_whatever_the_guess() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f");
        let text: Vec<u8> = (0..10_000u32).flat_map(u32::to_le_bytes).collect();
        std::fs::write(&path, &text).expect("write");
        for guess in [0, 1, 39_999, 40_000, 40_001, 100_000] {
            assert_eq!(
                read_optional_sized(&path, guess).expect("reads"),
                Some(text.clone()),
                "guess {guess}"
            );
        }
        std::fs::write(&path, b"").expect("write");
        assert_eq!(
            read_optional_sized(&path, 5).expect("reads"),
            Some(Vec::new())
        );
        let missing = read_optional_sized(&dir.path().join("none"), 5).expect("no such file");
        assert_eq!(missing, None);
        let folder = read_optional_sized(dir.path(), 5).expect_err("a folder is no file");
        assert!(
            folder
                .to_string()
                .contains(&dir.path().display().to_string()),
            "{folder}"
        );
    }

    /// A temporary file's name is predictable (process id, a count): a link someone put in the
    /// output folder under such a name must never be written through.
    #[test]
    fn staging_never_writes_through_a_link_under_a_temporary_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").expect("write");
        let target = dir.path().join("Dockerfile");
        // Straight at a link: refused.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).expect("link");
        let error = write_unsynced(&link, b"FROM evil", 0o644).expect_err("a link is there");
        assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
        // The next names this process would take, taken by links: passed over.
        let next = temporary_name("Dockerfile");
        let count: u64 = next
            .rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a count");
        let prefix = next.trim_end_matches(|c: char| c.is_ascii_digit());
        for n in count + 1..count + 6 {
            let planted = dir.path().join(format!("{prefix}{n}"));
            std::os::unix::fs::symlink(&victim, planted).expect("link");
        }
        let temp = stage_beside(&target, b"FROM scratch\n", 0o644).expect("stages");
        assert!(std::fs::symlink_metadata(&temp).expect("there").is_file());
        assert_eq!(std::fs::read(&temp).expect("read"), b"FROM scratch\n");
        assert_eq!(std::fs::read(&victim).expect("read"), b"precious");
    }

    /// What a pull request can put in an output folder: links to files outside it, as a file
    /// or as a folder. Reading through the folder's lock (what `check` does) refuses both, with
    /// `openat2` and with the walk used where there is none; a file is read, a missing one is
    /// `None`.
    #[test]
    fn reading_an_output_folder_never_follows_a_link() {
        use rustix::fd::AsFd as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("out");
        std::fs::create_dir_all(root.join("python-runtime")).expect("folders");
        std::fs::write(root.join("python-runtime/Dockerfile"), "FROM x\n").expect("write");
        let secret = dir.path().join("secret");
        std::fs::create_dir(&secret).expect("folder");
        std::fs::write(secret.join("Dockerfile"), "TOKEN").expect("write");
        std::os::unix::fs::symlink(secret.join("Dockerfile"), root.join(".env")).expect("link");
        std::os::unix::fs::symlink(&secret, root.join("postgres")).expect("link");
        let lock = lock_folder(&root, Lock::Shared)
            .expect("locks")
            .expect("a folder");
        let read = |relative: &str| lock.read_sized(&root, relative, 4);
        assert_eq!(
            read("python-runtime/Dockerfile").expect("reads"),
            Some(b"FROM x\n".to_vec())
        );
        assert_eq!(read("kerberos-test/Dockerfile").expect("reads"), None);
        for (relative, link) in [(".env", ".env"), ("postgres/Dockerfile", "postgres")] {
            let error = read(relative).expect_err("a link");
            assert!(
                matches!(&error, Error::LinkInOutput { path } if *path == root.join(link)),
                "{error}"
            );
            let walked = open_walking(lock.0.as_fd(), Path::new(relative));
            assert_eq!(walked.err(), Some(rustix::io::Errno::LOOP), "{relative}");
        }
        let walked = open_walking(lock.0.as_fd(), Path::new("python-runtime/Dockerfile"));
        let contents = read_sized(&walked.expect("opens"), 2).expect("reads");
        assert_eq!(contents, b"FROM x\n");
        // Where there is no `openat2`: a `..` is refused as `openat2` refuses it, never dropped
        // (dropping it named `secret/Dockerfile`'s twin inside the folder instead).
        std::fs::create_dir(root.join("secret")).expect("folder");
        std::fs::write(root.join("secret/Dockerfile"), "decoy").expect("write");
        for climbing in [
            "../secret/Dockerfile",
            "python-runtime/../../secret/Dockerfile",
        ] {
            let walked = open_walking(lock.0.as_fd(), Path::new(climbing));
            assert_eq!(walked.err(), Some(rustix::io::Errno::XDEV), "{climbing}");
        }
    }

    #[test]
    fn temporaries_are_found_at_any_depth_and_never_through_a_link() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("out");
        let deep = root.join("a/b/c");
        std::fs::create_dir_all(&deep).expect("folders");
        let outside = dir.path().join("elsewhere");
        std::fs::create_dir(&outside).expect("folder");
        let temp = |name: &str| temporary_name(name);
        let set_aside = root.join("a").join(temp("d"));
        let expected = vec![
            root.join(temp("env")),
            set_aside.clone(),
            root.join("a/b/c").join(temp("Dockerfile")),
        ];
        for path in expected.iter().filter(|p| **p != set_aside) {
            std::fs::write(path, "x").expect("write");
        }
        // A folder set aside under a temporary's name is found whole, not listed further.
        std::fs::create_dir(&set_aside).expect("folder");
        std::fs::write(set_aside.join(temp("inside")), "x").expect("write");
        // Not ours: a plain file, a link to a temporary.
        std::fs::write(root.join("a/Dockerfile"), "x").expect("write");
        let elsewhere = temp("f");
        std::fs::write(outside.join(&elsewhere), "x").expect("write");
        std::os::unix::fs::symlink(&outside, root.join("a/b/link")).expect("link");
        let link = temp("l");
        std::os::unix::fs::symlink(outside.join(&elsewhere), root.join(&link)).expect("link");
        assert_eq!(temporaries(&root), expected);
        // Through the folder's lock: entries of its root, of any kind, links not followed.
        let lock = lock_folder(&root, Lock::Shared)
            .expect("locks")
            .expect("a folder");
        let name = |path: &PathBuf| path.file_name().and_then(|n| n.to_str()).map(String::from);
        assert!(lock.has_entry(&name(&expected[0]).expect("a name")));
        assert!(lock.has_entry(&link), "a link counts, not followed");
        assert!(lock.has_entry("a"));
        assert!(!lock.has_entry(&elsewhere), "only the folder's own entries");
        assert!(!lock.has_entry("Dockerfile"));
        drop(lock);
        // Temporaries are found through a linked folder too (what is removed is decided under
        // the folder's lock, which is refused below).
        let alias = dir.path().join("alias");
        std::os::unix::fs::symlink(&root, &alias).expect("link");
        let through: Vec<PathBuf> = expected
            .iter()
            .map(|p| alias.join(p.strip_prefix(&root).expect("under root")))
            .collect();
        assert_eq!(temporaries(&alias), through);
        assert!(temporaries(&dir.path().join("none")).is_empty());
        // The output folder itself is never reached through a link (a pull request could
        // commit one pointing anywhere): refused, naming the link.
        match lock_folder(&alias, Lock::Exclusive) {
            Err(Error::OutputIsLink { dir, link }) => {
                assert_eq!((dir, link), (alias.clone(), alias))
            }
            other => panic!("locked through a link: {other:?}"),
        }
        // Nothing to lock where there is no folder: nothing there, or a file.
        for nothing in [dir.path().join("none"), root.join("a/Dockerfile")] {
            assert!(
                lock_folder(&nothing, Lock::Shared)
                    .expect("no error")
                    .is_none()
            );
        }
    }
}
