//! What `check` and `render` remember between runs: for each output folder, the digest of the
//! inputs of the render last found or made there, and the digest of that render's manifest. A
//! later `check` or `render` whose render would have the same inputs knows the render's manifest
//! without rendering, and compares the folder's files with it by their hashes
//! (`check::unchanged`).
//!
//! It is kept in the user's cache, never in the project: the folder and its manifest come with
//! pull requests, and nothing a pull request commits may vouch for itself. The inputs cover all
//! a render reads (`run::Loaded::inputs`); here they are joined by imggen's own build (its
//! code and built-in packs and profiles: the program file, as the file system identifies it),
//! the working folder and the output folder. A memory that does not read, or does not match,
//! only means the folder is rendered and compared as without one.
//!
//! One file per working folder and output folder (`--out`): a run reads the memory of the
//! folders it renders into, not of every output folder ever used there, and what it holds in
//! memory grows with its own target's folders only. The cache keeps the memories used last
//! (`prune`), so it stays bounded however many folders imggen ever rendered into.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::digest::Fields;

/// The first line of a memory, naming the form of what follows: a line per output folder,
/// `FOLDER KEY MANIFEST` (three digests: the folder's, the key of its render, its manifest's).
const FORM: &str = "imggen check memory 1";

/// Where `check` and `render` remember, and what identifies this imggen; off when either is
/// unknown.
pub struct Memo {
    at: Option<At>,
    /// By output folder: the key of the render found there, and the digest of its manifest.
    folders: Mutex<Folders>,
}

/// By output folder's digest: the key of its render and its manifest's digest. Digests are
/// held as their bytes: a memory of 10,000 folders is a megabyte, not four.
type Folders = BTreeMap<Raw, (Raw, Raw)>;

type Raw = [u8; 32];

struct At {
    /// The memory of the working folder's output folder: one file, read once and written once.
    file: PathBuf,
    program: String,
    cwd: PathBuf,
}

impl Memo {
    /// The memory of the output folder `out` (as given: inside the working folder, or
    /// absolute) in `$IMGGEN_CACHE_DIR` (none when it is set empty), else in
    /// `$XDG_CACHE_HOME/imggen`, else in `$HOME/.cache/imggen`; `var` reads the environment.
    pub fn from_env(var: impl Fn(&str) -> Option<OsString>, out: &Path) -> Self {
        let set = |name: &str| {
            var(name)
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
        };
        let cache = match var(crate::names::CACHE_DIR_VAR) {
            Some(dir) if dir.is_empty() => None,
            Some(dir) => Some(PathBuf::from(dir)),
            None => set("XDG_CACHE_HOME")
                .or_else(|| set("HOME").map(|home| home.join(".cache")))
                .map(|cache| cache.join("imggen")),
        };
        let at = (|| {
            let cache = std::path::absolute(cache?).ok()?;
            let cwd = std::env::current_dir()
                .and_then(std::fs::canonicalize)
                .ok()?;
            let mut target = Fields::new("imggen check target");
            target.add(cwd.as_os_str().as_encoded_bytes());
            // Spelled one way: no `.` in it, no slash at its end.
            let out: PathBuf = std::path::absolute(cwd.join(out))
                .ok()?
                .components()
                .collect();
            target.add(out.as_os_str().as_encoded_bytes());
            let target = target.finish();
            let name = target.strip_prefix("sha256:").unwrap_or(&target);
            Some(At {
                file: cache.join("check").join(name),
                program: this_program()?,
                cwd,
            })
        })();
        let folders = at.as_ref().map(|at| read(&at.file)).unwrap_or_default();
        Self {
            at,
            folders: Mutex::new(folders),
        }
    }

    /// No memory: every folder rendered and compared.
    pub fn off() -> Self {
        Self {
            at: None,
            folders: Mutex::new(Folders::new()),
        }
    }

    /// Whether there is a memory: with none, there is no need of a render's inputs.
    pub fn is_on(&self) -> bool {
        self.at.is_some()
    }

    /// The manifest digest remembered for `dir` under `inputs`, if it is remembered.
    pub fn recall(&self, dir: &Path, inputs: &str) -> Option<String> {
        let (folder, key) = self.key(dir, inputs)?;
        let folders = self.folders();
        let (remembered, manifest) = folders.get(&folder)?;
        (*remembered == key).then(|| crate::digest::named(manifest))
    }

    /// Remembers that a render of `inputs` into `dir` has the manifest with digest `manifest`
    /// (kept by [`Memo::save`]).
    pub fn remember(&self, dir: &Path, inputs: &str, manifest: &str) {
        if let (Some((folder, key)), Some(manifest)) =
            (self.key(dir, inputs), crate::digest::parse(manifest))
        {
            self.folders().insert(folder, (key, manifest));
        }
    }

    /// Writes what was remembered, over what another imggen remembered of other folders
    /// meanwhile. A memory that cannot be written is not one: nothing else depends on it.
    pub fn save(&self) {
        let Some(at) = &self.at else {
            return;
        };
        let ours = self.folders();
        let mut folders = read(&at.file);
        let mut changed = false;
        for (folder, entry) in ours.iter() {
            changed |= folders.insert(*folder, *entry) != Some(*entry);
        }
        if !changed {
            // Still in use: kept as if written now (see `prune`), at most one touch a day.
            if !ours.is_empty() {
                refresh(&at.file, SystemTime::now());
            }
            return;
        }
        // A line is three names of 71 bytes, two spaces and a newline.
        let mut text = String::with_capacity(FORM.len() + 1 + folders.len() * 216);
        text.push_str(FORM);
        text.push('\n');
        for (folder, (key, manifest)) in folders.iter() {
            for (raw, end) in [(folder, ' '), (key, ' '), (manifest, '\n')] {
                text.push_str(&crate::digest::named(raw));
                text.push(end);
            }
        }
        if write(&at.file, text.as_bytes()).is_ok()
            && let Some(folder) = at.file.parent()
        {
            prune(folder, SystemTime::now());
        }
    }

    fn folders(&self) -> std::sync::MutexGuard<'_, Folders> {
        self.folders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The digest naming `dir` (inside the working folder), and the key of a render of
    /// `inputs` into it by this imggen.
    fn key(&self, dir: &Path, inputs: &str) -> Option<(Raw, Raw)> {
        let at = self.at.as_ref()?;
        let mut folder = Fields::new("imggen check folder");
        folder.add(at.cwd.as_os_str().as_encoded_bytes());
        folder.add(dir.as_os_str().as_encoded_bytes());
        let folder = folder.finish_raw();
        let mut key = Fields::new("imggen check key");
        key.add(&at.program).add(folder).add(inputs);
        Some((folder, key.finish_raw()))
    }
}

/// The folders remembered in `file`; none when it is missing or not in the form written.
fn read(file: &Path) -> Folders {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Folders::new();
    };
    let mut lines = text.lines();
    // A file cut short (written by hand, or by a full disk) ends without its newline.
    if lines.next() != Some(FORM) || !text.ends_with('\n') {
        return Folders::new();
    }
    let mut folders = Folders::new();
    for line in lines {
        let mut words = line.split(' ').map(crate::digest::parse);
        match (words.next(), words.next(), words.next(), words.next()) {
            (Some(Some(folder)), Some(Some(key)), Some(Some(manifest)), None) => {
                folders.insert(folder, (key, manifest));
            }
            _ => return Folders::new(),
        }
    }
    folders
}

/// How many memories the cache keeps (one per working folder and output folder), the most
/// recently used; and how long it keeps one unused.
const KEPT: usize = 256;
const KEPT_UNUSED: Duration = Duration::from_secs(30 * DAY);
const DAY: u64 = 24 * 60 * 60;

/// Removes from `folder` the memories beyond the [`KEPT`] most recently used, and those unused
/// for [`KEPT_UNUSED`] (a memory's modification time is its last use, `refresh`): the cache
/// stays bounded however many folders imggen ever rendered into, and a memory of an older
/// imggen's form goes with time. Only files named as memories are touched: the cache folder
/// is the user's to point anywhere.
fn prune(folder: &Path, now: SystemTime) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    let mut memories: Vec<(SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|entry| entry.file_name().to_str().is_some_and(is_memory_name))
        .filter_map(|entry| {
            let meta = entry.metadata().ok()?;
            Some((meta.modified().ok()?, entry.path())).filter(|_| meta.is_file())
        })
        .collect();
    memories.sort_by(|a, b| b.cmp(a));
    for (index, (used, path)) in memories.iter().enumerate() {
        let unused = now.duration_since(*used).is_ok_and(|age| age > KEPT_UNUSED);
        if index >= KEPT || unused {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Marks the memory at `file` used at `now`, when it was last marked more than a day before.
fn refresh(file: &Path, now: SystemTime) {
    let stale = std::fs::metadata(file)
        .and_then(|meta| meta.modified())
        .is_ok_and(|used| {
            now.duration_since(used)
                .is_ok_and(|age| age.as_secs() > DAY)
        });
    if stale && let Ok(opened) = std::fs::File::options().append(true).open(file) {
        let _ = opened.set_modified(now);
    }
}

/// Whether `name` is how a memory's file is named: its digest's 64 hexadecimal digits.
fn is_memory_name(name: &str) -> bool {
    crate::digest::parse(&format!("sha256:{name}")).is_some()
}

/// This imggen's build, as its program file is identified: where it is, which file it is, its
/// size, when it was last changed. Any other build (or the same path rebuilt, or replaced) is
/// another program, whose renders may differ.
fn this_program() -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let path = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(&path).ok()?;
    let mut program = Fields::new("imggen program");
    program.add(path.as_os_str().as_encoded_bytes());
    for number in [meta.dev(), meta.ino(), meta.size()] {
        program.add(number.to_le_bytes());
    }
    for number in [
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec(),
    ] {
        program.add(number.to_le_bytes());
    }
    Some(program.finish())
}

/// `contents` into `path`, whole or not at all (staged beside it, then renamed over it), the
/// owner's alone; what a killed imggen staged there is swept first. Not flushed to disk: a
/// memory lost in a crash is only a render more.
fn write(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(folder)?;
    let _ = crate::output::files::sweep_stale_copies(path);
    let staged = crate::output::files::stage_beside(path, contents, 0o600)?;
    std::fs::rename(&staged, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&staged);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IN: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
    const OTHER: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000002";
    const NEW: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000003";
    const MANIFEST: &str =
        "sha256:00000000000000000000000000000000000000000000000000000000000000a1";
    const M2: &str = "sha256:00000000000000000000000000000000000000000000000000000000000000a2";
    const A: &str = "sha256:00000000000000000000000000000000000000000000000000000000000000aa";
    const B: &str = "sha256:00000000000000000000000000000000000000000000000000000000000000bb";

    fn memo_in(cache: &Path) -> Memo {
        Memo::from_env(
            |name| (name == crate::names::CACHE_DIR_VAR).then(|| cache.as_os_str().to_owned()),
            Path::new("generated"),
        )
    }

    #[test]
    fn a_folder_is_recalled_under_the_inputs_it_was_remembered_with_only() {
        let cache = tempfile::tempdir().expect("temp dir");
        let dir = Path::new("generated");
        let memo = memo_in(cache.path());
        assert_eq!(memo.recall(dir, IN), None);
        memo.remember(dir, IN, MANIFEST);
        memo.save();
        let memo = memo_in(cache.path());
        assert_eq!(memo.recall(dir, IN).as_deref(), Some(MANIFEST));
        assert_eq!(memo.recall(dir, OTHER), None, "other inputs");
        assert_eq!(memo.recall(Path::new("out"), IN), None, "another folder");
        // New inputs replace the folder's memory.
        memo.remember(dir, NEW, M2);
        memo.save();
        let memo = memo_in(cache.path());
        assert_eq!(memo.recall(dir, IN), None);
        assert_eq!(memo.recall(dir, NEW).as_deref(), Some(M2));
        assert_eq!(memo.folders().len(), 1);
        // The owner's alone, and only the memory is left in its folder.
        use std::os::unix::fs::PermissionsExt as _;
        let file = &memo.at.as_ref().expect("on").file;
        let mode = |path: &Path| std::fs::metadata(path).expect("there").permissions().mode();
        assert_eq!(mode(file) & 0o777, 0o600);
        assert_eq!(mode(file.parent().expect("a folder")) & 0o777, 0o700);
        let left = std::fs::read_dir(file.parent().expect("a folder")).expect("read");
        assert_eq!(left.count(), 1);
    }

    #[test]
    fn two_imggens_saving_keep_both_their_folders() {
        let cache = tempfile::tempdir().expect("temp dir");
        let (first, second) = (memo_in(cache.path()), memo_in(cache.path()));
        first.remember(Path::new("a"), IN, A);
        second.remember(Path::new("b"), IN, B);
        first.save();
        second.save();
        let memo = memo_in(cache.path());
        assert_eq!(memo.recall(Path::new("a"), IN).as_deref(), Some(A));
        assert_eq!(memo.recall(Path::new("b"), IN).as_deref(), Some(B));
    }

    #[test]
    fn each_output_folder_has_a_memory_of_its_own() {
        let cache = tempfile::tempdir().expect("temp dir");
        let var = |name: &str| {
            (name == crate::names::CACHE_DIR_VAR).then(|| cache.path().as_os_str().to_owned())
        };
        let (out, other) = (Memo::from_env(var, Path::new("out")), memo_in(cache.path()));
        out.remember(Path::new("out/a"), IN, A);
        out.save();
        other.remember(Path::new("generated"), IN, B);
        other.save();
        let file = |memo: &Memo| memo.at.as_ref().expect("on").file.clone();
        assert_ne!(file(&out), file(&other));
        let out = Memo::from_env(var, Path::new("out"));
        assert_eq!(out.folders().len(), 1, "only its own folder");
        assert_eq!(out.recall(Path::new("out/a"), IN).as_deref(), Some(A));
        let other = memo_in(cache.path());
        assert_eq!(other.recall(Path::new("out/a"), IN), None);
        assert_eq!(other.recall(Path::new("generated"), IN).as_deref(), Some(B));
        // The same folder however it is spelled.
        let spelled = Memo::from_env(var, Path::new("./out/"));
        assert_eq!(file(&spelled), file(&out));
    }

    /// A memory in `cache` that remembers `generated` under `IN`, saved; and its file.
    fn saved(cache: &Path) -> (Memo, PathBuf) {
        let memo = memo_in(cache);
        memo.remember(Path::new("generated"), IN, MANIFEST);
        memo.save();
        let file = memo.at.as_ref().expect("on").file.clone();
        (memo, file)
    }

    #[test]
    fn a_memory_that_does_not_read_is_none_and_no_memory_is_kept_when_off() {
        let cache = tempfile::tempdir().expect("temp dir");
        let dir = Path::new("generated");
        let (_, file) = saved(cache.path());
        let file = &file;
        let text = std::fs::read_to_string(file).expect("written");
        std::fs::write(file, format!("{text}extra\n")).expect("write");
        assert_eq!(
            memo_in(cache.path()).recall(dir, IN),
            None,
            "a line too many"
        );
        std::fs::write(file, &text[..text.len() - 10]).expect("write");
        assert_eq!(memo_in(cache.path()).recall(dir, IN), None, "cut short");
        std::fs::write(file, text.replace(&MANIFEST[8..], "not-hex")).expect("write");
        assert_eq!(memo_in(cache.path()).recall(dir, IN), None, "not a digest");
        std::fs::write(file, &text).expect("write");
        assert_eq!(
            memo_in(cache.path()).recall(dir, IN).as_deref(),
            Some(MANIFEST)
        );
        let off = Memo::from_env(
            |name| (name == crate::names::CACHE_DIR_VAR).then(OsString::new),
            dir,
        );
        off.remember(dir, IN, MANIFEST);
        assert_eq!(off.recall(dir, IN), None);
        assert!(Memo::off().key(dir, IN).is_none());
    }

    /// A memory-named file (or a user's file, named `name`) in `folder`, last used `age` ago.
    fn used_ago(folder: &Path, name: &str, age: Duration) -> PathBuf {
        let path = folder.join(name);
        std::fs::write(&path, format!("{FORM}\n")).expect("write");
        let file = std::fs::File::options().append(true).open(&path);
        let when = SystemTime::now() - age;
        file.and_then(|f| f.set_modified(when)).expect("dated");
        path
    }

    fn memory_name(n: usize) -> String {
        format!("{n:064x}")
    }

    #[test]
    fn the_cache_keeps_the_memories_used_last_and_lately_and_nothing_of_the_users() {
        let cache = tempfile::tempdir().expect("temp dir");
        let folder = cache.path().join("check");
        std::fs::create_dir_all(&folder).expect("folder");
        let minutes = |n: u64| Duration::from_secs(60 * n);
        let unused = used_ago(&folder, &memory_name(1), KEPT_UNUSED + minutes(1));
        let lately = used_ago(&folder, &memory_name(2), KEPT_UNUSED - minutes(60));
        // The cache folder may be one the user keeps files in.
        let users = used_ago(&folder, "notes.txt", KEPT_UNUSED * 10);
        let almost = used_ago(
            &folder,
            &format!("{}.bak", memory_name(3)),
            KEPT_UNUSED * 10,
        );
        let (memo, ours) = saved(cache.path());
        assert!(ours.exists() && lately.exists());
        assert!(!unused.exists(), "unused for longer than kept");
        assert!(users.exists() && almost.exists(), "not named as a memory");
        // Many memories, used a minute apart: the most recent are kept, ours among them.
        let many: Vec<PathBuf> = (0..KEPT + 2)
            .map(|n| used_ago(&folder, &memory_name(100 + n), minutes(n as u64 + 1)))
            .collect();
        memo.remember(Path::new("generated"), IN, M2);
        memo.save();
        let memories = std::fs::read_dir(&folder)
            .expect("read")
            .flatten()
            .filter(|entry| entry.file_name().to_str().is_some_and(is_memory_name))
            .count();
        assert_eq!(memories, KEPT);
        assert!(ours.exists() && many[KEPT - 2].exists());
        assert!(
            !many[KEPT - 1].exists() && !lately.exists(),
            "the least recently used"
        );
        assert!(users.exists() && almost.exists());
    }

    #[test]
    fn a_memory_used_without_change_is_marked_used_once_a_day() {
        let cache = tempfile::tempdir().expect("temp dir");
        let dir = Path::new("generated");
        let (_, file) = saved(cache.path());
        let used = || {
            let meta = std::fs::metadata(&file).expect("there");
            let age = SystemTime::now().duration_since(meta.modified().expect("mtime"));
            age.unwrap_or_default().as_secs()
        };
        let dated = |age: u64| {
            let when = SystemTime::now() - Duration::from_secs(age);
            let opened = std::fs::File::options().append(true).open(&file);
            opened.and_then(|f| f.set_modified(when)).expect("dated");
        };
        let contents = std::fs::read(&file).expect("read");
        for (age, touched) in [(2 * DAY, true), (DAY / 2, false)] {
            dated(age);
            let memo = memo_in(cache.path());
            assert_eq!(memo.recall(dir, IN).as_deref(), Some(MANIFEST));
            memo.remember(dir, IN, MANIFEST);
            memo.save();
            assert_eq!(used() < 60, touched, "last used {age} s ago");
            assert_eq!(std::fs::read(&file).expect("read"), contents);
        }
    }

    #[test]
    fn the_cache_is_found_as_the_environment_says() {
        let folder = |vars: &[(&str, &str)]| {
            let memo = Memo::from_env(
                |name| {
                    vars.iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| OsString::from(v))
                },
                Path::new("out"),
            );
            memo.at
                .map(|at| at.file.parent().expect("in a folder").to_path_buf())
        };
        assert_eq!(
            folder(&[("HOME", "/home/u")]),
            Some(PathBuf::from("/home/u/.cache/imggen/check"))
        );
        assert_eq!(
            folder(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "/c")]),
            Some(PathBuf::from("/c/imggen/check"))
        );
        assert_eq!(
            folder(&[
                ("XDG_CACHE_HOME", "/c"),
                (crate::names::CACHE_DIR_VAR, "/m")
            ]),
            Some(PathBuf::from("/m/check"))
        );
        assert_eq!(
            folder(&[("HOME", "/home/u"), (crate::names::CACHE_DIR_VAR, "")]),
            None
        );
        assert_eq!(folder(&[]), None);
    }
}
