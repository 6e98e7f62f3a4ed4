//! The output folder under faults: renders killed at many points, renders racing for one
//! folder, links inside it. Whatever happens, every file is wholly one render's, `check` tells
//! the truth, and the next `render` repairs the folder and leaves no temporary file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helper::Test;

const BIN: &str = env!("CARGO_BIN_EXE_imggen");
/// Two profiles whose outputs differ in every shared file, and in which files exist at all.
const PROFILES: [&str; 2] = ["debian-prebuilt", "corporate-hardened"];
const MANIFEST: &str = ".imggen-manifest.toml";

fn imggen(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        // What `check` and `render` remember, the test's own (beside the folders it inspects).
        .env("IMGGEN_CACHE_DIR", dir.join(".imggen-cache"))
        .output()
        .expect("imggen runs")
}

/// Every file under `root` by relative path (links are not followed).
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let relative = e.path().strip_prefix(root).expect("under root");
            (
                relative.to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect()
}

fn temporaries(files: &BTreeMap<String, Vec<u8>>) -> Vec<&String> {
    files
        .keys()
        .filter(|p| p.contains(".imggen-tmp-"))
        .collect()
}

/// How long the runs `args` take here, uninterrupted: the slowest of them, so that kills spread
/// over a run however loaded the machine is (a fixed schedule landed every kill before the
/// first write on a busy machine).
fn run_time(dir: &Path, runs: &[&[&str]]) -> Duration {
    runs.iter()
        .map(|args| {
            let started = std::time::Instant::now();
            let run = imggen(dir, args);
            assert!(
                run.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&run.stderr)
            );
            started.elapsed()
        })
        .max()
        .expect("a run")
}

/// When round `round` kills a run that takes at most `took`: spread from a tenth of it to its
/// end (a quicker run finishes in some rounds), in an order that jumps about.
fn kill_point(round: u64, took: Duration) -> Duration {
    took.mul_f64(0.1 + 0.9 * ((round * 37 % 41) as f64 / 41.0))
}

/// Kill points for rounds of a run timed at `took` uninterrupted: spread by [`kill_point`]
/// over the time the run takes, which a run seen finishing sooner shortens halfway to what it
/// took (the machine got quicker since it was timed, other tests' load gone: later rounds
/// still land inside the run; one quick run alone does not crowd them into its start).
struct Kills {
    took: Duration,
}

impl Kills {
    /// Runs imggen with `args` in `dir`, killed at round `round`'s point (unless it finished
    /// first), and returns how it ended.
    fn run(&mut self, dir: &Path, args: &[&str], round: u64) -> std::process::ExitStatus {
        let (status, finished_in) = killed_after(dir, args, kill_point(round, self.took));
        if let Some(finished_in) = finished_in {
            self.took = (self.took + finished_in) / 2;
        }
        status
    }
}

/// Starts imggen with `args` in `dir`, kills it after `wait` (unless it finished), and returns
/// how it ended, with how long it took when it finished before the kill.
fn killed_after(
    dir: &Path,
    args: &[&str],
    wait: Duration,
) -> (std::process::ExitStatus, Option<Duration>) {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("imggen starts");
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waits") {
            return (status, Some(started.elapsed()));
        }
        let Some(left) = wait.checked_sub(started.elapsed()) else {
            break;
        };
        std::thread::sleep(left.min(Duration::from_millis(1)));
    }
    let _ = child.kill();
    (child.wait().expect("reaped"), None)
}

/// What each profile renders, from clean folders: the versions a file may have.
fn references(dir: &Path) -> Vec<BTreeMap<String, Vec<u8>>> {
    PROFILES
        .iter()
        .map(|profile| {
            let out = format!("ref-{profile}");
            assert!(
                imggen(dir, &["render", "-p", profile, "--out", &out])
                    .status
                    .success()
            );
            let mut files = tree(&dir.join(&out));
            files.remove(MANIFEST);
            files
        })
        .collect()
}

/// After any fault: no file is half one version and half another, and `check` says "up to
/// date" for a profile only when the folder is exactly that profile's render.
fn assert_consistent(dir: &Path, refs: &[BTreeMap<String, Vec<u8>>], when: &str) {
    let files = tree(&dir.join("out"));
    assert_whole_files(&files, refs, when);
    for (profile, reference) in PROFILES.iter().zip(refs) {
        assert_check_truthful(
            dir,
            &["-p", profile, "--out", "out"],
            &files,
            reference,
            when,
        );
    }
}

/// Every file of `files` (but the manifest and temporaries) is one of `refs`' versions.
fn assert_whole_files(
    files: &BTreeMap<String, Vec<u8>>,
    refs: &[BTreeMap<String, Vec<u8>>],
    when: &str,
) {
    for (path, contents) in files {
        if path == MANIFEST || path.contains(".imggen-tmp-") {
            continue;
        }
        assert!(
            refs.iter().any(|r| r.get(path) == Some(contents)),
            "{when}: {path} is neither render's version"
        );
    }
}

/// `check ARGS` answers 0 or 1, and 0 only when the folder's files (`files`, read from it)
/// are exactly `reference`.
fn assert_check_truthful(
    dir: &Path,
    args: &[&str],
    files: &BTreeMap<String, Vec<u8>>,
    reference: &BTreeMap<String, Vec<u8>>,
    when: &str,
) {
    let check = imggen(dir, &[&["check"], args].concat());
    let code = check.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "{when}: check failed: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    if code == Some(0) {
        let mut rendered = files.clone();
        rendered.remove(MANIFEST);
        assert_eq!(
            &rendered, reference,
            "{when}: check {args:?} calls the folder up to date, but it is not"
        );
    }
}

#[test]
fn renders_killed_at_fifty_points_leave_whole_files_and_a_truthful_check() {
    let test = Test::new();
    let dir = test.dir();
    let refs = references(&dir);
    let mut outcomes = BTreeMap::<&str, usize>::new();
    let render = |profile| ["render", "-p", profile, "--out", "out"];
    let mut kills = Kills {
        took: run_time(
            &dir,
            &[
                &render(PROFILES[0]),
                &render(PROFILES[1]),
                &render(PROFILES[0]),
            ],
        ),
    };
    for round in 0..50u64 {
        let profile = PROFILES[(round % 2) as usize];
        // Spread over start-up, rendering, staging, renaming and the manifest.
        let status = kills.run(&dir, &render(profile), round);
        let files = tree(&dir.join("out"));
        let state = if status.success() {
            "finished"
        } else if !temporaries(&files).is_empty() {
            "killed while staging"
        } else if files
            .get(MANIFEST)
            .is_some_and(|m| String::from_utf8_lossy(m).contains("incomplete = true"))
        {
            "killed while replacing"
        } else {
            "killed before writing"
        };
        *outcomes.entry(state).or_default() += 1;
        assert_consistent(&dir, &refs, &format!("round {round} ({state})"));
    }
    eprintln!("kill points reached: {outcomes:?}");
    assert!(
        outcomes.len() >= 2,
        "the kills all landed alike: {outcomes:?}"
    );
    // The next render repairs whatever the last kill left.
    for profile in PROFILES {
        assert!(
            imggen(&dir, &["render", "-p", profile, "--out", "out"])
                .status
                .success()
        );
        let check = imggen(&dir, &["check", "-p", profile, "--out", "out"]);
        assert!(check.status.success(), "{profile}: not repaired");
        assert!(temporaries(&tree(&dir.join("out"))).is_empty());
    }
}

/// Renders that turn `python-runtime/Dockerfile` into a folder (a pack on disk puts it one
/// level down) and back, killed at forty points: every file is wholly one render's, `check`
/// calls the folder current only when it is, and the next render finishes it and leaves
/// nothing under a temporary name (a file, or a folder set aside).
#[test]
fn renders_that_turn_a_file_into_a_folder_killed_at_forty_points_are_repaired() {
    let test = Test::new().file(
        "packs/python-runtime/pack.toml",
        "extends = \"builtin:python-runtime\"\n[[outputs]]\ntemplate = \"Dockerfile.tera\"\n\
         path = \"python-runtime/Dockerfile/x\"\n",
    );
    let dir = test.dir();
    let variants: [&[&str]; 2] = [
        &["-p", "debian-prebuilt"],
        &["-p", "debian-prebuilt", "--pack-dir", "packs"],
    ];
    let line = |command: &'static str, variant: &[&'static str], out: &'static str| {
        [&[command][..], variant, &["--out", out]].concat()
    };
    // A render of `variant` into `out` succeeds, and `check` then calls the folder current.
    let finishes = |variant: &[&'static str], out: &'static str, when: &str| {
        let render = imggen(&dir, &line("render", variant, out));
        assert!(
            render.status.success(),
            "{when}: {variant:?} did not finish the folder: {}",
            String::from_utf8_lossy(&render.stderr)
        );
        let check = imggen(&dir, &line("check", variant, out));
        assert!(check.status.success(), "{when}: {variant:?} not current");
    };
    let refs: Vec<BTreeMap<String, Vec<u8>>> = variants
        .iter()
        .zip(["ref-0", "ref-1"])
        .map(|(variant, out)| {
            assert!(imggen(&dir, &line("render", variant, out)).status.success());
            let mut files = tree(&dir.join(out));
            files.remove(MANIFEST);
            files
        })
        .collect();
    assert!(refs[1].contains_key("python-runtime/Dockerfile/x"));
    let mut outcomes = BTreeMap::<&str, usize>::new();
    let timing: Vec<Vec<&str>> = [0, 1, 0]
        .map(|v| line("render", variants[v], "timing"))
        .to_vec();
    let mut kills = Kills {
        took: run_time(&dir, &timing.iter().map(Vec::as_slice).collect::<Vec<_>>()),
    };
    for round in 0..40u64 {
        let render = line("render", variants[(round % 2) as usize], "out");
        let status = kills.run(&dir, &render, round);
        let files = tree(&dir.join("out"));
        let state = match status.success() {
            true => "finished",
            false if files.keys().any(|p| p.contains(".imggen-tmp-")) => "killed mid-write",
            false => "killed otherwise",
        };
        *outcomes.entry(state).or_default() += 1;
        let when = format!("round {round}");
        assert_whole_files(&files, &refs, &when);
        for (variant, reference) in variants.iter().zip(&refs) {
            let check = [*variant, &["--out", "out"]].concat();
            assert_check_truthful(&dir, &check, &files, reference, &when);
        }
        // Whatever this kill left, a render of either kind finishes it: tried on a copy, in
        // both orders over the rounds, so that every state a kill reached is repaired once.
        let copy = dir.join("repair");
        let _ = std::fs::remove_dir_all(&copy);
        crate::helper::copy_tree(&dir.join("out"), &copy);
        let first = (round / 2 % 2) as usize;
        for variant in [variants[first], variants[1 - first]] {
            finishes(variant, "repair", &when);
        }
    }
    eprintln!("kill points reached: {outcomes:?}");
    assert!(
        outcomes.len() >= 2,
        "the kills all landed alike: {outcomes:?}"
    );
    for variant in variants {
        finishes(variant, "out", "after the last kill");
        let left = walkdir::WalkDir::new(dir.join("out"))
            .into_iter()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().contains(".imggen-tmp-"));
        assert!(!left, "a file or folder left under a temporary name");
    }
}

#[test]
fn ten_concurrent_renders_into_one_folder_end_as_one_whole_render() {
    let test = Test::new();
    let dir = test.dir();
    let refs = references(&dir);
    let children: Vec<_> = (0..10)
        .map(|i| {
            Command::new(BIN)
                .args(["render", "-p", PROFILES[i % 2], "--out", "out"])
                .current_dir(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("imggen starts")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("finishes");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut files = tree(&dir.join("out"));
    assert!(temporaries(&files).is_empty(), "temporary files left");
    files.remove(MANIFEST);
    let winner = refs
        .iter()
        .position(|r| *r == files)
        .expect("the folder is exactly one profile's render");
    let check = imggen(&dir, &["check", "-p", PROFILES[winner], "--out", "out"]);
    assert!(check.status.success(), "check disagrees");
    assert_consistent(&dir, &refs, "after the race");
}

#[test]
fn a_second_render_waits_for_the_folder_lock_and_says_so() {
    let test = Test::new();
    let dir = test.dir();
    std::fs::create_dir(dir.join("out")).expect("mkdir");
    let holder = std::fs::File::open(dir.join("out")).expect("open folder");
    holder.lock().expect("lock");
    let child = Command::new(BIN)
        .args(["render", "--out", "out"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("imggen starts");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !dir.join("out").join(MANIFEST).exists(),
        "wrote while another held the lock"
    );
    holder.unlock().expect("unlock");
    let output = child.wait_with_output().expect("finishes");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "note: another imggen is writing into out; waiting for it to finish\n"
    );
    assert!(dir.join("out").join(MANIFEST).exists());
}

#[test]
fn an_interrupted_render_is_reported_incomplete_and_finished_by_the_next() {
    let test = Test::new();
    let dir = test.dir();
    assert!(imggen(&dir, &["render", "--out", "out"]).status.success());
    // What a kill between the renames leaves: the manifest still marked, a temporary file.
    let manifest = dir.join("out").join(MANIFEST);
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let marked = text.replacen("\n[packs]", "incomplete = true\n\n[packs]", 1);
    assert_ne!(marked, text, "marked");
    std::fs::write(&manifest, marked).expect("mark");
    let temp = dir.join("out/python-runtime/.Dockerfile.imggen-tmp-1-0");
    std::fs::write(&temp, "partial").expect("temp");
    let check = imggen(&dir, &["check", "--out", "out"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&check.stdout).contains(
            "incomplete: out (a render into it was interrupted; render again to finish it)"
        ),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    assert!(imggen(&dir, &["render", "--out", "out"]).status.success());
    assert!(imggen(&dir, &["check", "--out", "out"]).status.success());
    assert!(temporaries(&tree(&dir.join("out"))).is_empty());
}

/// A render killed while it writes its marker (the first thing it writes, under a reserved
/// temporary name in the folder's root) leaves only that file, the manifest still complete:
/// `check` finds it and calls the folder incomplete; the next render removes it.
#[test]
fn a_render_killed_while_writing_its_marker_is_reported_incomplete() {
    let test = Test::new();
    let dir = test.dir();
    assert!(imggen(&dir, &["render", "--out", "out"]).status.success());
    let manifest = std::fs::read(dir.join("out").join(MANIFEST)).expect("manifest");
    let marker = dir.join(format!("out/{MANIFEST}.imggen-tmp-marker"));
    std::fs::write(&marker, &manifest[..manifest.len() / 2]).expect("half a marker");
    let check = imggen(&dir, &["check", "--out", "out"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&check.stdout).contains("incomplete: out"),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    assert!(imggen(&dir, &["render", "--out", "out"]).status.success());
    assert!(!marker.exists(), "the leftover was removed");
    assert!(imggen(&dir, &["check", "--out", "out"]).status.success());
}

/// A link committed inside the output folder, in place of a folder, a generated file or the
/// manifest: `render` neither reads through it nor writes through it, and says which it is.
#[cfg(unix)]
#[test]
fn a_link_inside_out_is_refused_and_nothing_outside_changes() {
    for link in [
        "out/postgres",
        "out/postgres/Dockerfile",
        "out/.imggen-manifest.toml",
    ] {
        let test = Test::new();
        let dir = test.dir();
        assert!(imggen(&dir, &["render", "--out", "out"]).status.success());
        let outside = dir.join("elsewhere");
        std::fs::create_dir(&outside).expect("mkdir");
        std::fs::write(outside.join("Dockerfile"), "mine\n").expect("write");
        let target: PathBuf = dir.join(link);
        crate::helper::replace_with_link(&target, &outside);
        let before = tree(&dir.join("out"));
        let render = imggen(&dir, &["render", "--out", "out"]);
        assert_eq!(render.status.code(), Some(2), "{link}");
        assert_eq!(
            String::from_utf8_lossy(&render.stderr),
            format!(
                "error: `{link}` is a symbolic link inside the output folder; imggen never reads \
                 or writes through a link there (it could reach outside the folder): remove the \
                 link, or render into another --out\n"
            ),
        );
        assert_eq!(
            std::fs::read_to_string(outside.join("Dockerfile")).expect("read"),
            "mine\n"
        );
        assert_eq!(tree(&outside).len(), 1, "nothing written outside ({link})");
        assert_eq!(
            tree(&dir.join("out")),
            before,
            "nothing written inside ({link})"
        );
    }
}

/// The output folder itself committed as a link (to another checkout, to `..`): `check` would
/// print what that place holds under an output's name (its `.env`) into a CI log, and `render`
/// would write there. Both refuse it, whatever path names it, and read and write nothing.
#[cfg(unix)]
#[test]
fn an_output_folder_committed_as_a_link_is_never_read_nor_written() {
    let test = Test::new().file("other-checkout/.env", "AWS_SECRET=hunter2\n");
    let dir = test.dir();
    std::fs::create_dir(dir.join("repo")).expect("mkdir");
    std::os::unix::fs::symlink("../other-checkout", dir.join("repo/generated")).expect("link");
    let repo = dir.join("repo");
    let absolute = repo.join("generated").display().to_string();
    for (command, out, shown) in [
        ("check", "generated", "generated"),
        ("check", "generated/", "generated/"),
        ("check", absolute.as_str(), absolute.as_str()),
        ("render", "generated", "generated"),
        ("render", "generated/postgres", "generated/postgres"),
    ] {
        let run = imggen(&repo, &[command, "-p", "debian-prebuilt", "--out", out]);
        assert_eq!(run.status.code(), Some(2), "{command} {out}");
        assert_eq!(String::from_utf8_lossy(&run.stdout), "", "{command} {out}");
        let which = if out.ends_with("postgres") {
            "lies below a symbolic link, `generated`".to_string()
        } else {
            "is a symbolic link".to_string()
        };
        assert_eq!(
            String::from_utf8_lossy(&run.stderr),
            format!(
                "error: output folder `{shown}` {which}; imggen never reads or writes an output \
                 folder through a link (committed in a pull request, one could point anywhere on \
                 the machine): remove the link, or pass the folder it points at as --out\n"
            ),
            "{command} {out}"
        );
    }
    assert_eq!(
        tree(&dir.join("other-checkout")).len(),
        1,
        "nothing written through the link"
    );
}

/// `render --all` writes a chunk of folders with shared flushes: killed anywhere in that, every
/// folder still holds whole files of one render, `check` tells the truth for each, and the next
/// `render --all` repairs them all.
#[test]
fn render_all_killed_at_twenty_points_leaves_every_folder_whole() {
    let test = Test::new();
    let dir = test.dir();
    let locals = ["local-1", "local-2", "local-3", "local-4"];
    // Two versions of the project's own profiles, whose renders differ in every file.
    let write_profiles = |base: &str| {
        std::fs::create_dir_all(dir.join("profiles")).expect("mkdir");
        for name in locals {
            std::fs::write(
                dir.join(format!("profiles/{name}.toml")),
                format!("extends = \"{base}\"\n"),
            )
            .expect("write profile");
        }
    };
    let mut refs: Vec<BTreeMap<String, BTreeMap<String, Vec<u8>>>> = Vec::new();
    for (index, base) in PROFILES.iter().enumerate() {
        write_profiles(base);
        let out = format!("ref-{index}");
        assert!(
            imggen(&dir, &["render", "--all", "--out", &out])
                .status
                .success()
        );
        refs.push(
            locals
                .iter()
                .map(|name| {
                    let mut files = tree(&dir.join(&out).join(name));
                    files.remove(MANIFEST);
                    (name.to_string(), files)
                })
                .collect(),
        );
    }
    let mut states = std::collections::BTreeSet::new();
    let render_all = ["render", "--all", "--out", "out"];
    let mut kills = Kills {
        took: run_time(&dir, &[&render_all, &render_all]),
    };
    for round in 0..20u64 {
        write_profiles(PROFILES[(round % 2) as usize]);
        let status = kills.run(&dir, &render_all, round);
        states.insert(status.success());
        for name in locals {
            let folder = dir.join("out").join(name);
            let files = tree(&folder);
            for (path, contents) in &files {
                if path == MANIFEST || path.contains(".imggen-tmp-") {
                    continue;
                }
                assert!(
                    refs.iter().any(|r| r[name].get(path) == Some(contents)),
                    "round {round}: {name}/{path} is neither render's version"
                );
            }
            let out = format!("out/{name}");
            let reference = &refs[(round % 2) as usize][name];
            let when = format!("round {round}");
            assert_check_truthful(&dir, &["-p", name, "--out", &out], &files, reference, &when);
        }
    }
    eprintln!("render --all finished in some rounds, killed in others: {states:?}");
    assert!(
        imggen(&dir, &["render", "--all", "--out", "out"])
            .status
            .success()
    );
    let check = imggen(&dir, &["check", "--all", "--out", "out"]);
    assert!(
        check.status.success(),
        "not repaired: {}",
        String::from_utf8_lossy(&check.stdout)
    );
    assert!(temporaries(&tree(&dir.join("out"))).is_empty());
}

/// Puts `root` back to `state`: every file as it was, nothing else (links are not followed).
fn restore(root: &Path, state: &BTreeMap<String, Vec<u8>>) {
    for (path, _) in tree(root) {
        if !state.contains_key(&path) {
            std::fs::remove_file(root.join(&path)).expect("remove");
        }
    }
    for (path, contents) in state {
        let target = root.join(path);
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("mkdir");
        if std::fs::read(&target).ok().as_ref() != Some(contents) {
            std::fs::write(&target, contents).expect("write");
        }
    }
}

/// `apply` on the platform's real checkout, killed at forty points between start-up and its
/// last rename, alternating two profiles. After each kill every file of the checkout is wholly
/// what it was before that run or wholly what an uninterrupted run writes (copies staged beside
/// a `.env` aside: the next run sweeps them), and the next `apply` finishes the job: the
/// checkout equals the uninterrupted run's, with no staged copy left, and `--check` agrees.
#[test]
fn applies_killed_at_forty_points_leave_whole_files_and_the_next_run_finishes() {
    let test = Test::new().platform();
    let dir = test.dir();
    let root = dir.join("platform");
    // The platform wizard's central .env, with a secret, as a real checkout has.
    std::fs::write(
        root.join("platform-bootstrap/.env"),
        "ENABLE_OPENMETADATA=true\nPLATFORM_DB_PASSWORD=s3cret-admin\n",
    )
    .expect("write");
    // No engine on PATH: apply asks none which images it holds (a run is then ~10 ms).
    std::fs::create_dir_all(dir.join("no-engine")).expect("mkdir");
    let command = |args: &[&str]| {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .current_dir(&dir)
            .env("PATH", dir.join("no-engine"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    };
    let run = |args: &[&str]| command(args).status().expect("imggen runs").success();
    let apply = |profile: &'static str| ["apply", "--platform", "platform", "-p", profile];
    let staged = |path: &String| path.contains(".imggen-tmp-");
    let mut outcomes = BTreeMap::<&str, usize>::new();
    for round in 0..40u64 {
        let profile = PROFILES[(round % 2) as usize];
        let before = tree(&root);
        // What an uninterrupted run writes from here, and how long it takes.
        let started = std::time::Instant::now();
        assert!(run(&apply(profile)), "round {round}");
        let took = started.elapsed();
        let after = tree(&root);
        restore(&root, &before);
        // Spread over the run this round just timed, as the other kill tests spread theirs.
        let at = kill_point(round, took);
        let mut child = command(&apply(profile)).spawn().expect("imggen starts");
        std::thread::sleep(at);
        let _ = child.kill();
        let status = child.wait().expect("reaped");
        let killed = tree(&root);
        let mut changed = 0;
        for (path, contents) in killed.iter().filter(|(path, _)| !staged(path)) {
            let old = before.get(path) == Some(contents);
            let new = after.get(path) == Some(contents);
            // The build contexts' manifest says "incomplete" while they are replaced.
            let marked = path.ends_with(MANIFEST)
                && String::from_utf8_lossy(contents).contains("incomplete = true");
            assert!(
                old || new || marked,
                "round {round}: {path} is neither the old file nor the new"
            );
            changed += usize::from(!old);
        }
        for path in before.keys().chain(after.keys()) {
            assert!(
                killed.contains_key(path)
                    || !(before.contains_key(path) && after.contains_key(path)),
                "round {round}: {path} is gone"
            );
        }
        let state = if status.success() {
            "finished"
        } else if changed == 0 {
            "killed before writing"
        } else {
            "killed while writing"
        };
        *outcomes.entry(state).or_default() += 1;
        // The next run finishes the job.
        assert!(run(&apply(profile)), "round {round}: the next run");
        let repaired = tree(&root);
        assert!(
            repaired.keys().all(|path| !staged(path)),
            "round {round}: a staged copy is left"
        );
        assert_eq!(
            repaired, after,
            "round {round}: the next run did not finish the job"
        );
        let check = ["apply", "--platform", "platform", "-p", profile, "--check"];
        assert!(run(&check), "round {round}: --check after the repair");
    }
    eprintln!("kill points reached: {outcomes:?}");
    assert!(
        outcomes.len() >= 2,
        "the kills all landed alike: {outcomes:?}"
    );
}
