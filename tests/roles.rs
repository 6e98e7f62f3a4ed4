//! Role values on the command line are checked by clap against the role table: a typo is a
//! usage error (exit 2) that lists the roles, before any work starts.

use crate::helper::Test;

const ROLES: &str = "python-runtime, kerberos-test, postgres, openmetadata-server, opensearch";

#[test]
fn build_only_with_an_unknown_role_is_a_usage_error_listing_the_roles() {
    let output = Test::new()
        .args(["build", "--only", "bogus"])
        .status(2)
        .stderr_contains("invalid value 'bogus' for '--only <ROLES>'")
        .stderr_contains(&format!("[possible values: {ROLES}]"))
        .run();
    assert!(!output.exists("generated"), "nothing rendered");
}

#[test]
fn test_only_with_an_unknown_role_is_a_usage_error_listing_the_roles() {
    Test::new()
        .args(["test", "--only", "python-runtime,bogus"])
        .status(2)
        .stderr_contains("invalid value 'bogus' for '--only <ROLES>'")
        .stderr_contains(&format!("[possible values: {ROLES}]"))
        .run();
}

#[test]
fn init_image_with_an_unknown_role_is_a_usage_error_and_writes_nothing() {
    let output = Test::new()
        .args(["init", "--image", "bogus=x:1", "--yes", "--no-render"])
        .status(2)
        .stderr_contains(
            "invalid value 'bogus=x:1' for '--image <ROLE=IMAGE>': unknown role `bogus` (roles: \
             `python-runtime`, `kerberos-test`, `postgres`, `openmetadata-server`, `opensearch`)",
        )
        .run();
    assert!(!output.exists("profiles"), "nothing written");
}

#[test]
fn image_without_an_equals_sign_says_what_is_expected() {
    Test::new()
        .args(["test", "--image", "python-runtime"])
        .status(2)
        .stderr_contains("'--image <ROLE=IMAGE>': expected `ROLE=IMAGE` (roles: `python-runtime`")
        .run();
}

#[test]
fn lint_role_with_an_unknown_role_is_a_usage_error() {
    Test::new()
        .args(["lint", "--role", "kerberos-tst", "Dockerfile"])
        .status(2)
        .stderr_contains("invalid value 'kerberos-tst' for '--role <ROLE>'")
        .run();
}

#[test]
fn build_only_accepts_the_profile_key_as_an_alias() {
    // `python` (the profile key) names the Python runtime, as `test --image python=` always did.
    Test::new()
        .args([
            "build",
            "-p",
            "corporate-hardened",
            "--only",
            "python",
            "--engine",
            "docker",
        ])
        .env("PATH", "")
        .status(2)
        .stderr(
            "error: `docker` cannot build here (not installed, or its daemon does not answer)\n",
        )
        .run();
}

#[test]
fn init_image_takes_the_role_name_the_profile_key_and_the_short_form() {
    for spelling in ["kerberos-test", "kerberos_test", "kerberos"] {
        let arg = format!("{spelling}=myorg/kerberos-test:1");
        let output = Test::new()
            .args([
                "init",
                "--from",
                "debian-layered",
                "--image",
                &arg,
                "--mode",
                "layered",
                "--distro",
                "debian",
                "--no-corporate",
                "--no-development",
                "--profile",
                "org.toml",
                "--yes",
                "--no-render",
            ])
            .run();
        let profile = output.read("org.toml");
        assert!(
            profile.contains("kerberos_test = \"myorg/kerberos-test:1\""),
            "{spelling}: {profile}"
        );
    }
}
