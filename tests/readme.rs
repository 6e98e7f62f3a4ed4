//! The README, run as written: every command of every `sh` block, in order, in a fresh folder
//! beside a copy of the platform's real checkout (`../platform`), exiting as the README says
//! (0, or 1 where its comment starts `exit 1:`). `cargo` lines are the set-up, which CI runs
//! itself. Lines marked `[daemon]` need a Docker daemon: `scripts/e2e-docker.sh` runs the
//! README with them (the ignored test below); `[network]` lines need a registry and are only
//! checked to parse.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helper::Test;

/// One command of the README: the line (continuations joined), what it needs, its exit status.
struct Line {
    text: String,
    needs: Option<&'static str>,
    status: i32,
}

fn readme_commands() -> Vec<Line> {
    let readme = include_str!("../README.md");
    let mut lines = Vec::new();
    for block in readme.split("```sh\n").skip(1) {
        let block = block.split("```").next().expect("a closed block");
        for line in block.replace("\\\n", " ").lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("cargo ") {
                continue;
            }
            let comment = line.split_once(" # ").map_or("", |(_, c)| c.trim());
            let needs = ["daemon", "network"]
                .into_iter()
                .find(|n| comment.contains(&format!("[{n}]")));
            lines.push(Line {
                text: line.to_string(),
                needs,
                status: if comment.starts_with("exit 1:") { 1 } else { 0 },
            });
        }
    }
    lines
}

/// Runs the README's commands in `work/` beside `platform/` (a copy of the real checkout),
/// those marked `[daemon]` too when `daemon` is set; returns the folder.
fn run_readme(daemon: bool) -> (Test, PathBuf) {
    let test = Test::new().platform();
    let work = test.dir().join("work");
    std::fs::create_dir_all(&work).expect("work folder");
    let bin = Path::new(env!("CARGO_BIN_EXE_imggen"))
        .parent()
        .expect("the binary's folder")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let commands = readme_commands();
    assert!(
        commands.len() >= 25,
        "found the README's commands: {}",
        commands.len()
    );
    for line in &commands {
        match line.needs {
            Some("daemon") if daemon => {}
            Some(_) => {
                // Not run here; it must still be a command imggen or make accepts.
                assert!(
                    line.text.starts_with("imggen ")
                        || line.text.starts_with("make -C ../platform/"),
                    "{}",
                    line.text
                );
                continue;
            }
            None => {}
        }
        let output = Command::new("sh")
            .arg("-c")
            .arg(&line.text)
            .current_dir(&work)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env("IMGGEN_CACHE_DIR", test.dir().join("cache"))
            .stdin(std::process::Stdio::null())
            .output()
            .expect("sh runs");
        assert_eq!(
            output.status.code(),
            Some(line.status),
            "`{}`\n--- stdout\n{}--- stderr\n{}",
            line.text,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    (test, work)
}

#[test]
fn every_command_of_the_readme_runs_as_written_on_a_fresh_folder() {
    let (test, work) = run_readme(false);
    // What the README said its commands leave behind.
    for file in [
        "profiles/custom.toml",
        "generated/.env",
        "out/postgres/Dockerfile",
        "snapshots-all/corporate-hardened/.env",
        "template-packs/python-runtime/Dockerfile.tera",
        "imggen.toml",
        "imggen-profile.schema.json",
    ] {
        assert!(work.join(file).exists(), "{file}");
    }
    let platform = test.dir().join("platform");
    assert!(platform.join("imggen/python-runtime/Dockerfile").exists());
    let env = std::fs::read_to_string(platform.join("platform-bootstrap/.env")).expect(".env");
    assert!(
        env.lines()
            .any(|l| l == "IMAGE_PYTHON=platform/python:3.11-bookworm-prebuilt"),
        "apply pointed the platform at the profile's image: {env}"
    );
}

/// The README's whole path on a Docker daemon, `[daemon]` lines included: the images built
/// and tested, the platform's network made, and its PostgreSQL started by its own Makefile.
#[test]
#[ignore = "needs a Docker daemon: scripts/e2e-docker.sh runs it"]
fn the_readme_runs_on_a_docker_daemon() {
    let (test, _) = run_readme(true);
    let platform = test.dir().join("platform");
    let env = std::fs::read_to_string(platform.join("platform-bootstrap/.env")).expect(".env");
    let want = env
        .lines()
        .find_map(|l| l.strip_prefix("IMAGE_POSTGRES="))
        .expect("apply set IMAGE_POSTGRES");
    let inspect = Command::new("docker")
        .args(["inspect", "-f", "{{.Config.Image}}", "platform-postgres"])
        .output()
        .expect("docker runs");
    let runs = String::from_utf8_lossy(&inspect.stdout).trim().to_string();
    // The platform's `make clean` asks before it removes the volume.
    let clean = Command::new("sh")
        .arg("-c")
        .arg("echo y | make -C platform-infrastructure clean")
        .current_dir(&platform)
        .output()
        .expect("make runs");
    assert_eq!(runs, want, "make start runs the image apply set");
    assert!(clean.status.success(), "make clean: {clean:?}");
}

/// `imggen man SUBCOMMAND` prints that page; `--out DIR` writes every page the top page names,
/// leaves them alone when unchanged, and refuses a file there that is not one of them.
#[test]
fn man_pages_exist_for_every_subcommand_the_top_page_names() {
    let output = Test::new()
        .args(["man", "render"])
        .stdout_contains(".TH imggen-render 1")
        .run();
    let output = output
        .then()
        .args(["man", "--out", "man1"])
        .stdout("man1: 19 man pages, 19 written\n")
        .run();
    let top = output.read("man1/imggen.1");
    let named: Vec<&str> = top
        .split("imggen\\-")
        .skip(1)
        .filter_map(|rest| rest.split_once("(1)").map(|(name, _)| name))
        .collect();
    assert!(
        named.len() >= 17,
        "the top page names the subcommands: {named:?}"
    );
    for name in &named {
        let page = output.read(&format!("man1/imggen-{name}.1"));
        assert!(page.contains(&format!(".TH imggen-{name} 1")), "{name}");
    }
    std::fs::write(output.dir.join("man1/imggen-apply.1"), "my notes\n").expect("write");
    let output = output
        .then()
        .args(["man", "--out", "man1"])
        .status(2)
        .stderr(
            "error: `man1/imggen-apply.1` was not generated by imggen; refusing to overwrite it \
             (move it away, or pass `--force`)\n",
        )
        .run();
    assert_eq!(output.read("man1/imggen-apply.1"), "my notes\n");
    output
        .then()
        .args(["man", "nope"])
        .status(2)
        .stderr_contains("error: no man page for `nope`; the pages are imggen's own and: render,")
        .run();
}

/// Long names and pack folders stay in their columns.
#[test]
fn list_keeps_its_columns_whatever_the_width_of_a_name() {
    let output = Test::new()
        .file(
            "profiles/a-profile-with-a-rather-long-name.toml",
            "extends = \"debian-prebuilt\"\ndescription = \"Ours\"\n",
        )
        .args(["list", "profiles"])
        .run();
    let column = |line: &str, text: &str| line.find(text).expect("in the line");
    let lines: Vec<&str> = output.stdout.lines().collect();
    let long = lines
        .iter()
        .find(|l| l.starts_with("a-profile-with-a-rather-long-name"))
        .expect("listed");
    let builtin = lines
        .iter()
        .find(|l| l.starts_with("debian-prebuilt"))
        .expect("listed");
    assert_eq!(
        column(long, "profiles/a-profile"),
        column(builtin, "built-in"),
        "{}",
        output.stdout
    );
    assert_eq!(column(long, "Ours"), column(builtin, "Debian bookworm"));
}

/// The README's profile reference names the `images.<role>` key of every role in the role
/// table, so a new role cannot be left out of it.
#[test]
fn the_readme_reference_names_every_role() {
    let readme = include_str!("../README.md");
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `images.<role>`"))
        .expect("the reference has an images row");
    let output = Test::new().args(["schema"]).run();
    let schema: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    let images = schema
        .pointer("/$defs/RoleMap/properties")
        .and_then(|v| v.as_object())
        .unwrap_or_else(|| panic!("the schema lists the role keys: {}", output.stdout));
    assert!(images.len() >= 11, "{images:?}");
    for key in images.keys() {
        assert!(
            row.contains(&format!("`{key}`")),
            "README's images row lacks `{key}`"
        );
    }
}

/// Every relative link of the README, CONTRIBUTING.md and docs/ names a file that exists.
#[test]
fn every_link_between_the_docs_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs = vec![root.join("README.md"), root.join("CONTRIBUTING.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        docs.push(entry.expect("entry").path());
    }
    let mut links = 0;
    for doc in &docs {
        let text = std::fs::read_to_string(doc).expect("a doc");
        for target in text
            .split("](")
            .skip(1)
            .filter_map(|rest| rest.split(')').next())
        {
            if target.starts_with("http") {
                continue;
            }
            let file = target.split('#').next().expect("a path");
            let resolved = doc.parent().expect("a folder").join(file);
            assert!(
                resolved.exists(),
                "{}: the link `{target}` names no file",
                doc.display()
            );
            links += 1;
        }
    }
    assert!(links >= 10, "found the links ({links})");
}
