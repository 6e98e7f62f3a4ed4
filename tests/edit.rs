//! `set` and `unset`: one value changes in a hand-written profile; everything else survives.

use crate::helper::Test;

const PROFILE: &str = "\
# Platform team profile: reviewed in PRs.
extends = \"debian-prebuilt\"   # the base we track

[python]
# Bumped by the bot.
tag = \"myorg/python:3.11-1\"  # keep in sync with CI
toolchain = true
";

#[test]
fn set_bumps_a_tag_and_keeps_every_comment() {
    let output = Test::new()
        .file("profiles/org.toml", PROFILE)
        .args([
            "set",
            "python.tag=myorg/python:3.11-2",
            "--profile",
            "profiles/org.toml",
        ])
        .stdout_contains("-tag = \"myorg/python:3.11-1\"  # keep in sync with CI\n")
        .stdout_contains("+tag = \"myorg/python:3.11-2\"  # keep in sync with CI\n")
        .run();
    assert_eq!(
        output.read("profiles/org.toml"),
        PROFILE.replace("3.11-1", "3.11-2")
    );
}

#[test]
fn set_then_unset_a_new_table_leaves_the_file_as_it_was() {
    let output = Test::new()
        .file("org.toml", PROFILE)
        .args([
            "set",
            "hardening.non_root=true",
            "labels.\"org.opencontainers.image.vendor\"=Org",
            "-p",
            "org.toml",
        ])
        .run();
    let text = output.read("org.toml");
    assert!(text.starts_with(PROFILE), "{text}");
    assert!(text.contains("[hardening]\nnon_root = true\n"), "{text}");
    assert!(
        text.contains("\"org.opencontainers.image.vendor\" = \"Org\""),
        "{text}"
    );
    let output = output
        .then()
        .args([
            "unset",
            "hardening.non_root",
            "labels.\"org.opencontainers.image.vendor\"",
            "-p",
            "org.toml",
        ])
        .run();
    assert_eq!(output.read("org.toml"), PROFILE);
}

#[test]
fn set_on_a_built_in_name_starts_a_file_that_extends_the_built_in() {
    let output = Test::new()
        .args([
            "set",
            "python.tag=myorg/python:3.11-2",
            "-p",
            "corporate-hardened",
        ])
        .stderr(
            "note: profiles/corporate-hardened.toml is new and takes the place of the built-in \
             `corporate-hardened` for `--profile corporate-hardened`; it extends that built-in, \
             so only the values set here differ\n",
        )
        .run();
    assert_eq!(
        output.read("profiles/corporate-hardened.toml"),
        "extends = \"corporate-hardened\"\n\n[python]\ntag = \"myorg/python:3.11-2\"\n"
    );
    // The file wins over the built-in, and keeps everything else the built-in sets.
    let output = output
        .then()
        .args(["show", "-p", "corporate-hardened"])
        .stdout_contains("tag = \"myorg/python:3.11-2\" # profiles/corporate-hardened.toml:4")
        .stdout_contains("registry = \"registry.corp.example/mirror\" # corporate-hardened.toml:")
        .run();
    // A second edit of that file, or a name no built-in has: edited as they are, no note.
    output
        .then()
        .args([
            "set",
            "python.tag=myorg/python:3.11-3",
            "-p",
            "corporate-hardened",
        ])
        .stderr("")
        .run();
    let output = Test::new()
        .args(["set", "python.tag=myorg/python:1", "-p", "org"])
        .stderr("")
        .run();
    assert_eq!(
        output.read("profiles/org.toml"),
        "[python]\ntag = \"myorg/python:1\"\n"
    );
}

#[test]
fn an_edit_that_breaks_the_profile_is_refused_and_nothing_is_written() {
    let output = Test::new()
        .file("org.toml", PROFILE)
        .args(["set", "python.tag=My Org/python", "-p", "org.toml"])
        .status(2)
        .stderr(
            "error: org.toml:6: `python.tag` = `My Org/python` is not allowed: invalid repository \
             name part `My Org` (lowercase letters and digits, separated by `.`, `_`, `__` or \
             dashes)\n",
        )
        .run();
    assert_eq!(output.read("org.toml"), PROFILE);
    let output = output
        .then()
        .args(["set", "postgres.auth_method=trust", "-p", "org.toml"])
        .status(2)
        .stderr_contains("org.toml:")
        .stderr_contains("`trust` auth is only for development")
        .run();
    assert_eq!(output.read("org.toml"), PROFILE);
}

#[test]
fn schema_describes_every_section_and_refuses_unknown_keys() {
    let output = Test::new().args(["schema"]).run();
    let schema: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    let properties = schema["properties"].as_object().expect("properties");
    for key in [
        "mode",
        "distro",
        "images",
        "corporate",
        "hardening",
        "python",
        "kerberos",
        "postgres",
        "compose",
    ] {
        assert!(properties.contains_key(key), "{key}");
    }
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(
        schema["$defs"]["Mode"]["enum"],
        serde_json::json!(["layered", "prebuilt"])
    );
}

#[cfg(unix)]
#[test]
fn set_keeps_the_files_permissions_and_refuses_a_link() {
    use std::os::unix::fs::PermissionsExt;
    let test = Test::new().file("shared/org.toml", PROFILE);
    let shared = test.dir().join("shared/org.toml");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    std::fs::create_dir_all(test.dir().join("profiles")).expect("mkdir");
    std::os::unix::fs::symlink("../shared/org.toml", test.dir().join("profiles/org.toml"))
        .expect("link");
    let output = test
        .args(["set", "python.tag=myorg/python:3.11-2", "-p", "org"])
        .status(2)
        .stderr(
            "error: `profiles/org.toml` is a symbolic link, and imggen does not write through \
             one (what it points at may be shared, or outside the project): replace the link \
             with a copy of what it points at, or name the real path; nothing was written\n",
        )
        .run();
    assert_eq!(output.read("shared/org.toml"), PROFILE, "nothing written");
    let output = output
        .then()
        .args([
            "set",
            "python.tag=myorg/python:3.11-2",
            "-p",
            "shared/org.toml",
        ])
        .run();
    assert_eq!(
        output.read("shared/org.toml"),
        PROFILE.replace("3.11-1", "3.11-2")
    );
    let mode = std::fs::metadata(&shared)
        .expect("there")
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o640, "the file's own permissions");
}

#[cfg(unix)]
#[test]
fn set_refuses_a_profiles_folder_that_is_a_link() {
    let test = Test::new().file("shared/org.toml", PROFILE);
    std::os::unix::fs::symlink("shared", test.dir().join("profiles")).expect("link");
    let output = test
        .args(["set", "python.tag=myorg/python:3.11-2", "-p", "org"])
        .status(2)
        .stderr(
            "error: `profiles` is a symbolic link, and imggen does not write through one (what \
             it points at may be shared, or outside the project): replace the link with a copy \
             of what it points at, or name the real path; nothing was written\n",
        )
        .run();
    assert_eq!(output.read("shared/org.toml"), PROFILE, "nothing written");
}
