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
fn a_missing_answer_without_a_terminal_names_the_flag_and_writes_nothing() {
    let output = Test::new()
        .args(["init", "--from", "debian-prebuilt", "-p", "org.toml"])
        .status(2)
        .stderr(
            "error: `imggen init` needs an answer to \"Are you using custom or corporate images?\": \
             pass `--no-custom-images` (no terminal to ask in)\n",
        )
        .run();
    assert!(!output.exists("org.toml"));
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
            "`images.python` = `Python:3` is not allowed: invalid repository name part `Python`",
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
