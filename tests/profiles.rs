//! Stacking, `extends`, `--set`, shadowing built-ins, and `show`'s provenance.

use crate::helper::Test;

#[test]
fn show_names_where_each_value_came_from() {
    Test::new()
        .file(
            "profiles/org.toml",
            "extends = \"debian-prebuilt\"\n\n[python]\ndata_science = true\n",
        )
        .args(["show", "-p", "org", "--set", "python.airflow=true"])
        .stdout_contains("mode = \"prebuilt\" # debian-prebuilt.toml:4\n")
        .stdout_contains("data_science = true # profiles/org.toml:4\n")
        .stdout_contains("airflow = true # --set\n")
        .stdout_contains("development = false # default\n")
        .run();
}

#[test]
fn a_local_profile_shadows_the_builtin_of_the_same_name() {
    let output = Test::new()
        .file(
            "profiles/debian-prebuilt.toml",
            "extends = \"debian-prebuilt\"\n[python]\ntag = \"myorg/python:3.11-custom\"\n",
        )
        .args(["render", "-p", "debian-prebuilt", "--out", "out"])
        .run();
    assert!(
        output
            .read("out/.env")
            .contains("IMAGE_PYTHON=myorg/python:3.11-custom\n")
    );
}

#[test]
fn later_profiles_and_sets_win() {
    let output = Test::new()
        .file("a.toml", "[python]\ntag = \"org/a:1\"\nworkdir = \"/a\"\n")
        .file("b.toml", "[python]\ntag = \"org/b:1\"\n")
        .args([
            "render",
            "-p",
            "a.toml",
            "-p",
            "b.toml",
            "--set",
            "python.workdir=/c",
            "--out",
            "out",
        ])
        .run();
    assert!(output.read("out/.env").contains("IMAGE_PYTHON=org/b:1\n"));
    assert!(
        output
            .read("out/python-runtime/Dockerfile")
            .contains("WORKDIR /c\n")
    );
}

#[test]
fn relative_paths_resolve_against_the_profile_file() {
    let cert = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/profiles/certs/example-corporate-ca.crt"
    ))
    .expect("example cert");
    let output = Test::new()
        .file(
            "org/profile.toml",
            "[corporate]\nca_certificates = [\"certs/root.pem\"]\n",
        )
        .file("org/certs/root.pem", &cert)
        .args(["render", "-p", "org/profile.toml", "--out", "out"])
        .run();
    assert_eq!(output.read("out/python-runtime/certs/root.crt"), cert);
    assert!(
        output
            .read("out/python-runtime/Dockerfile")
            .contains("RUN if ! command -v update-ca-certificates")
    );
}

#[test]
fn list_profiles_lists_a_profile_that_does_not_load_and_then_says_why() {
    Test::new()
        .file("profiles/broken.toml", "mode = \"nope\"\n")
        .file("profiles/good.toml", "description = \"Fine\"\n")
        .args(["list", "profiles"])
        .status(2)
        .stdout_contains(
            "broken              profiles/broken.toml  (does not load; see the error below)\n",
        )
        .stdout_contains("good                profiles/good.toml    Fine\n")
        .stdout_contains("debian-prebuilt     built-in")
        .stderr_contains("error: profiles/broken.toml:1:8: `nope` is not allowed here")
        .run();
}

#[test]
fn list_profiles_includes_local_ones() {
    Test::new()
        .file("profiles/org.toml", "description = \"Our profile\"\n")
        .file(
            "profiles/debian-prebuilt.toml",
            "extends = \"debian-prebuilt\"\ndescription = \"Ours\"\n",
        )
        .args(["list", "profiles"])
        .stdout_contains("alpine-layered      built-in                       Platform defaults")
        .stdout_contains("debian-prebuilt     profiles/debian-prebuilt.toml  Ours\n")
        .stdout_contains("org                 profiles/org.toml              Our profile\n")
        .run();
}

/// A profile's name is its file name in `./profiles/`, which comes with pull requests: one with
/// an escape sequence would name a folder under `render --all` and reach the terminal.
#[test]
fn a_profile_name_with_a_control_character_is_refused_and_listed_escaped() {
    let message = "error: profile `a\\u{1b}[2Jb` holds a control character in its name (the file \
                   `profiles/a\\u{1b}[2Jb.toml`); a profile's name names its folder under `render \
                   --all` and is printed, so rename the file\n";
    let output = Test::new()
        .file(
            "profiles/a\u{1b}[2Jb.toml",
            "extends = \"debian-prebuilt\"\n",
        )
        .args(["render", "--all", "--out", "out"])
        .status(2)
        .stderr(message)
        .run();
    assert!(!output.exists("out"), "nothing written");
    let output = output
        .then()
        .args(["list", "profiles"])
        .status(2)
        .stdout_contains("a\\u{1b}[2Jb         profiles/a\\u{1b}[2Jb.toml  (does not load")
        .stderr(message)
        .run();
    assert!(!output.stdout.contains('\u{1b}'), "{:?}", output.stdout);
}

/// A role's own knobs reach only the image imggen builds: set where the profile builds none,
/// they are named with where they are set, and the render goes on.
#[test]
fn knobs_of_an_image_the_profile_does_not_build_are_named_where_they_are_set() {
    let profile = "extends = \"debian-layered\"\n\n[python]\npip_packages = [\"requests\"]\n\n\
                   [postgres]\nauth_method = \"scram-sha-256\"\n\n[postgres.settings]\n\
                   work_mem = \"64MB\"\n";
    let output = Test::new()
        .file("profiles/org.toml", profile)
        .args(["render", "-p", "org", "--out", "out"])
        .stderr(
            "warning: profiles/org.toml:4: `python.pip_packages` reaches only the Python \
             runtime image imggen builds, and this profile does not build it (no `python.tag`): \
             the platform runs `python:3.11-slim-bookworm` as it is, without it. Name the image \
             to build in `python.tag`, or remove it\n\
             warning: profiles/org.toml:10: `postgres.settings` reaches only the PostgreSQL \
             image imggen builds, and this profile does not build it (no `postgres.tag`): the \
             platform runs `postgres:17.5-bookworm` as it is, without it. Name the image to \
             build in `postgres.tag`, or remove it\n",
        )
        .run();
    // Rendered all the same: the Dockerfiles hold them, for whoever builds them.
    assert!(
        output
            .read("out/postgres/postgresql.conf")
            .contains("work_mem = '64MB'\n")
    );
    // Built under a name (in the section, or under [tags]), nothing is said; nor of the
    // authentication method (`.env` takes it) or of the major version a tag without one needs.
    let built = "extends = \"org\"\n[tags]\npostgres = \"org/postgres:17\"\n\n[python]\n\
                 tag = \"org/python:3\"\n";
    Test::new()
        .file("profiles/org.toml", profile)
        .file("profiles/built.toml", built)
        .args(["render", "-p", "built", "--out", "out"])
        .stderr("")
        .run();
    Test::new()
        .file(
            "profiles/auth.toml",
            "extends = \"debian-layered\"\n[images]\npostgres = \"postgres:latest\"\n\
             [postgres]\nauth_method = \"scram-sha-256\"\nmajor = 17\n",
        )
        .args(["render", "-p", "auth", "--out", "out"])
        .stderr("")
        .run();
}
