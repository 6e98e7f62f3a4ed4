//! `lint`: imggen's own output lints clean; hand-written Dockerfiles get findings with fixes.

use crate::helper::Test;

#[test]
fn every_builtin_and_knob_profile_lints_clean() {
    let knobs = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/knobs");
    let mut profiles: Vec<String> = [
        "alpine-layered",
        "alpine-prebuilt",
        "debian-layered",
        "debian-prebuilt",
        "corporate-hardened",
    ]
    .map(String::from)
    .to_vec();
    for entry in std::fs::read_dir(knobs).expect("knobs") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            profiles.push(path.display().to_string());
        }
    }
    for profile in &profiles {
        // corporate-hardened also builds the two service images, the Alpine base, the three
        // test containers, MockServer and the Astronomer runtime (so does the knob built on it).
        let dockerfiles =
            if profile == "corporate-hardened" || profile.ends_with("/cache-mounts.toml") {
                11
            } else {
                3
            };
        Test::new()
            .args(["lint", "-p", profile])
            .stdout(&format!("{dockerfiles} Dockerfiles, no findings\n"))
            .run();
    }
}

#[test]
fn a_hand_written_postgres_dockerfile_gets_findings_with_fixes() {
    Test::new()
        .file("postgres/Dockerfile", "FROM postgres\nENV POSTGRES_PASSWORD=secret\nENTRYPOINT [\"postgres\"]\n")
        .args(["lint", "postgres/Dockerfile"])
        .status(1)
        .stdout(
            "postgres/Dockerfile:1: R006 unpinned-base: `postgres` has no tag (it means :latest)\n  \
             fix: name a version tag (python:3.11-slim-bookworm), or pin a digest (@sha256:...)\n\
             postgres/Dockerfile:2: R005 secret-in-image: ENV `POSTGRES_PASSWORD` has a literal value\n  \
             fix: pass secrets at run time (docker run -e, compose environment, build secrets), never as ENV/ARG values\n\
             postgres/Dockerfile:3: R004 postgres-entrypoint-replaced: ENTRYPOINT `postgres` replaces \
             docker-entrypoint.sh\n  \
             fix: keep the upstream ENTRYPOINT (docker-entrypoint.sh); change CMD or add init scripts instead\n\
             3 findings in 1 Dockerfile (`imggen lint --explain RULE` says why)\n",
        )
        .run();
}

/// The PostgreSQL Dockerfile imggen rendered before it copied its init script by name: a
/// script committed beside it in the build context would have run at the database's start.
#[test]
fn copying_a_folder_from_the_build_context_is_a_finding() {
    Test::new()
        .file(
            "postgres/Dockerfile",
            "FROM postgres:16\nCOPY initdb/ /docker-entrypoint-initdb.d/\n",
        )
        .args(["lint", "postgres/Dockerfile"])
        .status(1)
        .stdout(
            "postgres/Dockerfile:2: R010 copies-a-folder: COPY copies the folder `initdb/`\n  \
             fix: copy each file by name (COPY initdb/zz-imggen-databases.sh \
             /docker-entrypoint-initdb.d/zz-imggen-databases.sh)\n\
             1 finding in 1 Dockerfile (`imggen lint --explain RULE` says why)\n",
        )
        .run();
}

#[test]
fn role_and_mode_flags_apply_the_kerberos_rule() {
    Test::new()
        .file(
            "Dockerfile",
            "FROM python:3.11-slim-bookworm\nCMD [\"python\", \"/app/test.py\"]\n",
        )
        .args([
            "lint",
            "Dockerfile",
            "--role",
            "kerberos-test",
            "--mode",
            "prebuilt",
            "--format",
            "json",
        ])
        .status(1)
        .stdout_contains("\"rule\": \"R003\"")
        .stdout_contains("krb5-user libkrb5-3 libk5crypto3")
        .run();
}

#[test]
fn explain_names_why_and_fix_and_refuses_unknown_rules() {
    Test::new()
        .args(["lint", "--explain", "R004"])
        .stdout_contains("R004 postgres-entrypoint-replaced\n  why: without docker-entrypoint.sh")
        .run();
    Test::new()
        .args(["lint", "--explain", "R999"])
        .status(2)
        .stderr(
            "error: unknown lint rule `R999` (rules: `R001`, `R002`, `R003`, `R004`, `R005`, \
             `R006`, `R007`, `R008`, `R009`, `R010`)\n",
        )
        .run();
}

#[test]
fn a_kerberos_image_name_the_platform_misreads_is_a_finding_of_the_profile() {
    Test::new()
        .args([
            "lint",
            "-p",
            "alpine-layered",
            "--set",
            "kerberos.tag=myorg/kerberos-test:3.11-custom",
        ])
        .status(1)
        .stdout(
            "kerberos-test/Dockerfile:6: R009 platform-picks-wrong-installer: the platform runs this \
             image as `myorg/kerberos-test:3.11-custom` and picks apt from that name, but the image \
             needs apk\n  fix: name the image after its distro (with `alpine` in an Alpine image's \
             name, `debian` in a Debian one's), or use prebuilt mode\n1 finding in 3 Dockerfiles \
             (`imggen lint --explain RULE` says why)\n",
        )
        .run();
}

/// A Dockerfile from a pull request quotes itself in the findings: its control characters come
/// out escaped, never sent to the terminal.
#[test]
fn text_quoted_from_a_dockerfile_is_printed_escaped() {
    Test::new()
        .file("Dockerfile", "FROM py\u{1b}[2Jthon:latest\n")
        .args(["lint", "Dockerfile", "--role", "python-runtime"])
        .status(1)
        .stdout_contains(
            "Dockerfile:1: R006 unpinned-base: `py\\u{1b}[2Jthon:latest` uses :latest\n",
        )
        .run();
}

/// The case: a Dockerfile outside a role's folder, linted without `--role`. Its role is
/// read from its FROM image (R004 is found), and a note says so.
#[test]
fn without_role_the_role_is_read_from_the_from_image_and_said() {
    Test::new()
        .file(
            "path/to/Dockerfile",
            "FROM postgres:17.5-bookworm\nENTRYPOINT [\"postgres\"]\n",
        )
        .args(["lint", "path/to/Dockerfile"])
        .status(1)
        .stdout_contains("path/to/Dockerfile:2: R004 postgres-entrypoint-replaced")
        .stderr(
            "note: path/to/Dockerfile: linted as the `postgres` image (from its FROM image \
             `postgres:17.5-bookworm`); `--role ROLE` says otherwise\n",
        )
        .run();
}

/// A base several roles start from (`python` serves the runtime and the Kerberos test): no
/// role is guessed, and the note names the rules that went unchecked and how to include them.
#[test]
fn without_role_and_none_to_read_the_skipped_rules_are_named() {
    let output = Test::new()
        .file(
            "Dockerfile",
            "FROM python:3.11-slim-bookworm\nCMD [\"python\", \"/app/test.py\"]\n",
        )
        .args(["lint", "Dockerfile", "--mode", "prebuilt"])
        .stdout("1 Dockerfile, no findings\n")
        .stderr_contains(
            "note: Dockerfile: its role is known neither from its folder nor from its FROM \
             image, so R003, R004, R009 (what a role needs) went unchecked; name it with `--role \
             ROLE` (one of python-runtime, kerberos-test, postgres,",
        )
        .run();
    // The same file with the role named: R003 is checked and found.
    output
        .then()
        .args([
            "lint",
            "Dockerfile",
            "--mode",
            "prebuilt",
            "--role",
            "kerberos-test",
        ])
        .status(1)
        .stdout_contains("R003 kerberos-tools-missing")
        .stderr("")
        .run();
}
