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
        // A new file's diff is against nothing, numbered as GNU diff and patch number it.
        .stdout_contains("--- /dev/null\n+++ profiles/org.toml\n@@ -0,0 +1,6 @@\n")
        .stdout_contains("wrote profiles/org.toml\n")
        .stdout_contains("rendered `org` into generated:")
        .run();
    assert_eq!(
        output.read("profiles/org.toml"),
        "extends = \"debian-prebuilt\"\ndescription = \"debian-prebuilt, customized with `imggen \
         init`\"\n\n# Corporate network: trusted CAs, private registry and pip \
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
    assert_the_platform_runs_the_custom_images(&output.dir);
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

/// The README's next commands name the profile `-p custom`: the folder init rendered remembers
/// it so, and a render by that name is the same render (no note of a switch).
#[test]
fn the_folder_init_renders_remembers_the_profile_by_its_name() {
    let output = Test::new()
        .args(["init", "--from", "debian-prebuilt", "--yes"])
        .stdout_contains("wrote profiles/custom.toml\n")
        .run();
    let manifest = output.read("generated/.imggen-manifest.toml");
    assert!(
        manifest.contains("\nprofiles = [\"custom\"]\n"),
        "{manifest}"
    );
    let again = output
        .then()
        .args(["render", "-p", "custom"])
        .stdout("rendered `custom` into generated: 0 created, 0 updated, 7 unchanged, 0 removed\n")
        .stderr("")
        .run();
    again.then().args(["check"]).stderr("").run();
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
        .stdout_contains("render it with: imggen render --profile org\n")
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

/// The same answers as `yes_takes_every_default_…`, typed into the interactive wizard through a
/// pseudo-terminal: arrow keys in menus, text and Enter in inputs, y/n in confirmations.
#[cfg(unix)]
#[test]
fn the_interactive_wizard_in_a_terminal_gives_the_same_profile() {
    let test = Test::new();
    let dir = test.dir();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_imggen"));
    command
        .arg("init")
        .current_dir(&dir)
        .env("IMGGEN_CACHE_DIR", test.cache())
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    let mut session = rexpect::session::spawn_command(command, Some(20_000)).expect("spawns");
    let down = "\x1b[B";
    let step = |session: &mut rexpect::session::PtySession, prompt: &str, keys: &str| {
        session
            .exp_string(prompt)
            .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
        session.send(keys).expect("types");
        session.flush().expect("flushes");
    };
    step(&mut session, "Profile file to write", "\r");
    // alpine-layered, alpine-prebuilt, corporate-hardened, debian-layered, debian-prebuilt
    step(
        &mut session,
        "Start from which built-in profile?",
        &format!("{down}{down}{down}{down}\r"),
    );
    step(
        &mut session,
        "Are you using custom or corporate images?",
        // y/N prompts end with Enter: were the Enter taken as the next answer, the image
        // typed below would answer the base-image question and the profile would differ.
        "y\r",
    );
    // debian-prebuilt builds the Python and Kerberos images: only their names are asked.
    step(
        &mut session,
        "Python runtime: name to build it as (IMAGE_PYTHON points at it)",
        "myorg/python:3.11-custom\r",
    );
    step(
        &mut session,
        "Python runtime: base image it is built from",
        "\r",
    );
    step(&mut session, "Kerberos test: name to build it as", "\r");
    step(
        &mut session,
        "Kerberos test: base image it is built from",
        "\r",
    );
    // It runs PostgreSQL's image as is; the menu offers building it (up from "as is").
    step(
        &mut session,
        "PostgreSQL (IMAGE_POSTGRES): build it with imggen, or run an image as is?",
        "\x1b[A\r",
    );
    step(
        &mut session,
        "PostgreSQL: name to build it as (IMAGE_POSTGRES points at it) [platform/postgres:17.5-bookworm]",
        "myorg/postgres:17.5-hardened\r",
    );
    step(
        &mut session,
        "PostgreSQL: base image it is built from",
        "\r",
    );
    step(
        &mut session,
        "OpenMetadata server: image the platform runs",
        "\r",
    );
    step(&mut session, "OpenSearch: image the platform runs", "\r");
    step(&mut session, "Alpine base: image the platform runs", "\r");
    for title in [
        "PostgreSQL test container",
        "SQL Server test container",
        "Pagila test container",
        "MockServer",
        "Astronomer runtime",
    ] {
        step(
            &mut session,
            &format!("{title}: image the platform runs"),
            "\r",
        );
    }
    step(&mut session, "Layered or prebuilt mode?", "\r");
    step(&mut session, "Behind a corporate network", "n\r");
    step(&mut session, "for local development only?", "n\r");
    step(&mut session, "Write profiles/custom.toml?", "y\r");
    step(&mut session, "Render it into generated/ now?", "\r");
    session
        .exp_string("rendered `custom` into generated")
        .expect("renders");
    session.exp_eof().expect("exits");
    assert_the_platform_runs_the_custom_images(&dir);
    let profile = std::fs::read_to_string(dir.join("profiles/custom.toml")).expect("profile");
    assert_eq!(
        profile,
        "extends = \"debian-prebuilt\"\ndescription = \"debian-prebuilt, customized with `imggen \
         init`\"\n\n[python]\ntag = \"myorg/python:3.11-custom\"\n\n\
         # PostgreSQL settings.\n[postgres]\ntag = \"myorg/postgres:17.5-hardened\"\n"
    );
}

/// Ctrl-C at a menu: nothing written, and the terminal's cursor is shown again.
#[cfg(unix)]
#[test]
fn ctrl_c_in_the_wizard_restores_the_cursor_and_writes_nothing() {
    let test = Test::new();
    let dir = test.dir();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_imggen"));
    command
        .arg("init")
        .current_dir(&dir)
        .env("IMGGEN_CACHE_DIR", test.cache())
        .env("TERM", "xterm");
    let mut session = rexpect::session::spawn_command(command, Some(20_000)).expect("spawns");
    session.exp_string("Profile file to write").expect("asks");
    session.send("\r").expect("types");
    session.flush().expect("flushes");
    session
        .exp_string("Start from which built-in profile?")
        .expect("asks");
    session.send_control('c').expect("Ctrl-C");
    let (after, _) = session.exp_eof().map(|s| (s, ())).expect("exits");
    assert!(after.contains("\x1b[?25h"), "cursor shown again: {after:?}");
    assert!(after.contains("; nothing was written"), "{after:?}");
    assert!(!dir.join("profiles").exists(), "nothing written");
}

/// The `.env` the issue's example asks for: the platform runs the two custom images.
fn assert_the_platform_runs_the_custom_images(dir: &std::path::Path) {
    let env = std::fs::read_to_string(dir.join("generated/.env")).expect(".env");
    for line in [
        "IMAGE_PYTHON=myorg/python:3.11-custom",
        "IMAGE_POSTGRES=myorg/postgres:17.5-hardened",
    ] {
        assert!(env.contains(&format!("\n{line}\n")), "{line} in {env}");
    }
}

#[test]
fn a_new_profile_named_after_a_built_in_says_it_takes_its_place() {
    let output = Test::new()
        .args([
            "init",
            "--from",
            "debian-layered",
            "--no-custom-images",
            "--no-corporate",
            "--no-development",
            "-p",
            "debian-prebuilt",
            "--yes",
            "--no-render",
        ])
        .stderr(
            "note: profiles/debian-prebuilt.toml is new and takes the place of the built-in \
             `debian-prebuilt` for `--profile debian-prebuilt` (the built-in is still `--profile \
             builtin:debian-prebuilt`)\n",
        )
        .run();
    // The name is the file's now; the built-in is still there by its prefix.
    let output = output
        .then()
        .args(["show", "-p", "debian-prebuilt"])
        .stdout_contains("mode = \"layered\" # alpine-layered.toml:3\n")
        .run();
    output
        .then()
        .args(["show", "-p", "builtin:debian-prebuilt"])
        .stdout_contains("mode = \"prebuilt\" # debian-prebuilt.toml:4\n")
        .run();
}

/// The issue's case: `--from` on an existing profile changes what it extends (the diff shows
/// it), keeps the file's own values, and adds nothing the new parent does not need.
#[test]
fn from_on_an_existing_profile_changes_what_it_extends_and_keeps_the_rest() {
    for profile_flag in [None, Some("custom")] {
        let test = Test::new().file("profiles/custom.toml", COMMENTED);
        let from = ["init", "--from", "alpine-prebuilt", "--yes", "--no-render"];
        let output = match profile_flag {
            None => test.args(from),
            Some(name) => test.args(from).args(["-p", name]),
        }
        .stdout_contains("-extends = \"debian-prebuilt\"\n+extends = \"alpine-prebuilt\"\n")
        .stdout_contains("wrote profiles/custom.toml\n")
        .run();
        assert_eq!(
            output.read("profiles/custom.toml"),
            COMMENTED.replace("debian-prebuilt", "alpine-prebuilt"),
            "with {profile_flag:?}: only `extends` changed, comments kept, no distro added"
        );
        output
            .then()
            .args(["show", "-p", "custom"])
            .stdout_contains("distro = \"alpine\"")
            .stdout_contains("registry = \"registry-fra.corp.example/hub\"")
            .run();
    }
}

/// Without `--yes` and without a terminal, changing the parent waits for a confirmation.
#[test]
fn from_on_an_existing_profile_needs_a_confirmation_and_writes_nothing_without_one() {
    let output = Test::new()
        .file("profiles/custom.toml", COMMENTED)
        .args([
            "init",
            "--from",
            "alpine-prebuilt",
            "--no-custom-images",
            "--no-corporate",
            "--no-development",
            "--no-render",
            "-p",
            "custom",
        ])
        .status(2)
        .stderr_contains("  --yes")
        .stderr_contains("Write profiles/custom.toml?")
        .run();
    assert_eq!(output.read("profiles/custom.toml"), COMMENTED);
}

/// A CA given while PostgreSQL is run as is: the wizard says the CA does not reach it, and
/// how to build it; building it (a name for it) makes the note go.
#[test]
fn a_corporate_ca_for_an_image_that_is_not_built_is_explained() {
    let cert = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("profiles/certs/example-corporate-ca.crt"),
    )
    .expect("a test CA");
    let init = [
        "init",
        "--from",
        "debian-prebuilt",
        "--corporate",
        "--ca-cert",
        "corp.crt",
        "--no-development",
        "--yes",
        "--no-render",
        "-p",
        "org",
    ];
    let output = Test::new()
        .file("corp.crt", &cert)
        .args(init)
        .args(["--no-custom-images"])
        .stderr(
            "note: postgres is rendered with the profile's corporate CA but not built (no name \
             to build it as): the platform runs the upstream image as is, without those \
             settings; to build one, name it: `imggen set postgres.tag=NAME`, or run `imggen \
             init` again and choose \"build\"\n",
        )
        .run();
    std::fs::remove_file(output.dir.join("profiles/org.toml")).expect("remove");
    output
        .then()
        .args(init)
        .args(["--image", "postgres=myorg/postgres:17.5-corp"])
        .stderr("")
        .run();
}
