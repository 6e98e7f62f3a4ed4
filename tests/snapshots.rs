//! `snapshots/<profile>/` is what `imggen render --all --out snapshots` writes. This test runs
//! `imggen check --all --out snapshots` (the same code path users run in CI) and fails with its
//! unified diff. `IMGGEN_UPDATE_SNAPSHOTS=1 cargo test` rewrites them instead; review the diff.

use std::path::Path;
use std::process::Command;

fn imggen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_imggen"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("imggen runs")
}

#[test]
fn every_builtin_profile_matches_its_snapshot() {
    if std::env::var_os("IMGGEN_UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        let output = imggen(&["render", "--all", "--out", "snapshots"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let output = imggen(&["check", "--all", "--out", "snapshots"]);
    assert!(
        output.status.success(),
        "snapshots differ from what the profiles render (IMGGEN_UPDATE_SNAPSHOTS=1 cargo test \
         rewrites them):\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn every_snapshot_folder_is_a_known_profile() {
    let listed = imggen(&["list", "profiles"]);
    let names: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    for entry in std::fs::read_dir(&root).expect("snapshots/ exists") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        assert!(
            names.contains(&name),
            "snapshots/{name} has no profile; delete it"
        );
    }
    for name in &names {
        assert!(
            root.join(name).is_dir(),
            "profile `{name}` has no snapshot folder"
        );
    }
}
