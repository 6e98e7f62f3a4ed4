//! `init` without a terminal: every answer from flags, a missing one named, re-runs in place.

use crate::helper::Test;

const COMMENTED: &str = "\
# Our platform profile. Reviewed by the platform team.
extends = \"debian-prebuilt\"

[corporate]
# The mirror in the Frankfurt data centre.
registry = \"registry-fra.corp.example/hub\"   # moved in Q3
pip_index_url = \"https://pypi.corp.example/simple\"
";

#[test]
fn a_non_interactive_run_writes_a_minimal_profile_and_renders_it() {
    let output = Test::new()
        .args([
            "init",
            "--from",
            "debian-prebuilt",
            "--mode",
            "prebuilt",
            "--no-custom-images",
            "--registry",
            "registry.corp.example/hub",
            "--no-development",
            "-p",
            "profiles/org.toml",
            "--yes",
            "--render",
        ])
        .stdout_contains("wrote profiles/org.toml\n")
        .stdout_contains("rendered `org` into generated:")
        .run();
    assert_eq!(
        output.read("profiles/org.toml"),
        "extends = \"debian-prebuilt\"\n\n# Corporate network: trusted CAs, private registry and pip \
         index, build proxy.\n[corporate]\nregistry = \"registry.corp.example/hub\"\n"
    );
    assert!(
        output
            .read("generated/.env")
            .contains("IMAGE_POSTGRES=registry.corp.example/hub/library/postgres:17.5-bookworm\n")
    );
}

#[test]
fn without_a_terminal_every_missing_answer_is_listed_at_once_and_nothing_written() {
    let output = Test::new()
        .args(["init", "--from", "debian-prebuilt", "-p", "org.toml"])
        .status(2)
        .stderr(
            "error: `imggen init` has no terminal to ask in; answer with flags, or pass `--yes` to \
             take the default of every question no flag answers:
  --no-custom-images              Are you using custom or corporate images?
  --corporate|--no-corporate      Behind a corporate network (CA, registry, pip index, proxy)?
  --development|--no-development  Is this profile for local development only?
  --render|--no-render            Render it into generated/ now?
  --yes                           Write org.toml?\n",
        )
        .run();
    assert!(!output.exists("org.toml"));
    assert!(!output.exists("generated"));
}

/// The issue's own example: two images the platform runs, every other answer a default.
#[test]
fn yes_takes_every_default_and_images_are_what_the_platform_runs() {
    let output = Test::new()
        .args([
            "init",
            "--from",
            "debian-prebuilt",
            "--image",
            "python=myorg/python:3.11-custom",
            "--image",
            "postgres=myorg/postgres:17.5-hardened",
            "--yes",
        ])
        .stdout_contains("wrote profiles/custom.toml\n")
        .run();
    let env = output.read("generated/.env");
    assert!(
        env.contains("\nIMAGE_PYTHON=myorg/python:3.11-custom\n"),
        "{env}"
    );
    assert!(
        env.contains("\nIMAGE_POSTGRES=myorg/postgres:17.5-hardened\n"),
        "{env}"
    );
    // Built from the profile's bases, under the names the platform runs.
    let python = output.read("generated/python-runtime/Dockerfile");
    assert!(
        python.contains("FROM python:3.11-slim-bookworm"),
        "{python}"
    );
    let profile = output.read("profiles/custom.toml");
    assert!(
        profile.starts_with("extends = \"debian-prebuilt\"\n"),
        "{profile}"
    );
    assert!(
        !profile.contains("mode"),
        "--from implies the mode: {profile}"
    );
}

#[test]
fn base_sets_what_a_built_image_starts_from() {
    let output = Test::new()
        .args([
            "init",
            "--from",
            "debian-prebuilt",
            "--image",
            "python=myorg/python:3.12-custom",
            "--base",
            "python=python:3.12-slim-bookworm",
            "-p",
            "org",
            "--yes",
            "--no-render",
        ])
        .stdout_contains("render it with: imggen render --profile profiles/org.toml\n")
        .run();
    let profile = output.read("profiles/org.toml");
    assert!(
        profile.contains("[images]\npython = \"python:3.12-slim-bookworm\""),
        "{profile}"
    );
    assert!(
        profile.contains("[python]\ntag = \"myorg/python:3.12-custom\""),
        "{profile}"
    );
    output
        .then()
        .args(["render", "-p", "org", "--out", "out"])
        .run();
}

#[test]
fn a_failure_after_writing_says_what_was_written_and_exits_1() {
    // `generated` is a file, so the render after the write cannot create the folder.
    let output = Test::new()
        .file("generated", "not a folder\n")
        .args([
            "init",
            "--from",
            "debian-prebuilt",
            "--no-custom-images",
            "--yes",
        ])
        .status(1)
        .stderr_contains("error: wrote profiles/custom.toml, but then: ")
        .run();
    assert!(output.exists("profiles/custom.toml"));
}

#[test]
fn a_bad_image_flag_is_refused_with_the_reason() {
    Test::new()
        .args([
            "init",
            "--from",
            "debian-prebuilt",
            "--image",
            "python=Python:3",
            "-p",
            "org.toml",
            "--yes",
        ])
        .status(2)
        .stderr_contains(
            "`python.tag` = `Python:3` is not allowed: invalid repository name part `Python`",
        )
        .run();
}

#[test]
fn a_rerun_on_a_hand_commented_profile_changes_only_the_answered_values() {
    let output = Test::new()
        .file("org.toml", COMMENTED)
        .args([
            "init",
            "-p",
            "org.toml",
            "--mode",
            "prebuilt",
            "--no-custom-images",
            "--registry",
            "registry-ams.corp.example/hub",
            "--no-development",
            "--yes",
            "--no-render",
        ])
        .stdout_contains("-registry = \"registry-fra.corp.example/hub\"   # moved in Q3\n")
        .stdout_contains("+registry = \"registry-ams.corp.example/hub\"   # moved in Q3\n")
        .run();
    assert_eq!(
        output.read("org.toml"),
        COMMENTED.replace("registry-fra", "registry-ams")
    );
}
