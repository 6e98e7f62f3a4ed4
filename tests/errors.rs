//! Bad input: exit status 2, one message naming the file (and line), and nothing written.

use crate::helper::Test;

/// Runs `render` on a fixture and asserts the whole stderr and that no output folder appeared.
fn refused(test: Test, args: &[&str], stderr: &str) {
    let mut full = vec!["render"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--out", "out"]);
    let mut test = test.status(2).stderr(stderr);
    for arg in full {
        test = test.args([arg]);
    }
    let output = test.run();
    assert!(!output.exists("out"), "an error must write nothing");
}

#[test]
fn unknown_profile_lists_the_available_ones() {
    refused(
        Test::new(),
        &["--profile", "corporate"],
        "error: unknown profile `corporate` (available: `alpine-layered`, `alpine-prebuilt`, \
         `corporate-hardened`, `debian-layered`, `debian-prebuilt`; or give a path to a `.toml` \
         file)\n",
    );
}

#[test]
fn unknown_key_names_file_line_and_a_suggestion() {
    refused(
        Test::new().file(
            "profiles/org.toml",
            "extends = \"debian-prebuilt\"\n\n[imagez]\npython = \"x\"\n",
        ),
        &["--profile", "org"],
        "error: profiles/org.toml:3:2: unknown key `imagez` (did you mean `images`?)\n",
    );
}

#[test]
fn enum_value_lists_the_allowed_values() {
    refused(
        Test::new().file("org.toml", "mode = \"prebuild\"\n"),
        &["--profile", "./org.toml"],
        "error: org.toml:1:8: `prebuild` is not allowed here (expected `layered` or `prebuilt`)\n",
    );
}

#[test]
fn wrong_type_names_the_line() {
    refused(
        Test::new().file("org.toml", "[hardening]\nnon_root = \"yes\"\n"),
        &["--profile", "org.toml"],
        "error: org.toml:2:12: expected `true` or `false`, found string \"yes\"\n",
    );
}

#[test]
fn toml_syntax_error_names_file_line_and_column() {
    refused(
        Test::new().file("org.toml", "mode = \n"),
        &["-p", "org.toml"],
        "error: org.toml:1:8: string values must be quoted, expected literal string\n",
    );
}

#[test]
fn extends_cycle_shows_the_cycle() {
    refused(
        Test::new()
            .file("profiles/a.toml", "extends = \"b\"\n")
            .file("profiles/b.toml", "extends = \"a\"\n"),
        &["-p", "a"],
        "error: profiles/b.toml:1: `extends` forms a cycle: profiles/a.toml -> profiles/b.toml -> \
         profiles/a.toml; remove this `extends` or point it at a profile outside the circle\n",
    );
}

#[test]
fn a_distro_contradicting_an_inherited_image_blames_the_line_that_set_distro() {
    // Before, the parent's image line was blamed, though the parent is consistent on its own.
    refused(
        Test::new().file(
            "profiles/child.toml",
            "extends = \"debian-layered\"\n# Alpine, please\ndistro = \"alpine\"\n",
        ),
        &["-p", "child"],
        "error: profiles/child.toml:3: `distro` = `alpine` is not allowed: `images.python` = \
         `python:3.11-slim-bookworm` (set at debian-layered.toml:7) names debian, and `distro` \
         picks the package manager its Dockerfile installs with; set `images.python` to an \
         image of this distro too, or `distro = \"debian\"`\n",
    );
}

#[test]
fn a_cycle_is_found_however_its_files_are_named() {
    // Another spelling of the same file: `../profiles/b.toml` from `profiles/`.
    refused(
        Test::new()
            .file("profiles/a.toml", "extends = \"../profiles/b.toml\"\n")
            .file("profiles/b.toml", "extends = \"a\"\n"),
        &["-p", "a"],
        "error: profiles/../profiles/b.toml:1: `extends` forms a cycle: profiles/a.toml -> \
         profiles/../profiles/b.toml -> profiles/a.toml; remove this `extends` or point it at a \
         profile outside the circle\n",
    );
    // A link to a profile is that profile.
    let test = Test::new()
        .file("profiles/a.toml", "extends = \"b\"\n")
        .file("profiles/b.toml", "extends = \"a\"\n");
    std::os::unix::fs::symlink("a.toml", test.dir().join("profiles/c.toml")).expect("link");
    refused(
        test,
        &["-p", "c"],
        "error: profiles/b.toml:1: `extends` forms a cycle: profiles/c.toml -> profiles/b.toml -> \
         profiles/a.toml; remove this `extends` or point it at a profile outside the circle\n",
    );
}

#[test]
fn extends_of_a_missing_profile_names_the_line_and_the_likely_name() {
    refused(
        Test::new().file("org.toml", "extends = \"debian-prebuit\"\n"),
        &["-p", "org.toml"],
        "error: org.toml:1: `extends` = `debian-prebuit` is not allowed: no profile has that name \
         (did you mean `debian-prebuilt`?); available: `alpine-layered`, `alpine-prebuilt`, \
         `corporate-hardened`, `debian-layered`, `debian-prebuilt`\n",
    );
}

#[test]
fn a_missing_profile_path_says_no_such_file() {
    refused(
        Test::new(),
        &["-p", "./profiles/org.toml"],
        "error: command line: `--profile` names `profiles/org.toml`, which does not exist (no \
         such file)\n",
    );
}

#[test]
fn invalid_image_reference_names_the_file_and_line() {
    refused(
        Test::new().file("org.toml", "[images]\npython = \"Python:3.11\"\n"),
        &["-p", "org.toml"],
        "error: org.toml:2: `images.python` = `Python:3.11` is not allowed: invalid repository \
         name part `Python` (lowercase letters and digits, separated by `.`, `_`, `__` or dashes)\n",
    );
}

#[test]
fn set_with_a_bad_value_names_the_set() {
    refused(
        Test::new(),
        &["--set", "python.tag=my org/python"],
        "error: --set: `python.tag` = `my org/python` is not allowed: invalid repository name part \
         `my org` (lowercase letters and digits, separated by `.`, `_`, `__` or dashes)\n",
    );
}

#[test]
fn set_of_an_unknown_key_suggests_one() {
    refused(
        Test::new(),
        &["--set", "python.tga=x"],
        "error: bad `--set python.tga=x`: unknown key `tga` (did you mean `tag`?)\n",
    );
}

#[test]
fn missing_ca_certificate_names_the_profile_and_path() {
    refused(
        Test::new().file(
            "org.toml",
            "[corporate]\nca_certificates = [\"certs/corp.crt\"]\n",
        ),
        &["-p", "org.toml"],
        "error: org.toml:2: `corporate.ca_certificates` names `./certs/corp.crt`, which cannot be \
         read: no such file or directory\n",
    );
}

#[test]
fn ca_certificate_that_is_not_pem_is_refused() {
    refused(
        Test::new()
            .file(
                "org.toml",
                "[corporate]\nca_certificates = [\"corp.crt\"]\n",
            )
            .file("corp.crt", "not a certificate\n"),
        &["-p", "org.toml"],
        "error: org.toml:2: `corporate.ca_certificates` names `./corp.crt`, which is not a PEM \
         certificate (no `-----BEGIN CERTIFICATE-----`)\n",
    );
}

#[test]
fn trust_auth_outside_development_is_refused() {
    refused(
        Test::new().file("org.toml", "[postgres]\nauth_method = \"trust\"\n"),
        &["-p", "org.toml"],
        "error: org.toml:2: `postgres.auth_method` = `trust` is not allowed: password-less `trust` \
         auth is only for development; add `development = true` to the profile, or use \
         `scram-sha-256`\n",
    );
}

#[test]
fn database_name_that_would_inject_sql_is_refused() {
    refused(
        Test::new().file(
            "org.toml",
            "[[postgres.databases]]\nname = \"x\\\"; DROP TABLE y; --\"\nowner = \"o\"\npassword_env = \"P\"\n",
        ),
        &["-p", "org.toml"],
        "error: org.toml:2: `postgres.databases[0].name` = `x\\\"; DROP TABLE y; --` is not \
         allowed: names are up to 63 letters, digits or `_`, starting with a letter or `_`\n",
    );
}

#[test]
fn env_value_compose_and_docker_run_read_differently_is_refused_at_the_profile_line() {
    let output = Test::new()
        .file(
            "org.toml",
            "[corporate]\npip_index_url = \"https://pypi.corp.example/simple#x\"\n",
        )
        .args(["render", "-p", "org.toml", "--out", "out"])
        .status(2)
        .stderr_contains("error: org.toml:2: `corporate.pip_index_url`")
        .stderr_contains("`docker compose` and `docker run --env-file` read differently")
        .run();
    assert!(!output.exists("out"));
}

#[test]
fn bad_command_line_is_status_2() {
    Test::new()
        .args(["render", "--bogus"])
        .status(2)
        .stderr_contains("--bogus")
        .run();
}

#[test]
fn a_link_inside_the_project_to_a_file_outside_it_is_refused() {
    let test = Test::new().file(
        "org.toml",
        "[python]\nrequirements = \"requirements.txt\"\n",
    );
    let output = test.args(["render", "--out", "out"]).run();
    std::os::unix::fs::symlink("/etc/passwd", output.dir.join("requirements.txt")).expect("link");
    let output = output
        .then()
        .args(["render", "-p", "org.toml", "--out", "out2"])
        .status(2)
        .stderr(
            "error: org.toml:2: `python.requirements` names `./requirements.txt`, which is outside \
             the profile's project (a profile may only name files inside the git work tree that \
             holds it, or else inside the working folder; links are followed)\n",
        )
        .run();
    assert!(!output.exists("out2"), "nothing written");
}

#[test]
fn a_fifo_given_as_the_profile_is_refused_instead_of_waited_on() {
    let output = Test::new().args(["list", "profiles"]).run();
    let fifo = output.dir.join("org.toml");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    output
        .then()
        .args(["render", "-p", "./org.toml", "--out", "out"])
        .status(2)
        .stderr("error: command line: `--profile` names `org.toml`, which is not a regular file\n")
        .run();
}

#[test]
fn copied_files_get_fixed_modes_not_the_sources() {
    use std::os::unix::fs::PermissionsExt;
    let first = Test::new()
        .file(
            "org.toml",
            "[python]\nrequirements = \"requirements.txt\"\n",
        )
        .file("requirements.txt", "six\n")
        .args(["list", "profiles"])
        .run();
    let source = first.dir.join("requirements.txt");
    std::fs::set_permissions(source, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let output = first
        .then()
        .args(["render", "-p", "org.toml", "--out", "out"])
        .run();
    let mode = std::fs::metadata(output.dir.join("out/python-runtime/requirements.txt"))
        .expect("copied")
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o644);
}

#[test]
fn an_expired_ca_certificate_is_a_warning_with_its_profile_line() {
    let output = Test::new()
        .file(
            "certs/expired-ca.crt",
            include_str!("certs/expired-ca.crt"),
        )
        .file(
            "org.toml",
            "extends = \"debian-prebuilt\"\n\n[corporate]\nca_certificates = [\"certs/expired-ca.crt\"]\n",
        )
        .args(["render", "-p", "org.toml", "--out", "out"])
        .status(0)
        .stderr(
            "warning: org.toml:4: `corporate.ca_certificates`: ./certs/expired-ca.crt: \
             certificate 1 expired on 2021-01-01; TLS clients in the images reject servers it \
             signs, so replace it\n",
        )
        .run();
    assert!(output.exists("out/python-runtime/certs/expired-ca.crt"));
}

#[test]
fn a_named_file_over_the_size_limit_is_refused_at_its_line() {
    refused(
        Test::new()
            .file("requirements.txt", "a\n".repeat(524_289))
            .file(
                "org.toml",
                "extends = \"debian-prebuilt\"\n\n[python]\nrequirements = \"requirements.txt\"\n",
            ),
        &["-p", "org.toml"],
        "error: org.toml:4: `python.requirements` names `./requirements.txt`, which is larger \
         than 1048576 bytes\n",
    );
}

/// An error quotes what it refuses (here a key), and a profile comes with pull requests: its
/// control characters are printed escaped, never sent to the terminal.
#[test]
fn an_error_quoting_a_key_with_an_escape_prints_it_escaped() {
    let output = Test::new()
        .file("profiles/k.toml", "\"\\u001b[2Jx\" = 1\n")
        .args(["render", "-p", "k", "--out", "out"])
        .status(2)
        .stderr_contains("error: profiles/k.toml:1:1: unknown key `\\u{1b}[2Jx` (allowed here:")
        .run();
    assert!(!output.exists("out"));
}
