//! A test reads like the user's session: files in a temporary folder, a command, what it printed.

use std::path::PathBuf;
use std::process::Command;

pub struct Test {
    dir: tempfile::TempDir,
    /// imggen's cache (what `check` and `render` remember), the test's own: kept from one command of a
    /// session to the next, as a user's is.
    cache: tempfile::TempDir,
    args: Vec<String>,
    status: i32,
    stdout: Option<String>,
    stderr: Option<String>,
    stdout_contains: Vec<String>,
    stderr_contains: Vec<String>,
    env: Vec<(String, String)>,
    /// `ulimit` options for open files (`-n 60`, `-Sn 60`), applied by a shell before imggen.
    open_files: Option<String>,
}

pub struct Output {
    pub dir: PathBuf,
    pub stdout: String,
    /// Kept so the folder lives as long as the output is inspected.
    _dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Test {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
            cache: tempfile::tempdir().expect("temp dir"),
            args: Vec::new(),
            status: 0,
            stdout: None,
            stderr: None,
            stdout_contains: Vec::new(),
            stderr_contains: Vec::new(),
            env: Vec::new(),
            open_files: None,
        }
    }

    pub fn file(self, path: &str, contents: impl AsRef<[u8]>) -> Self {
        let target = self.dir.path().join(path);
        std::fs::create_dir_all(target.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(target, contents).expect("write fixture");
        self
    }

    /// A copy of the platform's real checkout (`../shared/platform-upstream/checkout`), as
    /// `platform/`, writable by its owner (the original is read-only test data).
    pub fn platform(self) -> Self {
        copy_writable(&upstream_checkout(), &self.dir.path().join("platform"));
        self
    }

    /// The test's folder, for tests that drive processes themselves (kills, races).
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The test's own imggen cache, for tests that drive processes themselves.
    pub fn cache(&self) -> PathBuf {
        self.cache.path().to_path_buf()
    }

    pub fn args<const N: usize>(mut self, args: [&str; N]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs imggen under a limit on open files: `-n N` (soft and hard) or `-Sn N` (soft only).
    pub fn open_files(mut self, ulimit: &str) -> Self {
        self.open_files = Some(ulimit.into());
        self
    }

    pub fn status(mut self, status: i32) -> Self {
        self.status = status;
        self
    }

    pub fn stdout(mut self, text: &str) -> Self {
        self.stdout = Some(text.into());
        self
    }

    pub fn stderr(mut self, text: &str) -> Self {
        self.stderr = Some(text.into());
        self
    }

    pub fn stdout_contains(mut self, text: &str) -> Self {
        self.stdout_contains.push(text.into());
        self
    }

    pub fn stderr_contains(mut self, text: &str) -> Self {
        self.stderr_contains.push(text.into());
        self
    }

    pub fn run(self) -> Output {
        let bin = env!("CARGO_BIN_EXE_imggen");
        let mut command = match &self.open_files {
            Some(ulimit) => {
                let mut shell = Command::new("sh");
                let script = format!("ulimit {ulimit} && exec \"$0\" \"$@\"");
                shell.args(["-c", &script, bin]);
                shell
            }
            None => Command::new(bin),
        };
        command
            .args(&self.args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env("IMGGEN_CACHE_DIR", self.cache.path());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        let output = command.output().expect("imggen runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let shown = format!(
            "args: {:?}\n--- stdout\n{stdout}--- stderr\n{stderr}",
            self.args
        );
        assert_eq!(
            output.status.code(),
            Some(self.status),
            "unexpected status\n{shown}"
        );
        if let Some(expected) = &self.stdout {
            assert_eq!(&stdout, expected, "stdout differs\n{shown}");
        }
        if let Some(expected) = &self.stderr {
            assert_eq!(&stderr, expected, "stderr differs\n{shown}");
        }
        for part in &self.stdout_contains {
            assert!(
                stdout.contains(part.as_str()),
                "stdout lacks {part:?}\n{shown}"
            );
        }
        for part in &self.stderr_contains {
            assert!(
                stderr.contains(part.as_str()),
                "stderr lacks {part:?}\n{shown}"
            );
        }
        Output {
            dir: self.dir.path().to_path_buf(),
            stdout,
            _dir: self.dir,
            cache: self.cache,
        }
    }
}

impl Output {
    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.dir.join(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
    }

    pub fn exists(&self, path: &str) -> bool {
        self.dir.join(path).exists()
    }

    /// Every file under `path`, relative, sorted, with its contents.
    pub fn tree(&self, path: &str) -> Vec<(String, Vec<u8>)> {
        let root = self.dir.join(path);
        let mut files: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let relative = e.path().strip_prefix(&root).expect("under root");
                (
                    relative.display().to_string(),
                    std::fs::read(e.path()).expect("read"),
                )
            })
            .collect();
        files.sort();
        files
    }
}

impl Output {
    /// Another command in the same folder.
    pub fn then(self) -> Test {
        let mut test = Test::new();
        test.dir = self._dir;
        test.cache = self.cache;
        test
    }
}

/// Replaces `target` (a folder or a file the test rendered) with a symbolic link: to the folder
/// `elsewhere` for a folder, to `elsewhere/Dockerfile` for a file.
#[cfg(unix)]
pub fn replace_with_link(target: &std::path::Path, elsewhere: &std::path::Path) {
    let points_at = if target.is_dir() {
        std::fs::remove_dir_all(target).expect("rm");
        elsewhere.to_path_buf()
    } else {
        std::fs::remove_file(target).expect("rm");
        elsewhere.join("Dockerfile")
    };
    std::os::unix::fs::symlink(points_at, target).expect("link");
}

/// corporate-hardened rendered into `out`, then what a pull request could commit beside it: a
/// script next to imggen's in `out/postgres/initdb/` (a build context) and a note in `out/`
/// (in no build context).
pub fn rendered_with_extra_script() -> Output {
    let output = Test::new()
        .args(["render", "-p", "corporate-hardened", "--out", "out"])
        .run();
    let out = output.dir.join("out");
    std::fs::write(out.join("postgres/initdb/00-extra.sh"), "echo extra\n").expect("write");
    std::fs::write(out.join("notes.txt"), "outside every build context\n").expect("write");
    output
}

/// `from` copied to `to` as it is (links copied as links).
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for entry in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let target = to.join(entry.path().strip_prefix(from).expect("under root"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else if entry.file_type().is_symlink() {
            let link = std::fs::read_link(entry.path()).expect("read link");
            std::os::unix::fs::symlink(link, &target).expect("link");
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The pinned copy of the platform's real repository, beside this one (`../shared/`).
pub fn upstream_checkout() -> PathBuf {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/platform-upstream/checkout");
    assert!(
        path.join("platform-bootstrap/Makefile").is_file(),
        "the platform's checkout is missing at {}: the tests of `apply` run on a copy of it",
        path.display()
    );
    path
}

/// `from` copied to `to` with every file and folder writable by its owner (modes otherwise
/// kept: the checkout's scripts stay executable).
pub fn copy_writable(from: &std::path::Path, to: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    copy_tree(from, to);
    for entry in walkdir::WalkDir::new(to).into_iter().filter_map(Result::ok) {
        if entry.file_type().is_symlink() {
            continue;
        }
        let mode = entry.metadata().expect("stat").permissions().mode();
        std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode | 0o200))
            .expect("chmod u+w");
    }
}
