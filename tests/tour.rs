//! The README's quick tour, run as written: every command in its first `sh` block executes in a
//! folder beside a copy of the platform fixture, and exits as the README says (0, or 1 where
//! its comment says "exit 1:" / "exit 1 on findings").

use std::path::Path;
use std::process::Command;

use crate::helper::Test;

fn tour() -> Vec<String> {
    let readme = include_str!("../README.md");
    let section = readme
        .split("## Quick tour")
        .nth(1)
        .expect("the README has a quick tour");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the tour is an sh block");
    block
        .lines()
        .filter(|l| l.starts_with("imggen "))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_command_of_the_readme_tour_runs_and_exits_as_documented() {
    let test = Test::new()
        .platform()
        .file(
            "work/profiles/org.toml",
            "extends = \"debian-prebuilt\"\n\n[python]\ntoolchain = false\n",
        )
        // A hand-written PostgreSQL Dockerfile that replaces the upstream entrypoint.
        .file(
            "work/path/to/Dockerfile",
            "FROM postgres:17.5-bookworm\nENTRYPOINT [\"postgres\"]\n",
        );
    let dir = test.dir();
    let work = dir.join("work");
    let bin = Path::new(env!("CARGO_BIN_EXE_imggen"))
        .parent()
        .expect("the binary's folder")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let commands = tour();
    assert!(commands.len() >= 15, "found the tour: {commands:?}");
    for line in &commands {
        let expected = if line.contains("exit 1:") || line.contains("exit 1 on findings") {
            1
        } else {
            0
        };
        let output = Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(&work)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("sh runs");
        assert_eq!(
            output.status.code(),
            Some(expected),
            "`{line}`\n--- stdout\n{}--- stderr\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // What the tour promised to leave behind.
    for file in [
        "profiles/custom.toml",
        "out/postgres/Dockerfile",
        "generated/.env",
        "snapshots/corporate-hardened/.env",
        "template-packs/python-runtime/Dockerfile.tera",
        "imggen.toml",
    ] {
        assert!(work.join(file).exists(), "{file}");
    }
    assert!(
        dir.join("platform/imggen/python-runtime/Dockerfile")
            .exists()
    );
}
