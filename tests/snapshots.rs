//! `snapshots/<profile>/` is what `imggen render --all --out snapshots` writes for the built-in
//! profiles; `snapshots/knobs/<name>/` is the render of `tests/knobs/<name>.toml`, test profiles
//! that switch each knob on. These tests run `imggen check` (the same code path users run in CI)
//! and fail with its unified diff. `IMGGEN_UPDATE_SNAPSHOTS=1 cargo test` rewrites them instead;
//! review the diff.

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn imggen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_imggen"))
        .args(args)
        .current_dir(ROOT)
        .env("NO_COLOR", "1")
        // What `check` and `render` remember: in the build's folder, never the user's cache.
        .env(
            "IMGGEN_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("imggen-cache"),
        )
        .output()
        .expect("imggen runs")
}

fn updating() -> bool {
    std::env::var_os("IMGGEN_UPDATE_SNAPSHOTS").is_some_and(|v| v == "1")
}

/// Checks (or, when updating, first renders) one selection against its snapshot folder.
fn check(selection: &[&str], out: &str) {
    if updating() {
        let output = imggen(&[&["render"], selection, &["--out", out]].concat());
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let output = imggen(&[&["check"], selection, &["--out", out]].concat());
    assert!(
        output.status.success(),
        "{out} differs from what the profile renders (IMGGEN_UPDATE_SNAPSHOTS=1 cargo test \
         rewrites it):\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn knob_profiles() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("tests/knobs"))
        .expect("tests/knobs exists")
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".toml").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_builtin_profile_matches_its_snapshot() {
    check(&["--all"], "snapshots");
}

#[test]
fn every_knob_profile_matches_its_snapshot() {
    let names = knob_profiles();
    assert!(names.len() >= 5, "{names:?}");
    for name in names {
        check(
            &["-p", &format!("tests/knobs/{name}.toml")],
            &format!("snapshots/knobs/{name}"),
        );
    }
}

#[test]
fn every_snapshot_folder_has_a_profile() {
    let listed = imggen(&["list", "profiles"]);
    let builtins: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect();
    let knobs = knob_profiles();
    let root = Path::new(ROOT).join("snapshots");
    for (folder, names) in [(root.clone(), &builtins), (root.join("knobs"), &knobs)] {
        for entry in std::fs::read_dir(&folder).expect("snapshot folder exists") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            let is_knobs_folder = folder == root && name == "knobs";
            assert!(
                is_knobs_folder || names.contains(&name),
                "{}/{name} has no profile; delete it",
                folder.display()
            );
        }
        for name in names {
            assert!(
                folder.join(name).is_dir(),
                "profile `{name}` has no snapshot in {}",
                folder.display()
            );
        }
    }
}
