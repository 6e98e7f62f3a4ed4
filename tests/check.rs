//! `check`: exit 0 in sync, 1 with each drifted file named and diffed.

use crate::helper::Test;

/// `imggen check -p debian-prebuilt --out out` again on `output`'s folder (more args follow).
fn checking(output: crate::helper::Output) -> Test {
    output
        .then()
        .args(["check", "-p", "debian-prebuilt", "--out", "out"])
}

fn rendered() -> crate::helper::Output {
    Test::new()
        .args(["render", "-p", "debian-prebuilt", "--out", "out"])
        .run()
}

#[test]
fn in_sync_is_status_0() {
    rendered()
        .then()
        .args(["check", "-p", "debian-prebuilt", "--out", "out"])
        .stdout("out: up to date (7 files)\n")
        .run();
}

#[test]
fn a_template_change_is_named_and_diffed() {
    rendered()
        .then()
        .args([
            "check",
            "-p",
            "debian-prebuilt",
            "--set",
            "python.workdir=/srv",
            "--out",
            "out",
        ])
        .status(1)
        .stdout_contains("changed: out/python-runtime/Dockerfile (differs from render)")
        .stdout_contains("-WORKDIR /app\n+WORKDIR /srv\n")
        .stdout_contains(
            "to bring it up to date: imggen render -p debian-prebuilt --set python.workdir=/srv \
             --out out\n",
        )
        .run();
}

#[test]
fn missing_changed_and_stale_files_are_each_named() {
    let output = Test::new()
        .args(["render", "-p", "corporate-hardened", "--out", "out"])
        .run();
    std::fs::remove_file(output.dir.join("out/kerberos-test/test.py")).expect("remove");
    let env = output.dir.join("out/.env");
    let edited = output
        .read("out/.env")
        .replace("IMAGE_MODE=prebuilt", "IMAGE_MODE=layered");
    std::fs::write(env, edited).expect("edit");
    output
        .then()
        .args(["check", "-p", "debian-prebuilt", "--out", "out"])
        .status(1)
        .stdout_contains("changed: out/.env (hand-edited since last render)")
        .stdout_contains("missing: out/kerberos-test/test.py")
        .stdout_contains("stale:   out/postgres/initdb/zz-imggen-databases.sh")
        .stdout_contains("\n-IMAGE_MODE=layered\n")
        .stdout_contains("\n+IMAGE_MODE=prebuilt\n")
        // render would refuse the hand edit: the hint says what it takes.
        .stdout_contains(
            "to bring it up to date: move the hand edits into the profile or a vendored pack, \
             then run imggen render -p debian-prebuilt --out out --force\n",
        )
        .run()
        .then()
        .args(["render", "-p", "debian-prebuilt", "--out", "out", "--force"])
        .run()
        .then()
        .args(["check", "-p", "debian-prebuilt", "--out", "out"])
        .stdout("out: up to date (7 files)\n")
        .run();
}

#[test]
fn json_format_reports_the_same_drift() {
    let output = rendered();
    std::fs::remove_file(output.dir.join("out/.env")).expect("remove");
    let output = output
        .then()
        .args([
            "check",
            "-p",
            "debian-prebuilt",
            "--out",
            "out",
            "--format",
            "json",
        ])
        .status(1)
        .run();
    let json: serde_json::Value = serde_json::from_str(&output.stdout).expect("valid JSON");
    assert_eq!(json["in_sync"], false);
    assert_eq!(json["folders"][0]["missing"][0], ".env");
    assert_eq!(json["folders"][0]["files"], 7);
}

#[test]
fn diff_shows_what_changes_between_two_profiles() {
    Test::new()
        .args([
            "diff",
            "-p",
            "debian-layered",
            "--against",
            "debian-prebuilt",
        ])
        .status(1)
        .stdout_contains("--- debian-layered/.env\n+++ debian-prebuilt/.env\n")
        .stdout_contains("\n-IMAGE_MODE=layered\n")
        .stdout_contains("\n+IMAGE_MODE=prebuilt\n")
        .run();
    Test::new()
        .args([
            "diff",
            "-p",
            "debian-layered",
            "--against",
            "debian-layered",
        ])
        .stdout("`debian-layered` and `debian-layered` render the same files\n")
        .run();
}

#[test]
fn a_folder_remembers_its_profile_and_check_prints_the_exact_fix() {
    let first = Test::new()
        .file("org.toml", "extends = \"debian-prebuilt\"\n")
        .args([
            "render",
            "-p",
            "org.toml",
            "--set",
            "python.toolchain=false",
            "--out",
            "out",
        ])
        .run();
    // Neither `-p` nor `--set`: what the folder was rendered from.
    let second = first
        .then()
        .args(["check", "--out", "out"])
        .stdout("out: up to date (7 files)\n")
        .run();
    second
        .then()
        .file("org.toml", "extends = \"debian-prebuilt\"\nmode = \"layered\"\n")
        .args(["check", "--out", "out"])
        .status(1)
        .stdout_contains(
            "to bring it up to date: imggen render -p org.toml --set python.toolchain=false --out out\n",
        )
        .run()
        .then()
        .args(["render", "--out", "out"])
        .stdout_contains("rendered `org` into out")
        .run()
        .then()
        .args(["render", "-p", "debian-prebuilt", "--out", "out"])
        .stdout_contains(
            "note: out was rendered by `imggen render -p org.toml --set python.toolchain=false \
             --out out`; switching it to `imggen render -p debian-prebuilt --out out`\n",
        )
        .run();
}

#[test]
fn diff_collapses_files_that_differ_only_in_their_header() {
    let args = [
        "diff",
        "-p",
        "debian-prebuilt",
        "--against",
        "debian-prebuilt",
        "--against-set",
        "python.toolchain=false",
    ];
    let output = Test::new()
        .args(args)
        .status(1)
        .stdout_contains(
            "6 files differ only in their generated header: .env, docker-bake.hcl, \
             docker-compose.override.yml, kerberos-test/Dockerfile, kerberos-test/test.py, \
             postgres/Dockerfile\n",
        )
        .run();
    // One file's hunks, not seven: only the Python Dockerfile changes meaning.
    assert_eq!(
        output.stdout.matches("+++ ").count(),
        1,
        "{}",
        output.stdout
    );
    let json = Test::new()
        .args(args)
        .args(["--format", "json"])
        .status(1)
        .run();
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(json["same"], false);
    assert_eq!(json["changed"][0]["path"], "python-runtime/Dockerfile");
    assert_eq!(json["changed"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["header_only"].as_array().map(Vec::len), Some(6));
}

#[test]
fn show_as_json_gives_each_value_and_its_origin() {
    let output = Test::new()
        .file(
            "org.toml",
            "extends = \"debian-prebuilt\"\n\n[python]\ntoolchain = false\n",
        )
        .args(["show", "-p", "org.toml", "--format", "json"])
        .run();
    let json: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    assert_eq!(json["values"]["python"]["toolchain"], false);
    assert_eq!(json["origins"]["python.toolchain"], "org.toml:4");
    assert_eq!(json["origins"]["mode"], "debian-prebuilt.toml:4");
    assert_eq!(json["origins"]["python.workdir"], "default");
}

#[test]
fn check_as_json_answers_on_stdout_even_when_it_fails() {
    let output = Test::new()
        .args(["check", "-p", "nope", "--format", "json"])
        .status(2)
        .stderr_contains("error: unknown profile `nope`")
        .run();
    let json: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    assert_eq!(json["in_sync"], false);
    assert!(
        json["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("unknown profile `nope`")),
        "{json}"
    );
}

/// The output folder comes with a pull request, and `check` shows a changed file's contents in
/// its diff: a link committed in place of a generated file (or of a folder, or the manifest)
/// would print whatever it points at into a CI log. `check` refuses to read through it.
#[test]
fn a_link_in_the_output_folder_is_refused_never_read() {
    for link in [
        "out/python-runtime/Dockerfile",
        "out/python-runtime",
        "out/.imggen-manifest.toml",
    ] {
        let output = rendered();
        let secret = output.dir.join("secret");
        std::fs::create_dir(&secret).expect("folder");
        std::fs::write(secret.join("Dockerfile"), "SECRET-TOKEN-123\n").expect("write");
        let target = output.dir.join(link);
        crate::helper::replace_with_link(&target, &secret);
        output
            .then()
            .args(["check", "-p", "debian-prebuilt", "--out", "out"])
            .status(2)
            .stdout("")
            .stderr(&format!(
                "error: `{link}` is a symbolic link inside the output folder; imggen never reads \
                 or writes through a link there (it could reach outside the folder): remove the \
                 link, or render into another --out\n"
            ))
            .run();
    }
}

/// `check` compares what the profile renders; `--untracked` also lists what the build contexts
/// hold beside it (an engine is sent the whole folder), which rendering again does not remove.
#[test]
fn untracked_lists_what_a_build_context_holds_beyond_the_render() {
    let output = crate::helper::rendered_with_extra_script();
    let check = ["check", "-p", "corporate-hardened", "--out", "out"];
    let output = output
        .then()
        .args(check)
        .stdout("out: up to date (27 files)\n")
        .run();
    let output = output
        .then()
        .args(check)
        .args(["--untracked"])
        .status(1)
        .stdout(
            "untracked: out/postgres/initdb/00-extra.sh (in a build context, not rendered: the \
             engine is sent it)\nto remove what is untracked: delete it by hand (imggen never \
             removes what it did not write)\n",
        )
        .run();
    let json = output
        .then()
        .args(check)
        .args(["--untracked", "--format", "json"])
        .status(1)
        .run();
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(json["in_sync"], false);
    let folder = &json["folders"][0];
    assert_eq!(folder["untracked"][0], "postgres/initdb/00-extra.sh");
    assert_eq!(folder["untracked"].as_array().map(Vec::len), Some(1));
    assert_eq!(folder["changed"].as_array().map(Vec::len), Some(0));
}

/// What `check` prints of a pull request's files reaches a terminal or a CI log: escape
/// sequences in a committed file or file name come out written as escapes.
#[test]
fn escape_sequences_from_a_pull_request_never_reach_the_terminal() {
    let output = rendered();
    let env = output.dir.join("out/.env");
    let mut text = std::fs::read_to_string(&env).expect("rendered");
    text.push_str("X=\u{1b}]0;title\u{7}\u{1b}[2K\r\n");
    std::fs::write(&env, text).expect("edit");
    std::fs::write(output.dir.join("out/postgres/\u{1b}[8mhidden.sh"), "echo\n")
        .expect("a file with an escape in its name");
    let output = checking(output)
        .args(["--untracked"])
        .status(1)
        .stdout_contains("\n-X=\\u{1b}]0;title\\u{7}\\u{1b}[2K\r\n")
        .stdout_contains("untracked: out/postgres/\\u{1b}[8mhidden.sh (")
        .run();
    assert!(
        !output.stdout.contains('\u{1b}') && !output.stdout.contains('\u{7}'),
        "{:?}",
        output.stdout
    );
}

/// The manifest comes with the folder in a pull request: a remembered profile path that leads
/// outside the project is not read (it could be any TOML file on the machine).
#[test]
fn a_remembered_profile_outside_the_project_is_not_read() {
    let outside = tempfile::tempdir().expect("temp dir");
    let secret = outside.path().join("secret.toml");
    std::fs::write(&secret, "description = \"s3cret-token\"\n").expect("write");
    let output = rendered();
    let manifest = output.dir.join("out/.imggen-manifest.toml");
    let text = std::fs::read_to_string(&manifest).expect("rendered");
    let edited = text.replace(
        "profiles = [\"debian-prebuilt\"]",
        &format!("profiles = [\"{}\"]", secret.display()),
    );
    assert_ne!(edited, text, "the manifest names its profile");
    std::fs::write(&manifest, edited).expect("edit");
    output
        .then()
        .args(["check", "--out", "out"])
        .status(2)
        .stdout("")
        .stderr(&format!(
            "error: `out/.imggen-manifest.toml` says its folder was rendered from `{}`, which is \
             outside this project (the manifest comes with the folder, so it could name any file \
             on the machine); name the profile with -p\n",
            secret.display()
        ))
        .run();
}
