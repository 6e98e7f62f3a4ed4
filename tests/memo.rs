//! What `check` and `render` remember in the user's cache: a folder found current (or just
//! rendered) is found current again by its files' hashes, without rendering, while nothing the
//! render reads has changed; and a change to anything the render reads is seen exactly as
//! without memory.

use crate::helper::{Output, Test};

/// The mark in the name of a file imggen is still writing.
const TEMPORARY: &str = ".imggen-tmp-";

const ORG: &str = "extends = \"team\"\n\
                   [python]\nrequirements = \"files/requirements.txt\"\n\
                   [corporate]\nca_certificates = [\"files/ca.pem\"]\n";
const TEAM: &str = "extends = \"debian-prebuilt\"\n[python]\nworkdir = \"/app\"\n";
const CA: &str = include_str!("../profiles/certs/example-corporate-ca.crt");
const EXPIRED_CA: &str = include_str!("certs/expired-ca.crt");
const PACK: &str = "extends = \"builtin:python-runtime\"\n";
const TEMPLATE: &str =
    "FROM {{ images.python.ref }}\nWORKDIR {{ profile.python.workdir }}\n# the org's own\n";
const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn lockfile(digest: &str) -> String {
    format!(
        "[base.\"python:3.11-slim-bookworm\"]\ndigest = \"{digest}\"\nlocked = \"2026-11-27\"\n"
    )
}

/// A project whose render reads every kind of input: a profile in `./profiles/` extending
/// another that extends a built-in, the files it names, a pack folder the project file lists,
/// and a lockfile; rendered into `out/` without memory (so `check` is the one to remember).
fn project() -> Output {
    files()
        .env("IMGGEN_CACHE_DIR", "")
        .args(["render", "-p", "org", "--out", "out"])
        .run()
}

/// The project's files, not rendered yet.
fn files() -> Test {
    Test::new()
        .file("profiles/org.toml", ORG)
        .file("profiles/team.toml", TEAM)
        .file("profiles/files/requirements.txt", "requests==2.32.3\n")
        .file("profiles/files/ca.pem", CA)
        .file("packs/python-runtime/pack.toml", PACK)
        .file("packs/python-runtime/Dockerfile.tera", TEMPLATE)
        .file("imggen.toml", "pack_dirs = [\"packs\"]\n")
        .file("imggen.lock", lockfile(A))
}

/// `check --out out` as JSON, with imggen's memory (`memory`) or without; `status` expected.
fn check(output: Output, memory: bool, status: i32) -> (Output, serde_json::Value) {
    let mut test = output
        .then()
        .args(["check", "--out", "out", "--format", "json"]);
    if !memory {
        test = test.env("IMGGEN_CACHE_DIR", "");
    }
    let output = test.status(status).run();
    let json = serde_json::from_str(&output.stdout).expect("JSON");
    (output, json)
}

/// Whether `check` found the folder current without rendering it.
fn fresh(json: &serde_json::Value) -> bool {
    json["folders"][0]["fresh"] == true
}

/// The project, checked twice: remembered by the first check, found current from memory by the
/// second.
fn remembered() -> Output {
    let (output, first) = check(project(), true, 0);
    assert!(!fresh(&first), "nothing remembered yet: {first}");
    let (output, second) = check(output, true, 0);
    assert!(fresh(&second), "remembered: {second}");
    output
}

/// After `change` to a remembered project, `check` answers with memory exactly as without
/// (freshness aside), with `status`, and did not take the answer from memory.
fn seen_as_without_memory(change: impl FnOnce(&std::path::Path), status: i32) {
    let output = remembered();
    change(&output.dir);
    let (output, with) = check(output, true, status);
    let (_, without) = check(output, false, status);
    assert!(!fresh(&with), "{with}");
    let plain = |mut json: serde_json::Value| {
        json["folders"][0]
            .as_object_mut()
            .expect("a folder")
            .remove("fresh");
        json
    };
    assert_eq!(plain(with), plain(without));
}

fn write(dir: &std::path::Path, path: &str, contents: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, contents).expect("write");
}

fn edit(dir: &std::path::Path, path: &str, from: &str, to: &str) {
    let text = std::fs::read_to_string(dir.join(path)).expect("read");
    assert!(text.contains(from), "{path} holds {from:?}");
    write(dir, path, &text.replacen(from, to, 1));
}

#[test]
fn a_current_folder_is_found_current_from_memory_and_said_the_same_way() {
    let output = remembered();
    let before = output.tree("");
    // Said as a check that renders says it; the project is not written to.
    let output = output
        .then()
        .args(["check", "--out", "out"])
        .stdout("out: up to date (11 files)\n")
        .run();
    assert_eq!(output.tree(""), before);
    // The memory is only ever consulted, never needed: without it the answer is the same.
    let (_, without) = check(output, false, 0);
    assert!(!fresh(&without));
}

#[test]
fn an_edit_to_the_profile_is_seen() {
    seen_as_without_memory(
        |dir| {
            edit(
                dir,
                "profiles/org.toml",
                "[python]\n",
                "[python]\nworkdir = \"/srv\"\n",
            )
        },
        1,
    );
}

#[test]
fn an_edit_to_a_profile_it_extends_is_seen() {
    seen_as_without_memory(|dir| edit(dir, "profiles/team.toml", "/app", "/opt"), 1);
}

#[test]
fn a_new_profile_file_taking_the_place_of_a_built_in_it_extends_is_seen() {
    seen_as_without_memory(
        |dir| {
            let shadow = "extends = \"debian-prebuilt\"\n[python]\nworkdir = \"/srv\"\n";
            write(dir, "profiles/debian-prebuilt.toml", shadow);
        },
        1,
    );
}

#[test]
fn an_edit_to_a_file_the_profile_names_is_seen() {
    seen_as_without_memory(
        |dir| write(dir, "profiles/files/requirements.txt", "requests==2.32.4\n"),
        1,
    );
}

#[test]
fn a_certificate_replaced_is_seen_and_its_warning_given_from_memory_too() {
    seen_as_without_memory(|dir| write(dir, "profiles/files/ca.pem", EXPIRED_CA), 1);
    // Rendered with the expired certificate and remembered: the warning depends on the day,
    // so it is given each time, from memory as well.
    let output = project()
        .then()
        .file("profiles/files/ca.pem", EXPIRED_CA)
        .args(["render", "-p", "org", "--out", "out"])
        .run();
    let (output, _) = check(output, true, 0);
    let (output, json) = check(output, true, 0);
    assert!(fresh(&json));
    output
        .then()
        .args(["check", "--out", "out"])
        .stderr_contains("expired")
        .run();
}

#[test]
fn an_edit_to_a_template_of_its_pack_is_seen() {
    seen_as_without_memory(
        |dir| {
            edit(
                dir,
                "packs/python-runtime/Dockerfile.tera",
                "own",
                "very own",
            )
        },
        1,
    );
}

#[test]
fn a_pack_folder_added_beside_its_pack_is_seen() {
    seen_as_without_memory(
        |dir| {
            write(
                dir,
                "packs/postgres/pack.toml",
                "extends = \"builtin:postgres\"\n",
            );
            write(
                dir,
                "packs/postgres/Dockerfile.tera",
                "FROM {{ images.postgres.ref }}\n",
            );
        },
        1,
    );
}

#[test]
fn a_change_to_the_project_file_is_seen() {
    seen_as_without_memory(|dir| write(dir, "imggen.toml", "pack_dirs = []\n"), 1);
}

#[test]
fn a_moved_pin_in_the_lockfile_is_seen() {
    seen_as_without_memory(|dir| write(dir, "imggen.lock", &lockfile(B)), 1);
}

#[test]
fn a_hand_edit_or_a_removed_file_in_the_folder_is_seen() {
    seen_as_without_memory(
        |dir| edit(dir, "out/.env", "IMAGE_MODE=prebuilt", "IMAGE_MODE=layered"),
        1,
    );
    seen_as_without_memory(
        |dir| std::fs::remove_file(dir.join("out/postgres/Dockerfile")).expect("rm"),
        1,
    );
}

#[test]
fn a_file_and_its_manifest_line_edited_together_are_seen() {
    // What a pull request could commit to make a hand edit look like imggen's own.
    seen_as_without_memory(
        |dir| {
            let env = dir.join("out/.env");
            let old = std::fs::read(&env).expect("read");
            let new = [old.as_slice(), b"EXTRA=1\n"].concat();
            std::fs::write(&env, &new).expect("write");
            let (old, new) = (digest(&old), digest(&new));
            edit(dir, "out/.imggen-manifest.toml", &old, &new);
        },
        1,
    );
}

#[test]
fn an_edited_manifest_is_not_trusted_and_the_folder_is_compared() {
    seen_as_without_memory(
        |dir| {
            edit(
                dir,
                "out/.imggen-manifest.toml",
                "\".env\" = \"sha256:",
                "\".env\" = \"sha256:0",
            )
        },
        0,
    );
}

#[test]
fn other_render_bounds_are_other_inputs() {
    let output = remembered();
    let output = output
        .then()
        .env("IMGGEN_RENDER_SECONDS", "7")
        .args(["check", "--out", "out", "--format", "json"])
        .run();
    let json: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    assert!(!fresh(&json), "{json}");
}

#[test]
fn untracked_files_are_looked_for_in_the_render_never_in_memory() {
    let output = remembered()
        .then()
        .file("out/postgres/initdb/00-extra.sh", "echo extra\n")
        .args(["check", "--out", "out", "--untracked", "--format", "json"])
        .status(1)
        .run();
    let json: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    assert!(!fresh(&json));
    assert_eq!(json["folders"][0]["untracked"][0], "postgres/initdb");
}

#[test]
fn every_folder_of_all_is_remembered() {
    let output = Test::new().args(["render", "--all", "--out", "out"]).run();
    let check = |output: Output, out: &str| {
        let output = output
            .then()
            .args(["check", "--all", "--out", out, "--format", "json"])
            .run();
        let json: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
        let folders = json["folders"].as_array().expect("folders").clone();
        assert!(folders.len() >= 5, "{json}");
        (
            output,
            folders
                .iter()
                .map(|f| f["fresh"] == true)
                .collect::<Vec<_>>(),
        )
    };
    let (output, first) = check(output, "out");
    assert!(first.iter().all(|fresh| *fresh), "render remembered each");
    let output = output
        .then()
        .env("IMGGEN_CACHE_DIR", "")
        .args(["render", "--all", "--out", "fresh-out"])
        .run();
    let (output, first) = check(output, "fresh-out");
    assert!(first.iter().all(|fresh| !fresh), "rendered without memory");
    let (_, second) = check(output, "fresh-out");
    assert!(second.iter().all(|fresh| *fresh), "check remembered each");
}

/// `render -p org` into `out` with memory, after `change`: said and written exactly as
/// without memory, and remembered for the next check. Returns what it said.
fn rendered_as_without_memory(change: impl Fn(&std::path::Path)) -> String {
    let render = |memory: bool| {
        let output = files().args(["render", "-p", "org", "--out", "out"]).run();
        change(&output.dir);
        let mut test = output.then().args(["render", "-p", "org", "--out", "out"]);
        if !memory {
            test = test.env("IMGGEN_CACHE_DIR", "");
        }
        let output = test.run();
        let said = output.stdout.clone();
        let tree = output.tree("out");
        let (_, json) = check(output, true, 0);
        (said, tree, fresh(&json))
    };
    let (with, with_tree, remembered) = render(true);
    let (without, without_tree, _) = render(false);
    assert_eq!(with, without);
    assert_eq!(with_tree, without_tree);
    assert!(remembered, "the render is remembered");
    with
}

#[test]
fn a_render_of_remembered_inputs_into_the_folder_holding_it_writes_nothing() {
    let said = rendered_as_without_memory(|_| {});
    assert!(
        said.contains(": 0 created, 0 updated, 11 unchanged, 0 removed"),
        "{said}"
    );
}

#[test]
fn a_render_after_an_input_changed_writes_the_new_render() {
    let said = rendered_as_without_memory(|dir| edit(dir, "profiles/team.toml", "/app", "/opt"));
    assert!(said.contains(" 1 updated,"), "{said}");
}

#[test]
fn a_render_finishes_what_a_killed_write_left_though_the_files_are_remembered() {
    let leftover = format!("out/postgres/.Dockerfile{}999999999-0", TEMPORARY);
    rendered_as_without_memory(|dir| write(dir, &leftover, "half"));
    let output = files()
        .args(["render", "-p", "org", "--out", "out"])
        .run()
        .then()
        .file(&leftover, "half")
        .args(["render", "-p", "org", "--out", "out"])
        .run();
    assert!(!output.dir.join(&leftover).exists(), "swept");
}

#[test]
fn a_hand_edit_is_refused_by_a_render_with_memory_too() {
    for memory in [true, false] {
        let output = files().args(["render", "-p", "org", "--out", "out"]).run();
        let before = output.tree("out");
        let mut test = output
            .then()
            .file("out/.env", "IMAGE_MODE=layered\n")
            .args(["render", "-p", "org", "--out", "out"])
            .status(2)
            .stderr_contains("edited by hand");
        if !memory {
            test = test.env("IMGGEN_CACHE_DIR", "");
        }
        let output = test.run();
        assert_ne!(output.tree("out"), before, "the edit stays");
        assert_eq!(
            std::fs::read_to_string(output.dir.join("out/.env")).expect("read"),
            "IMAGE_MODE=layered\n"
        );
    }
}

#[test]
fn a_dry_run_remembers_nothing() {
    let output = files()
        .args(["render", "-p", "org", "--out", "out", "--dry-run"])
        .run();
    let output = output
        .then()
        .env("IMGGEN_CACHE_DIR", "")
        .args(["render", "-p", "org", "--out", "out"])
        .run();
    let (_, json) = check(output, true, 0);
    assert!(!fresh(&json), "{json}");
}

/// The manifest's digest of `bytes`.
fn digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let hex: String = sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

#[test]
fn another_build_of_imggen_remembers_for_itself() {
    // The same program in another file (an upgrade, a rebuild) is another build: its renders
    // may differ, so what this one remembered does not answer for it.
    let output = remembered();
    let other = output.dir.join("bin/imggen");
    std::fs::create_dir_all(other.parent().expect("a parent")).expect("mkdir");
    std::fs::copy(env!("CARGO_BIN_EXE_imggen"), &other).expect("copy");
    let cache = output.dir.join("cache-of-the-test");
    let run = |program: &std::path::Path| {
        let out = std::process::Command::new(program)
            .args(["check", "--out", "out", "--format", "json"])
            .current_dir(&output.dir)
            .env("IMGGEN_CACHE_DIR", &cache)
            .output()
            .expect("imggen runs");
        assert!(out.status.success(), "{out:?}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        fresh(&json)
    };
    let ours = std::path::Path::new(env!("CARGO_BIN_EXE_imggen"));
    assert!(!run(ours), "the first check remembers");
    assert!(run(ours), "and is remembered");
    assert!(!run(&other), "another build renders");
    assert!(run(&other), "and remembers for itself");
}
