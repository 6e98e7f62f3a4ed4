//! Role values on the command line are checked by clap against the role table: a typo is a
//! usage error (exit 2) that lists the roles, before any work starts.

use crate::helper::Test;

const ROLES: &str = "python-runtime, kerberos-test, postgres, openmetadata-server, opensearch, alpine, postgres-test, sqlcmd-test, pagila-test, mockserver, astronomer";

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
             `python-runtime`, `kerberos-test`, `postgres`, `openmetadata-server`, `opensearch`, \
             `alpine`, `postgres-test`, `sqlcmd-test`, `pagila-test`, `mockserver`, `astronomer`)",
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
            profile.contains("[kerberos]\ntag = \"myorg/kerberos-test:1\""),
            "{spelling}: {profile}"
        );
    }
}

#[test]
fn service_images_get_the_corporate_ca_in_their_jvm_trust_store_and_keep_their_user() {
    let output = Test::new()
        .args(["render", "-p", "corporate-hardened", "--out", "out"])
        .run();
    for (folder, from, keytool) in [
        (
            "openmetadata-server",
            "registry.corp.example/mirror/openmetadata/server:1.10.1",
            "/usr/lib/jvm/default-jvm/bin/keytool",
        ),
        (
            "opensearch",
            "registry.corp.example/mirror/opensearchproject/opensearch:2.19.2",
            "/usr/share/opensearch/jdk/bin/keytool",
        ),
    ] {
        let dockerfile = output.read(&format!("out/{folder}/Dockerfile"));
        assert!(
            dockerfile.contains(&format!("\nFROM {from}\n")),
            "{dockerfile}"
        );
        assert!(dockerfile.contains(keytool), "{dockerfile}");
        assert!(
            dockerfile.contains("-importcert -noprompt -cacerts -storepass changeit"),
            "{dockerfile}"
        );
        assert!(
            dockerfile
                .contains("COPY certs/example-corporate-ca.crt /usr/local/share/ca-certificates/"),
            "{dockerfile}"
        );
        // Root only for the import, then the upstream user again (uid 1000 in both images).
        assert!(dockerfile.contains("\nUSER root\n"), "{dockerfile}");
        assert!(dockerfile.ends_with("\nUSER 1000:1000\n"), "{dockerfile}");
        assert!(
            dockerfile.contains("-alias imggen-example-corporate-ca "),
            "the alias `imggen test` looks for: {dockerfile}"
        );
        assert!(output.exists(&format!("out/{folder}/certs/example-corporate-ca.crt")));
    }
    let alpine = output.read("out/alpine/Dockerfile");
    assert!(
        alpine.contains("\nFROM registry.corp.example/mirror/library/alpine:3.19\n"),
        "{alpine}"
    );
    assert!(
        alpine.contains("apk add --no-cache ca-certificates"),
        "always apk: {alpine}"
    );
    assert!(
        !alpine.contains("apt-get"),
        "the profile is Debian, the base is not: {alpine}"
    );
    assert!(alpine.contains("update-ca-certificates"), "{alpine}");
}

#[test]
fn service_images_are_built_and_pointed_at_where_the_platform_reads_them() {
    let output = Test::new()
        .args(["render", "-p", "corporate-hardened", "--out", "out"])
        .run();
    let compose: serde_yaml::Value =
        serde_yaml::from_str(&output.read("out/docker-compose.override.yml")).expect("YAML");
    let services = &compose["services"];
    let om = "registry.corp.example/platform/openmetadata-server:1.10.1-corp";
    // Both OpenMetadata services run the image; it is built once, by the first.
    assert_eq!(services["openmetadata-migrate"]["image"].as_str(), Some(om));
    assert_eq!(
        services["openmetadata-migrate"]["build"]["context"].as_str(),
        Some("./openmetadata-server")
    );
    assert_eq!(services["openmetadata-server"]["image"].as_str(), Some(om));
    assert!(services["openmetadata-server"].get("build").is_none());
    assert_eq!(
        services["openmetadata-opensearch"]["build"]["context"].as_str(),
        Some("./opensearch")
    );
    let env = output.read("out/.env");
    assert!(
        env.contains(&format!("\nIMAGE_OPENMETADATA_SERVER={om}\n")),
        "{env}"
    );
    assert!(
        env.contains("\nIMAGE_ALPINE=registry.corp.example/platform/alpine:3.19-corp\n"),
        "{env}"
    );
}

#[test]
fn a_service_image_the_profile_does_not_build_is_only_pointed_at() {
    let output = Test::new()
        .args([
            "render",
            "-p",
            "debian-prebuilt",
            "--set",
            "images.opensearch=myorg/opensearch:2.19.2",
            "--out",
            "out",
        ])
        .run();
    assert!(!output.exists("out/opensearch"), "no build context");
    let compose: serde_yaml::Value =
        serde_yaml::from_str(&output.read("out/docker-compose.override.yml")).expect("YAML");
    let service = &compose["services"]["openmetadata-opensearch"];
    assert_eq!(service["image"].as_str(), Some("myorg/opensearch:2.19.2"));
    assert!(service.get("build").is_none(), "{service:?}");
    assert!(
        !output
            .read("out/docker-bake.hcl")
            .contains("target \"opensearch\"")
    );
}

#[test]
fn a_tag_for_a_role_whose_pack_is_not_rendered_builds_nothing_it_cannot() {
    // A tag without the pack: `.env` points at the tag, but no build: and no bake target name
    // a folder this render did not write.
    let output = Test::new()
        .args([
            "render",
            "-p",
            "debian-prebuilt",
            "--set",
            "tags.alpine=myorg/alpine:3.19-corp",
            "--out",
            "out",
        ])
        .run();
    assert!(
        output
            .read("out/.env")
            .contains("\nIMAGE_ALPINE=myorg/alpine:3.19-corp\n")
    );
    assert!(
        !output
            .read("out/docker-bake.hcl")
            .contains("target \"alpine\"")
    );
}

#[test]
fn a_role_tag_set_twice_is_refused() {
    Test::new()
        .args([
            "render",
            "-p",
            "debian-prebuilt",
            "--set",
            "tags.python=myorg/python:1",
            "--out",
            "out",
        ])
        .status(2)
        .stderr(
            "error: --set: `tags.python` = `myorg/python:1` is not allowed: `python.tag` names \
             this image already; set one of the two\n",
        )
        .run();
}

#[test]
fn images_refuses_a_key_that_is_no_role() {
    Test::new()
        .file(
            "org.toml",
            "[images]\nopensearh = \"opensearchproject/opensearch:2\"\n",
        )
        .args(["render", "-p", "org.toml", "--out", "out"])
        .status(2)
        .stderr("error: org.toml:2:1: unknown key `opensearh` (did you mean `opensearch`?)\n")
        .run();
}

#[test]
fn a_compose_only_render_names_no_build_context_it_did_not_write() {
    let output = Test::new()
        .args([
            "render",
            "-p",
            "corporate-hardened",
            "--set",
            "packs=[\"compose\"]",
            "--out",
            "out",
        ])
        .run();
    let compose = output.read("out/docker-compose.override.yml");
    assert!(!compose.contains("build:"), "{compose}");
    assert!(compose.contains("image: \"registry.corp.example/platform/postgres:17.5-hardened\""));
    let bake = output.read("out/docker-bake.hcl");
    assert!(bake.contains("targets = []"), "{bake}");
    assert!(!bake.contains("target \""), "{bake}");
}
