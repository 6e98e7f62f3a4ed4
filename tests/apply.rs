//! `imggen apply` on a copy of the platform's real checkout (`../shared/platform-upstream`).
//! A test that needs a file the real checkout lacks (a `.env` someone already edited) writes
//! it itself, named for the case it shows.

use crate::helper::Test;

/// The keys imggen owns in each project's `.env` (the platform's contract).
const OWNED: [(&str, &[&str]); 4] = [
    (
        "platform-infrastructure",
        &["IMAGE_POSTGRES", "POSTGRES_HOST_AUTH_METHOD"],
    ),
    (
        "openmetadata",
        &["IMAGE_OPENMETADATA_SERVER", "IMAGE_OPENSEARCH"],
    ),
    (
        "kerberos",
        &["IMAGE_PYTHON", "IMAGE_ALPINE", "ODBC_DRIVER_URL"],
    ),
    (
        "platform-bootstrap",
        &[
            "IMAGE_MODE",
            "POSTGRES_HOST_AUTH_METHOD",
            "IMAGE_PYTHON",
            "IMAGE_KERBEROS_TEST",
            "IMAGE_POSTGRES",
            "IMAGE_ALPINE",
            "IMAGE_POSTGRES_TEST",
            "POSTGRES_TEST_PREBUILT",
            "IMAGE_SQLCMD_TEST",
            "SQLCMD_TEST_PREBUILT",
            "IMAGE_PAGILA_TEST",
            "PAGILA_TEST_PREBUILT",
            "IMAGE_MOCKSERVER",
            "IMAGE_ASTRONOMER",
            "ODBC_DRIVER_URL",
        ],
    ),
];

/// `imggen apply --platform platform -p PROFILE` on a fresh copy of the fixture (more args follow).
fn applying(profile: &str) -> Test {
    Test::new()
        .platform()
        .args(["apply", "--platform", "platform", "-p", profile])
}

/// The file's lines (with their endings) that set none of `keys`.
fn other_lines(text: &str, keys: &[&str]) -> Vec<String> {
    text.split_inclusive('\n')
        .filter(|line| !keys.iter().any(|k| line.starts_with(&format!("{k}="))))
        .map(String::from)
        .collect()
}

/// The same checkout after `output`: `imggen apply --platform platform -p PROFILE` again.
fn again(output: crate::helper::Output, profile: &str) -> Test {
    output
        .then()
        .args(["apply", "--platform", "platform", "-p", profile])
}

/// Asserts that `text` holds each of `parts`, showing the text when one is missing.
fn assert_holds(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "lacks {part:?} in:\n{text}");
    }
}

/// Asserts that `text` holds none of `parts` (a secret, a note said before), showing the text.
fn assert_lacks(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(!text.contains(part), "holds {part:?} in:\n{text}");
    }
}

/// A file of the platform's real checkout ("" when it has none).
fn upstream(path: &str) -> String {
    std::fs::read_to_string(crate::helper::upstream_checkout().join(path)).unwrap_or_default()
}

/// A `.env` a user already edited, with CRLF line ends and a secret (the real checkout has no
/// `.env`: they are written by people and wizards).
const CRLF_KERBEROS_ENV: &str = "COMPANY_DOMAIN=CORP.EXAMPLE\r\nKEYTAB_PASSWORD=s3cret-keytab\r\nIMAGE_PYTHON=python:3.11-alpine\r\n";

#[test]
fn every_builtin_profile_changes_only_the_keys_imggen_owns() {
    for profile in [
        "alpine-layered",
        "alpine-prebuilt",
        "debian-layered",
        "debian-prebuilt",
        "corporate-hardened",
    ] {
        let output = Test::new()
            .platform()
            .args(["apply", "--platform", "platform", "-p", profile])
            .run();
        for (folder, keys) in OWNED {
            let path = format!("{folder}/.env");
            // No .env yet: apply starts from .env.example, as the platform's wizards do
            // (platform-bootstrap has none: its .env is all imggen's keys).
            let before = upstream(&format!("{folder}/.env.example"));
            let after = output.read(&format!("platform/{path}"));
            assert_eq!(
                other_lines(&after, keys),
                other_lines(&before, keys),
                "{profile}: {path} changed beyond {keys:?}"
            );
            for key in keys.iter().filter(|k| k.starts_with("IMAGE_")) {
                let generated = output.read("platform/imggen/.env");
                let line = generated
                    .lines()
                    .find(|l| l.starts_with(&format!("{key}=")))
                    .expect("rendered");
                assert!(
                    after.lines().any(|l| l.trim_end_matches('\r') == line),
                    "{profile}: {path} lacks `{line}`"
                );
            }
        }
        assert!(
            output.exists("platform/imggen/python-runtime/Dockerfile"),
            "{profile}"
        );
    }
}

#[test]
fn crlf_files_stay_crlf_and_secrets_stay() {
    let output = applying("debian-prebuilt")
        .file("platform/kerberos/.env", CRLF_KERBEROS_ENV)
        .run();
    let kerberos = output.read("platform/kerberos/.env");
    assert!(
        kerberos.split_inclusive('\n').all(|l| l.ends_with("\r\n")),
        "{kerberos:?}"
    );
    assert!(kerberos.contains("KEYTAB_PASSWORD=s3cret-keytab\r\n"));
    assert!(kerberos.contains("IMAGE_PYTHON=platform/python:3.11-bookworm-prebuilt\r\n"));
    let infra = output.read("platform/platform-infrastructure/.env");
    assert!(
        infra.contains("PLATFORM_DB_PASSWORD=changeme_platform_password\n"),
        "{infra}"
    );
    assert!(
        infra.contains("IMAGE_POSTGRES=postgres:17.5-bookworm\n"),
        "{infra}"
    );
}

#[test]
fn a_new_env_comes_from_the_example_and_is_readable_by_its_owner_only() {
    let output = applying("debian-prebuilt").run();
    let env = output.read("platform/openmetadata/.env");
    assert!(
        env.contains("DB_USER_PASSWORD=changeme_openmetadata_password\n"),
        "{env}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(output.dir.join("platform/openmetadata/.env"))
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn overrides_build_only_what_imggen_builds_in_the_project_that_runs_it() {
    let output = applying("corporate-hardened").args([]).run();
    let infra: serde_yaml::Value = serde_yaml::from_str(
        &output.read("platform/platform-infrastructure/docker-compose.override.yml"),
    )
    .expect("YAML");
    let services = infra["services"].as_mapping().expect("services");
    assert_eq!(
        services.len(),
        1,
        "only the PostgreSQL service: {services:?}"
    );
    assert_eq!(
        infra["services"]["platform-postgres"]["build"]["context"].as_str(),
        Some("../imggen/postgres")
    );
    assert!(infra.get("networks").is_none() && infra.get("volumes").is_none());
    let om: serde_yaml::Value =
        serde_yaml::from_str(&output.read("platform/openmetadata/docker-compose.override.yml"))
            .expect("YAML");
    assert_eq!(
        om["services"]["openmetadata-migrate"]["build"]["context"].as_str(),
        Some("../imggen/openmetadata-server")
    );
    assert!(om["services"]["openmetadata-server"].get("build").is_none());
    // Nothing imggen builds runs in these two projects.
    assert!(!output.exists("platform/kerberos/docker-compose.override.yml"));
    assert!(!output.exists("platform/platform-bootstrap/docker-compose.override.yml"));
}

#[test]
fn a_second_apply_changes_nothing_and_check_agrees() {
    let first = applying("corporate-hardened").args([]).run();
    let tree = first.tree("platform");
    let second = again(first, "corporate-hardened")
        .stdout_contains("0 files in the checkout changed")
        .run();
    assert_eq!(second.tree("platform"), tree, "byte for byte");
    again(second, "corporate-hardened")
        .args(["--check"])
        .stdout_contains("platform: already applied\n")
        .run();
}

#[test]
fn check_and_dry_run_show_the_change_without_secrets_and_write_nothing() {
    // A `.env` as the platform's wizard leaves it: secrets, and an earlier image.
    let wizard = "PLATFORM_DB_PASSWORD=s3cret-admin-Pa55\nIMAGE_POSTGRES=postgres:16\n";
    let output = applying("debian-prebuilt")
        .file("platform/platform-bootstrap/.env", wizard)
        .args(["--check"])
        .status(1)
        .stdout_contains(
            "platform/platform-bootstrap/.env: would update it; its other lines are not shown (they \
             hold secrets)\n  IMAGE_PYTHON: unset -> `platform/python:3.11-bookworm-prebuilt`\n",
        )
        .stdout_contains("  IMAGE_POSTGRES: `postgres:16` -> `postgres:17.5-bookworm` (the value replaced \
             stays as a comment above its line)\n")
        .stdout_contains(
            "platform/platform-infrastructure/.env: would create it from .env.example; its other \
             lines are not shown (they hold secrets)\n  IMAGE_POSTGRES: unset -> \
             `postgres:17.5-bookworm`\n",
        )
        .run();
    let secrets = [
        "s3cret-admin-Pa55",
        "changeme_platform_password",
        "PLATFORM_DB_PASSWORD",
    ];
    assert_lacks(&output.stdout, &secrets);
    assert!(!output.exists("platform/imggen"));
    assert!(!output.exists("platform/platform-infrastructure/.env"));
    let dry = again(output, "debian-prebuilt")
        .args(["--dry-run"])
        .stdout_contains("would create platform/imggen/postgres/Dockerfile")
        .run();
    assert_lacks(&dry.stdout, &["s3cret"]);
    assert_eq!(dry.read("platform/platform-bootstrap/.env"), wizard);
}

#[test]
fn a_value_the_user_changed_since_wins_everywhere_until_force() {
    let first = applying("corporate-hardened").run();
    let path = first.dir.join("platform/platform-infrastructure/.env");
    let edited = std::fs::read_to_string(&path).expect("applied").replace(
        "IMAGE_POSTGRES=registry.corp.example/platform/postgres:17.5-hardened",
        "IMAGE_POSTGRES=mycorp/postgres:17",
    );
    std::fs::write(&path, &edited).expect("edit");
    let kept = "kept IMAGE_POSTGRES=mycorp/postgres:17: changed in platform-infrastructure/.env \
                since imggen set `registry.corp.example/platform/postgres:17.5-hardened`, so every \
                file that sets it gets it and no override builds it (--force sets \
                `registry.corp.example/platform/postgres:17.5-hardened`)\n";
    // --check says so, and that the central file does not agree yet.
    let checked = again(first, "corporate-hardened")
        .args(["--check"])
        .status(1)
        .stdout_contains(kept)
        .stdout_contains(
            "  IMAGE_POSTGRES: `registry.corp.example/platform/postgres:17.5-hardened` -> \
             `mycorp/postgres:17`\n",
        )
        .run();
    let second = again(checked, "corporate-hardened")
        .stdout_contains(kept)
        .stdout_contains("updated platform/platform-bootstrap/.env: IMAGE_POSTGRES\n")
        .run();
    assert_eq!(second.read("platform/platform-infrastructure/.env"), edited);
    assert!(
        second
            .read("platform/platform-bootstrap/.env")
            .contains("IMAGE_POSTGRES=mycorp/postgres:17\n"),
        "the central file, which `make start` exports, runs the user's image too"
    );
    // The override no longer pins (or builds) PostgreSQL: the project has nothing of imggen's.
    assert!(!second.exists("platform/platform-infrastructure/docker-compose.override.yml"));
    // The next run keeps it too, and --check agrees with the checkout.
    let third = again(second, "corporate-hardened")
        .stdout_contains(kept)
        .stdout_contains("0 files in the checkout changed")
        .run();
    let third = again(third, "corporate-hardened")
        .args(["--check"])
        .stdout_contains("platform: already applied\n")
        .run();
    let forced = again(third, "corporate-hardened").args(["--force"]).run();
    for file in ["platform-infrastructure/.env", "platform-bootstrap/.env"] {
        assert!(
            forced
                .read(&format!("platform/{file}"))
                .contains("IMAGE_POSTGRES=registry.corp.example/platform/postgres:17.5-hardened\n"),
            "{file}"
        );
    }
    assert!(forced.exists("platform/platform-infrastructure/docker-compose.override.yml"));
}

/// The central `.env` as the platform's shell wizard leaves it before imggen's first apply
/// (the real checkout has none: it is written on each machine).
const WIZARD_WRITTEN_ENV: &str = "PLATFORM_DB_PASSWORD=s3cret\nIMAGE_MODE=layered\n\
                                  IMAGE_POSTGRES=mycorp/postgres:16\nIMAGE_ALPINE=\n";

#[test]
fn a_value_imggen_did_not_set_stays_above_its_line_as_a_comment() {
    let first = applying("debian-prebuilt")
        .file("platform/platform-bootstrap/.env", WIZARD_WRITTEN_ENV)
        .stdout_contains(
            "stay above their lines as `# before imggen apply, KEY was …` comments: \
             IMAGE_POSTGRES, IMAGE_MODE\n",
        )
        .run();
    let central = first.read("platform/platform-bootstrap/.env");
    assert_holds(
        &central,
        &[
            "PLATFORM_DB_PASSWORD=s3cret\n# before imggen apply, IMAGE_MODE was layered\n\
             IMAGE_MODE=prebuilt\n# before imggen apply, IMAGE_POSTGRES was mycorp/postgres:16\n\
             IMAGE_POSTGRES=postgres:17.5-bookworm\nIMAGE_ALPINE=alpine:3.19\n",
        ],
    );
    // An empty value says nothing worth keeping.
    assert_lacks(&central, &["IMAGE_ALPINE was"]);
    // The platform's own diagnostic greps the file without an anchor: it finds imggen's value
    // only. Its `docker` fails, and stops the script at its next part (`docker ps`), before it
    // would start the platform or write its log in /tmp.
    let stub = first.dir.join("no-docker");
    std::fs::create_dir_all(&stub).expect("mkdir");
    let docker = "#!/bin/sh\n[ \"$1\" = ps ] && kill -TERM \"$PPID\"\nexit 1\n";
    std::fs::write(stub.join("docker"), docker).expect("write");
    let mut permissions = std::fs::metadata(stub.join("docker"))
        .expect("stat")
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(stub.join("docker"), permissions).expect("chmod");
    let path = format!(
        "{}:{}",
        stub.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let diagnosed = std::process::Command::new("bash")
        .arg("diagnose-postgres.sh")
        .current_dir(first.dir.join("platform"))
        .env("PATH", path)
        .output()
        .expect("run the platform's diagnose-postgres.sh");
    let shown = String::from_utf8_lossy(&diagnosed.stdout);
    assert_holds(&shown, &["Image configured: postgres:17.5-bookworm\n"]);
    // Applied again, nothing more is commented; a later edit of the user's is kept, and
    // `--force` keeps it as a comment too.
    let second = again(first, "debian-prebuilt").run();
    assert_eq!(second.read("platform/platform-bootstrap/.env"), central);
    let path = second.dir.join("platform/platform-bootstrap/.env");
    std::fs::write(
        &path,
        central.replace(
            "IMAGE_POSTGRES=postgres:17.5-bookworm",
            "IMAGE_POSTGRES=mine:2",
        ),
    )
    .expect("edit");
    let forced = again(second, "debian-prebuilt").args(["--force"]).run();
    assert_holds(
        &forced.read("platform/platform-bootstrap/.env"),
        &[
            "was mycorp/postgres:16\n# before imggen apply, IMAGE_POSTGRES was mine:2\n\
           IMAGE_POSTGRES=postgres:17.5-bookworm\n",
        ],
    );
}

/// A `.env.example` that assigns an image (the real checkout's only comment theirs out): its
/// value is the platform's default, which the example keeps, so imggen replaces it in `.env`
/// without a comment.
const EXAMPLE_ASSIGNING_AN_IMAGE: &str =
    "DB_USER_PASSWORD=changeme\nIMAGE_OPENSEARCH=opensearchproject/opensearch:2.19.1\n";

#[test]
fn a_default_the_example_still_holds_is_replaced_without_a_comment() {
    let output = applying("debian-prebuilt")
        .file(
            "platform/openmetadata/.env.example",
            EXAMPLE_ASSIGNING_AN_IMAGE,
        )
        .file("platform/openmetadata/.env", EXAMPLE_ASSIGNING_AN_IMAGE)
        .run();
    let env = output.read("platform/openmetadata/.env");
    assert_holds(
        &env,
        &["IMAGE_OPENSEARCH=opensearchproject/opensearch:2.19.2\n"],
    );
    assert_lacks(&env, &["before imggen apply"]);
}

#[test]
fn two_files_with_different_values_of_the_user_are_refused_by_name() {
    let first = applying("debian-prebuilt").run();
    for (file, image) in [
        ("platform-infrastructure/.env", "mycorp/postgres:17"),
        ("platform-bootstrap/.env", "othercorp/postgres:17"),
    ] {
        let path = first.dir.join("platform").join(file);
        let text = std::fs::read_to_string(&path).expect("applied").replace(
            "IMAGE_POSTGRES=postgres:17.5-bookworm",
            &format!("IMAGE_POSTGRES={image}"),
        );
        std::fs::write(&path, text).expect("edit");
    }
    let tree = first.tree("platform");
    let output = again(first, "debian-prebuilt")
        .status(2)
        .stderr(
            "error: `IMAGE_POSTGRES` was changed since imggen set it, to `mycorp/postgres:17` in \
             `platform-infrastructure/.env` and to `othercorp/postgres:17` in \
             `platform-bootstrap/.env`: the platform's entry points would run different images; \
             set the same value in both (or pass `--force` to set the profile's), then apply \
             again; nothing was written\n",
        )
        .run();
    assert_eq!(output.tree("platform"), tree, "nothing written");
}

#[test]
fn a_kerberos_image_name_that_makes_the_platform_pick_apt_on_alpine_is_refused() {
    let output = applying("alpine-layered")
        .args(["--set",
            "kerberos.tag=myorg/kerberos-test:3.11-custom",
        ])
        .status(2)
        .stderr(
            "error: in layered mode the platform picks the Kerberos test's install command from \
             the image name, and for `myorg/kerberos-test:3.11-custom` it picks apt, but the image \
             needs apk: the platform's Kerberos test would fail; name it with `alpine` in it (e.g. \
             `myorg/kerberos-test:3.11-alpine-custom`), or use prebuilt mode; nothing was written\n",
        )
        .run();
    assert!(!output.exists("platform/imggen"));
    assert!(!output.exists("platform/kerberos/.env"));
}

#[test]
fn an_override_the_user_wrote_is_not_replaced_without_force() {
    let output = Test::new()
        .platform()
        .file(
            "platform/platform-infrastructure/docker-compose.override.yml",
            "services:\n  platform-postgres:\n    ports: [\"5432:5432\"]\n",
        )
        .args([
            "apply",
            "--platform",
            "platform",
            "-p",
            "corporate-hardened",
        ])
        .status(2)
        .stderr(
            "error: `platform/platform-infrastructure/docker-compose.override.yml` was not \
             generated by imggen; refusing to overwrite it (move it away, or pass `--force`)\n",
        )
        .run();
    assert!(!output.exists("platform/imggen"), "nothing written");
    assert!(!output.exists("platform/platform-bootstrap/.env"));
}

#[test]
fn a_folder_that_is_not_the_platform_is_refused_naming_what_is_missing() {
    let output = Test::new()
        .file("checkout/platform-infrastructure/docker-compose.yml", "services: {}\n")
        .args(["apply", "--platform", "checkout", "-p", "debian-prebuilt"])
        .status(2)
        .stderr(
            "error: `checkout` is not a platform checkout: it lacks `openmetadata/docker-compose.yml`, \
             `kerberos/docker-compose.yml`, `platform-bootstrap/Makefile` (point `--platform` at \
             the root of the platform's repository, the folder that holds \
             platform-infrastructure/, openmetadata/, kerberos/ and platform-bootstrap/); nothing \
             was written\n",
        )
        .run();
    assert_eq!(output.tree("checkout").len(), 1, "nothing written");
}

#[test]
fn a_registry_prefix_is_applied_once_in_the_platforms_layout() {
    let output = applying("debian-prebuilt")
        .args([
            "--set",
            "corporate.registry=artifactory.company.com/docker-remote",
            "--set",
            "images.postgres=artifactory.company.com/docker-remote/library/postgres:17.5-bookworm",
        ])
        .run();
    let infra = output.read("platform/platform-infrastructure/.env");
    assert!(
        infra.contains("\nIMAGE_POSTGRES=artifactory.company.com/docker-remote/library/postgres:17.5-bookworm\n"),
        "{infra}"
    );
    assert_holds(
        &output.read("platform/openmetadata/.env"),
        &[
            "IMAGE_OPENMETADATA_SERVER=artifactory.company.com/docker-remote/openmetadata/server:1.10.1\n",
            "IMAGE_OPENSEARCH=artifactory.company.com/docker-remote/opensearchproject/opensearch:2.19.2\n",
        ],
    );
}

#[test]
fn a_password_the_init_script_needs_and_nothing_passes_is_named_once() {
    // corporate-hardened creates openmetadata_user and airflow_user from
    // OPENMETADATA_DB_PASSWORD and AIRFLOW_DB_PASSWORD; the real compose file passes neither,
    // and platform-bootstrap/.env (its env_file) does not exist yet.
    let note = |variable: &str| {
        format!(
            "note: the init script needs `{variable}` for an owner it creates, and nothing \
             passes it to PostgreSQL: set it in platform-bootstrap/.env (the service's \
             env_file); imggen never writes passwords\n"
        )
    };
    let first = applying("corporate-hardened")
        .stdout_contains(&note("OPENMETADATA_DB_PASSWORD"))
        .stdout_contains(&note("AIRFLOW_DB_PASSWORD"))
        .run();
    assert!(
        !first
            .read("platform/platform-bootstrap/.env")
            .contains("_DB_PASSWORD")
    );
    // An apply that changes nothing says nothing of it again.
    let second = again(first, "corporate-hardened").run();
    assert_lacks(&second.stdout, &["note:"]);
    // The Python wizard writes OPENMETADATA_DB_PASSWORD there when OpenMetadata is enabled.
    let output = applying("corporate-hardened")
        .file(
            "platform/platform-bootstrap/.env",
            "PLATFORM_DB_PASSWORD=s3cret\nOPENMETADATA_DB_PASSWORD=changeme_openmetadata_password\n",
        )
        .stdout_contains(&note("AIRFLOW_DB_PASSWORD"))
        .run();
    assert_lacks(&output.stdout, &["`OPENMETADATA_DB_PASSWORD`"]);
}

#[test]
fn format_json_says_what_changed_for_tools() {
    let output = applying("debian-prebuilt")
        .file("platform/platform-bootstrap/.env", WIZARD_WRITTEN_ENV)
        .args(["--check", "--format", "json"])
        .status(1)
        .run();
    let doc: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    assert_eq!(doc["in_sync"], false);
    assert_eq!(doc["written"], false);
    let file = |path: &str| {
        doc["files"]
            .as_array()
            .expect("files")
            .iter()
            .find(|f| f["path"] == path)
            .expect("listed")
    };
    let infra = file("platform-infrastructure/.env");
    assert_eq!(infra["action"], "created");
    assert_eq!(infra["keys"], serde_json::json!(["IMAGE_POSTGRES"]));
    assert_eq!(infra["kept_as_comments"], serde_json::json!([]));
    assert_eq!(
        file("platform-bootstrap/.env")["kept_as_comments"],
        serde_json::json!(["IMAGE_POSTGRES", "IMAGE_MODE"])
    );
    assert!(!output.exists("platform/imggen"));
}

/// A `.env` the way people write them, all of it read by Compose v2 (scripts/validate.sh
/// reads the same file back with the real one): a byte order mark, then a key set with `:`
/// and a comment; a secret in quotes over several lines, one of which looks like an image key;
/// an `export`ed, spaced, single-quoted key with a comment; two assignments on one line; a
/// password in Latin-1.
const HAND_WRITTEN_ENV: &[u8] = b"\xef\xbb\xbfIMAGE_OPENMETADATA_SERVER: old/server:1 # by hand\n\
    TLS_KEY=\"-----BEGIN KEY-----\nIMAGE_OPENMETADATA_SERVER=not-a-key\n-----END KEY-----\"\n\
    export IMAGE_OPENSEARCH = 'opensearchproject/opensearch:2.19.2' # pinned by ops\n\
    DB_HOST=\"platform-postgres\" DB_PORT=5432\n\
    DB_USER_PASSWORD=caf\xe9\n";

#[test]
fn an_env_is_read_as_compose_reads_it_and_only_imggens_values_change() {
    let output = applying("debian-prebuilt")
        .file("platform/openmetadata/.env", HAND_WRITTEN_ENV)
        // IMAGE_OPENSEARCH already has the value in quotes: only the other key is set.
        .stdout_contains(
            "updated platform/openmetadata/.env: IMAGE_OPENMETADATA_SERVER; the earlier values, \
             which imggen had not set, stay above their lines as `# before imggen apply, KEY was \
             …` comments: IMAGE_OPENMETADATA_SERVER\n",
        )
        .run();
    let after = std::fs::read(output.dir.join("platform/openmetadata/.env")).expect("applied");
    // The value is replaced where Compose reads it (the first line, after the byte order mark),
    // keeping its `:` and comment, and the user's value stays above it as a comment; the key
    // inside the quoted secret is not an assignment, so the secret stays whole; nothing is
    // appended.
    let expected: &[u8] = b"\xef\xbb\xbf\
    # before imggen apply, IMAGE_OPENMETADATA_SERVER was old/server:1\n\
    IMAGE_OPENMETADATA_SERVER: \
    docker.getcollate.io/openmetadata/server:1.10.1 # by hand\n\
    TLS_KEY=\"-----BEGIN KEY-----\nIMAGE_OPENMETADATA_SERVER=not-a-key\n-----END KEY-----\"\n\
    export IMAGE_OPENSEARCH = 'opensearchproject/opensearch:2.19.2' # pinned by ops\n\
    DB_HOST=\"platform-postgres\" DB_PORT=5432\n\
    DB_USER_PASSWORD=caf\xe9\n";
    assert_eq!(
        String::from_utf8_lossy(&after),
        String::from_utf8_lossy(expected)
    );
    assert_eq!(after, expected, "byte for byte: the Latin-1 password too");
    // The value in quotes is what imggen would write: nothing left to do.
    again(output, "debian-prebuilt")
        .args(["--check"])
        .stdout_contains("platform: already applied\n")
        .run();
}

#[test]
fn a_value_is_replaced_inside_its_own_quotes() {
    let output = applying("corporate-hardened")
        .file("platform/openmetadata/.env", HAND_WRITTEN_ENV)
        .run();
    let after = std::fs::read(output.dir.join("platform/openmetadata/.env")).expect("applied");
    assert_holds(
        &String::from_utf8_lossy(&after),
        &[
            "\nexport IMAGE_OPENSEARCH = 'registry.corp.example/platform/opensearch:2.19.2-corp' # pinned by ops\n",
            "\nIMAGE_OPENMETADATA_SERVER=not-a-key\n",
        ],
    );
}

#[test]
fn an_env_compose_cannot_read_is_refused_naming_the_line() {
    let output = applying("debian-prebuilt")
        .file(
            "platform/kerberos/.env",
            "COMPANY_DOMAIN=CORP.EXAMPLE\nKEYTAB_PASSWORD=\"s3cret\nIMAGE_PYTHON=python:3.11-alpine\n",
        )
        .status(2)
        .stderr(
            "error: `platform/kerberos/.env` line 2: a quoted value opens here and never closes, \
             so `docker compose` cannot read this file either; close the quote, then run imggen \
             again; nothing was written\n",
        )
        .run();
    assert!(!output.exists("platform/imggen"), "nothing written");
    assert!(!output.exists("platform/platform-infrastructure/.env"));
}

#[cfg(unix)]
#[test]
fn an_env_that_is_a_link_is_refused_and_what_it_points_at_stays() {
    // Inside the checkout (shared by two projects, say): read, but not written through.
    let test = applying("debian-prebuilt")
        .file("platform/shared.env", "IMAGE_PYTHON=python:3.11-alpine\n");
    let link = test.dir().join("platform/kerberos/.env");
    std::os::unix::fs::symlink("../shared.env", &link).expect("link");
    let output = test
        .status(2)
        .stderr(
            "error: `platform/kerberos/.env` is a symbolic link, and imggen does not write \
             through one (what it points at may be shared, or outside the project): replace the \
             link with a copy of what it points at, or name the real path; nothing was \
             written\n",
        )
        .run();
    assert_eq!(
        output.read("platform/shared.env"),
        "IMAGE_PYTHON=python:3.11-alpine\n"
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("there")
            .file_type()
            .is_symlink()
    );
    assert!(!output.exists("platform/imggen"), "nothing written");
}

#[cfg(unix)]
#[test]
fn a_checkout_file_linked_outside_the_checkout_is_never_read() {
    // A pull request to the platform commits `.env.example` as a link to a secret of the CI
    // machine; `.env` is not committed, so apply would start from the example and print it.
    let test = applying("debian-prebuilt")
        .args(["--check"])
        .file("secret.json", "{\"auths\": {\"registry\": \"c2VjcmV0\"}}\n");
    let example = test.dir().join("platform/openmetadata/.env.example");
    std::fs::remove_file(&example).expect("rm");
    std::os::unix::fs::symlink("../../secret.json", &example).expect("link");
    let secret = std::fs::canonicalize(test.dir().join("secret.json")).expect("there");
    test.status(2)
        .stdout("")
        .stderr(&format!(
            "error: `platform/openmetadata/.env.example` is a link to `{}`, outside the platform \
             checkout: `imggen apply` reads only the checkout's own files (in a pull request, a \
             link could show any file of the machine in the diff); replace the link with \
             what it points at, then apply again; nothing was written\n",
            secret.display()
        ))
        .run();
}

#[cfg(unix)]
#[test]
fn a_replaced_env_keeps_its_permissions_and_owner() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let test = applying("debian-prebuilt").file(
        "platform/platform-infrastructure/.env",
        upstream("platform-infrastructure/.env.example"),
    );
    let path = test.dir().join("platform/platform-infrastructure/.env");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    // Run as root (as `sudo imggen apply` is), imggen gives the file back to its owner; anyone
    // else cannot hand a file to another user, and keeps the permission bits.
    let nobody = 65534;
    let _ = std::os::unix::fs::chown(&path, Some(nobody), Some(nobody));
    let before = std::fs::metadata(&path).expect("there");
    let output = test.run();
    let after = std::fs::metadata(&path).expect("there");
    assert!(
        output
            .read("platform/platform-infrastructure/.env")
            .contains("IMAGE_POSTGRES=postgres:17.5-bookworm\n"),
        "replaced"
    );
    assert_eq!(after.permissions().mode() & 0o7777, 0o640);
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
}

#[test]
fn an_override_compose_would_not_read_beside_imggens_is_refused() {
    // Compose reads one override file per project: the user's `compose.override.yaml` comes
    // before imggen's, so imggen's images and builds would be ignored.
    let output = applying("corporate-hardened")
        .file(
            "platform/platform-infrastructure/compose.override.yaml",
            "services:\n  platform-postgres:\n    ports: [\"5432:5432\"]\n",
        )
        .status(2)
        .stderr(
            "error: `platform/platform-infrastructure/compose.override.yaml` is an override file \
             too, and Compose reads one per project (the first of compose.override.yml, \
             compose.override.yaml, docker-compose.override.yml, docker-compose.override.yaml): \
             the images and builds imggen writes into \
             `platform/platform-infrastructure/docker-compose.override.yml` would be ignored; \
             move what it holds into a file the project's `COMPOSE_FILE` lists, or remove it, \
             then apply again; nothing was written\n",
        )
        .run();
    assert!(!output.exists("platform/imggen"), "nothing written");
    // The user's `docker-compose.override.yaml` comes after imggen's: it would be ignored.
    applying("corporate-hardened")
        .file(
            "platform/openmetadata/docker-compose.override.yaml",
            "services: {}\n",
        )
        .status(2)
        .stderr_contains(
            "error: `platform/openmetadata/docker-compose.override.yaml` is an override file too",
        )
        .stderr_contains(
            "once imggen writes `platform/openmetadata/docker-compose.override.yml`, yours would \
             be ignored;",
        )
        .run();
    // A project imggen writes no override for may have its own.
    applying("corporate-hardened")
        .file("platform/kerberos/compose.override.yaml", "services: {}\n")
        .run();
}

#[test]
fn compose_file_in_a_projects_env_must_list_imggens_override() {
    let env = upstream("platform-infrastructure/.env.example");
    let output = applying("corporate-hardened")
        .file(
            "platform/platform-infrastructure/.env",
            format!("{env}COMPOSE_FILE=docker-compose.yml\n"),
        )
        .status(2)
        .stderr(
            "error: `platform/platform-infrastructure/.env` sets `COMPOSE_FILE` without \
             `docker-compose.override.yml`, so Compose would not read the override imggen writes \
             (`platform/platform-infrastructure/docker-compose.override.yml`, the images and \
             builds imggen makes); add it to the list (e.g. \
             `COMPOSE_FILE=docker-compose.yml:docker-compose.override.yml`), then apply again; \
             nothing was written\n",
        )
        .run();
    assert!(!output.exists("platform/imggen"), "nothing written");
    applying("corporate-hardened")
        .file(
            "platform/platform-infrastructure/.env",
            format!(
                "{env}COMPOSE_PATH_SEPARATOR=,\nCOMPOSE_FILE=docker-compose.yml,./docker-compose.override.yml\n"
            ),
        )
        .stdout_contains("created platform/platform-infrastructure/docker-compose.override.yml\n")
        .run();
}

#[cfg(unix)]
#[test]
fn a_project_folder_linked_outside_the_checkout_is_not_written_into() {
    let test = applying("debian-prebuilt").file("elsewhere/docker-compose.yml", "services: {}\n");
    let project = test.dir().join("platform/kerberos");
    std::fs::remove_dir_all(&project).expect("rm");
    std::os::unix::fs::symlink("../elsewhere", &project).expect("link");
    let elsewhere = std::fs::canonicalize(test.dir().join("elsewhere")).expect("there");
    let output = test
        .status(2)
        .stderr(&format!(
            "error: `platform/kerberos` is a link to `{}`, outside the platform checkout: \
             `imggen apply` reads only the checkout's own files (in a pull request, a link could \
             show any file of the machine in the diff); replace the link with what it points \
             at, then apply again; nothing was written\n",
            elsewhere.display()
        ))
        .run();
    assert_eq!(output.tree("elsewhere").len(), 1, "nothing written there");
    assert!(!output.exists("platform/imggen"), "nothing written");
}

#[cfg(unix)]
#[test]
fn a_project_folder_linked_inside_the_checkout_is_refused_before_anything_is_written() {
    // Before, the link was found when writing through it: the build contexts and two other
    // projects' files were written already ("nothing was written" said otherwise).
    let test = applying("corporate-hardened");
    let platform = test.dir().join("platform");
    std::fs::rename(platform.join("kerberos"), platform.join("kerberos-real")).expect("mv");
    std::os::unix::fs::symlink("kerberos-real", platform.join("kerberos")).expect("link");
    let output = test
        .status(2)
        .stderr_contains(
            "error: `platform/kerberos` is a symbolic link, and imggen does not write through one",
        )
        .stderr_contains("; nothing was written\n")
        .run();
    assert!(!output.exists("platform/imggen"), "no build contexts");
    for project in [
        "platform-infrastructure",
        "platform-bootstrap",
        "openmetadata",
        "kerberos-real",
    ] {
        assert!(
            !output.exists(&format!("platform/{project}/.env")),
            "{project}/.env written"
        );
    }
}

#[test]
fn the_wizards_configuration_offers_the_profiles_images_and_keeps_its_secrets() {
    // The platform's example, as the wizard copies it, holds the older layout it migrates
    // over the newer one: both get the image; the password stays and is never printed.
    let example = upstream("platform-config.yaml.example");
    let config = format!("{example}  base_platform:\n    postgres:\n      password: s3cret-pw\n");
    let checked = applying("corporate-hardened")
        .file("platform/platform-config.yaml", &config)
        .args(["--check"])
        .status(1)
        .stdout_contains(
            "platform/platform-config.yaml: would update it; its other lines are not shown (they \
             hold secrets)\n",
        )
        .stdout_contains(
            "  services.base_platform.postgres.image: unset -> \
             `registry.corp.example/platform/postgres:17.5-hardened`\n  services.postgres.image: \
             `postgres:17.5-alpine` -> `registry.corp.example/platform/postgres:17.5-hardened`\n",
        )
        .run();
    assert_lacks(&checked.stdout, &["s3cret-pw"]);
    let applied = again(checked, "corporate-hardened").run();
    let written: serde_yaml::Value =
        serde_yaml::from_str(&applied.read("platform/platform-config.yaml")).expect("YAML");
    let services = &written["services"];
    for image in [
        &services["base_platform"]["postgres"]["image"],
        &services["postgres"]["image"],
    ] {
        assert_eq!(
            image.as_str(),
            Some("registry.corp.example/platform/postgres:17.5-hardened")
        );
    }
    assert_eq!(
        services["base_platform"]["postgres"]["password"].as_str(),
        Some("s3cret-pw")
    );
    assert_eq!(services["kerberos"]["use_prebuilt"].as_bool(), Some(true));
    assert_eq!(
        services["kerberos"]["domain"].as_str(),
        Some("CORP.EXAMPLE.COM")
    );
    // Made when the checkout has none, readable by its owner only (the wizard adds passwords).
    let fresh = applying("debian-prebuilt").run();
    let made: serde_yaml::Value =
        serde_yaml::from_str(&fresh.read("platform/platform-config.yaml")).expect("YAML");
    assert_eq!(
        made["services"]["base_platform"]["postgres"]["image"].as_str(),
        Some("postgres:17.5-bookworm")
    );
    assert!(
        made["services"].get("postgres").is_none(),
        "no older layout made"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(fresh.dir.join("platform/platform-config.yaml"))
        .expect("made")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// The wizard's configuration as a person keeps it: the platform's example (which the wizard
/// copies) with notes, a YAML 1.1 `yes` (PyYAML's true) and an image of their own.
fn hand_kept_config() -> String {
    format!(
        "# ops: ask before changing\n{}",
        upstream("platform-config.yaml.example")
            .replace("enabled: true", "enabled: yes  # by hand")
            .replace("image: ubuntu:22.04", "image: mycorp/ubuntu:22.04")
    )
}

#[test]
fn a_hand_kept_wizard_configuration_is_edited_in_place() {
    let config = hand_kept_config();
    let applied = applying("debian-prebuilt")
        .file("platform/platform-config.yaml", &config)
        .stdout_contains("`# before imggen apply, KEY was …` comments: services.kerberos.image\n")
        .run();
    let after = applied.read("platform/platform-config.yaml");
    // Only the entries' lines change or are added; the notes, `yes` and the example's order stay.
    assert_holds(
        &after,
        &[
            "# ops: ask before changing\nservices:\n  kerberos:\n    domain: CORP.EXAMPLE.COM\n    \
             enabled: yes  # by hand\n    # before imggen apply, image was mycorp/ubuntu:22.04\n    \
             image: \"platform/kerberos-test:3.11-bookworm-prebuilt\"\n    use_prebuilt: true\n",
            "    image: \"postgres:17.5-bookworm\"\n    password: null\n",
        ],
    );
    // The example's own default is nothing to keep.
    assert_lacks(&after, &["was postgres:17.5-alpine"]);
    // A file in a style the line editor does not take is written whole, and said so.
    let flow = "services: {kerberos: {image: mycorp/ubuntu:22.04}}\n";
    let whole = applying("debian-prebuilt")
        .file("platform/platform-config.yaml", flow)
        .stdout_contains(
            "note: platform-config.yaml is written whole (its comments and quoting not kept)",
        )
        .run();
    let written: serde_yaml::Value =
        serde_yaml::from_str(&whole.read("platform/platform-config.yaml")).expect("YAML");
    assert_eq!(
        written["services"]["kerberos"]["image"].as_str(),
        Some("platform/kerberos-test:3.11-bookworm-prebuilt")
    );
}

/// `git` with arguments in `dir`, which must succeed; its standard output.
fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn what_apply_leaves_out_of_a_commit_is_what_the_platforms_gitignore_ignores() {
    let test = Test::new().platform();
    let platform = test.dir().join("platform");
    git(&platform, &["init", "-q"]);
    git(&platform, &["add", "-A"]);
    git(&platform, &["commit", "-qm", "the platform"]);
    let output = test
        .args([
            "apply",
            "--platform",
            "platform",
            "-p",
            "corporate-hardened",
        ])
        .run();
    let status = git(&platform, &["status", "--porcelain", "--ignored", "-uall"]);
    let (ignored, tracked): (Vec<&str>, Vec<&str>) =
        status.lines().partition(|line| line.starts_with("!! "));
    let name = |line: &&str| line[3..].rsplit('/').next().unwrap_or_default().to_string();
    // apply's own names for them (src/platform/checkout.rs, UNTRACKED), by the platform's real rules.
    let untracked = [
        ".env",
        "docker-compose.override.yml",
        "platform-config.yaml",
    ];
    assert!(ignored.len() >= 9, "{status}");
    for line in &ignored {
        assert!(untracked.contains(&name(line).as_str()), "{line}");
    }
    for line in &tracked {
        assert!(!untracked.contains(&name(line).as_str()), "{line}");
    }
    assert!(output.exists("platform/imggen/postgres/Dockerfile"));
}

#[test]
fn the_pull_request_workflow_checks_what_a_clone_holds() {
    // The platform team commits its profile and the build contexts; `.env` files, overrides
    // and platform-config.yaml stay out (the platform's .gitignore), made by apply on each
    // machine. CI checks a fresh clone.
    let test = Test::new().platform().file(
        "platform/profiles/corp.toml",
        "extends = \"corporate-hardened\"\n",
    );
    let platform = test.dir().join("platform");
    let applied = test
        .args([
            "apply",
            "--platform",
            "platform",
            "-p",
            "platform/profiles/corp.toml",
        ])
        .run();
    git(&platform, &["init", "-q"]);
    git(&platform, &["add", "-A"]);
    git(&platform, &["commit", "-qm", "imggen apply"]);
    git(&applied.dir, &["clone", "-q", "platform", "clone"]);
    assert!(!applied.exists("clone/platform-bootstrap/.env"), "ignored");
    let ci = |test: Test| {
        test.args([
            "apply",
            "--platform",
            "clone",
            "-p",
            "clone/profiles/corp.toml",
            "--check",
        ])
    };
    // Without --committed a clone is all drift: it has none of a machine's files.
    let clone = ci(applied.then())
        .status(1)
        .stdout_contains("clone/platform-bootstrap/.env: would create it")
        .run();
    let clone = ci(clone.then())
        .args(["--committed"])
        .stdout("clone: already applied\n")
        .run();
    // A profile change that was not applied and committed fails the PR.
    std::fs::write(
        clone.dir.join("clone/profiles/corp.toml"),
        "extends = \"corporate-hardened\"\n\n[python]\npip_packages = [\"requests\"]\n",
    )
    .expect("edit");
    ci(clone.then())
        .args(["--committed"])
        .status(1)
        .stdout_contains("would update clone/imggen/python-runtime/")
        .run();
}

#[test]
fn after_apply_it_says_how_the_platform_runs_the_kerberos_test_and_what_to_build() {
    // No engine on PATH: nothing to ask which images are built.
    let nothing = tempfile::tempdir().expect("temp dir");
    let first = applying("corporate-hardened")
        .env("PATH", &nothing.path().display().to_string())
        .stdout_contains(
            "note: `make kerberos-setup` (platform-bootstrap/dev-tools/setup-kerberos.sh) runs its \
             ticket test in IMAGE_PYTHON (`registry.corp.example/platform/python:3.11-hardened`) \
             with a package install at start, not in the Kerberos test image \
             (`registry.corp.example/platform/kerberos-test:3.11-hardened`), and reads no key \
             that changes that; `make -C kerberos setup` (kerberos/setup.sh) picks \
             IMAGE_KERBEROS_TEST and IMAGE_MODE but skips its test (it looks for \
             test_kerberos_simple.py in the checkout's root); to run the test in the profile's \
             image: `imggen test -p corporate-hardened --only kerberos-test`\n",
        )
        .stdout_contains(
            "note: the checkout now runs 11 images that imggen builds (no engine here to ask \
             which are built): `registry.corp.example/platform/python:3.11-hardened` \
             (IMAGE_PYTHON), ",
        )
        .stdout_contains(
            "; build them with `imggen build -p corporate-hardened` before starting the platform\n",
        )
        .run();
    // Said once: a run that changes nothing says neither again.
    let second = again(first, "corporate-hardened").run();
    assert_lacks(&second.stdout, &["note:"]);
    // Layered, with the Kerberos test in the Python image, the script runs what the profile
    // means: nothing to say about it.
    let layered = applying("alpine-layered").run();
    assert_lacks(&layered.stdout, &["make kerberos-setup"]);
}

/// A folder holding a stand-in `buildah` whose storage holds `images` (and nothing else).
fn engine_holding(images: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let held = images.join(" ");
    let script = format!(
        "#!/bin/sh\ncase \"$1\" in\n--version) exit 0 ;;\ninspect) for held in {held}; do [ \"$4\" = \"$held\" ] && exit 0; done; exit 1 ;;\nesac\nexit 1\n"
    );
    let path = dir.path().join("buildah");
    std::fs::write(&path, script).expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

#[test]
fn after_apply_it_names_only_the_images_the_engine_does_not_hold_yet() {
    let python = "registry.corp.example/platform/python:3.11-hardened";
    let engine = engine_holding(&[python]);
    let output = applying("corporate-hardened")
        .env("PATH", &engine.path().display().to_string())
        .stdout_contains(
            "note: the checkout now runs 10 images that buildah does not hold yet: \
             `registry.corp.example/platform/kerberos-test:3.11-hardened` (IMAGE_KERBEROS_TEST), ",
        )
        .run();
    let note = output
        .stdout
        .lines()
        .find(|line| line.starts_with("note: the checkout now runs"))
        .expect("the note");
    assert_lacks(note, &[&format!("`{python}`")]);
    // All of them held: nothing to build, nothing said.
    let all = engine_holding(&["registry.corp.example/platform/postgres:17.5-hardened"]);
    let output = applying("debian-prebuilt")
        .args([
            "--set",
            "postgres.tag=registry.corp.example/platform/postgres:17.5-hardened",
        ])
        .args(["--set", "packs=[\"postgres\", \"compose\"]"])
        .env("PATH", &all.path().display().to_string())
        .run();
    assert_lacks(&output.stdout, &["imggen build"]);
}

#[test]
fn the_examples_placeholders_are_named_once_when_they_reach_a_checkout() {
    let warning = "warning: the profile's example placeholders go into the checkout: 12 values \
                   under `.example`, a domain reserved for examples (IMAGE_ALPINE, \
                   IMAGE_ASTRONOMER, IMAGE_KERBEROS_TEST, IMAGE_MOCKSERVER, \
                   IMAGE_OPENMETADATA_SERVER, IMAGE_OPENSEARCH, IMAGE_PAGILA_TEST, \
                   IMAGE_POSTGRES, IMAGE_POSTGRES_TEST, IMAGE_PYTHON, IMAGE_SQLCMD_TEST, \
                   ODBC_DRIVER_URL); and the example CA certificate, whose key was \
                   thrown away (example-corporate-ca.crt); put your organisation's registry, \
                   index and CA in a profile of your own (`imggen init --from \
                   corporate-hardened`) and apply that\n";
    let first = applying("corporate-hardened")
        .stdout_contains(warning)
        .run();
    let second = again(first, "corporate-hardened").run();
    assert_lacks(&second.stdout, &["warning:"]);
    let own = applying("debian-prebuilt")
        .args([
            "--set",
            "corporate.registry=artifactory.company.com/docker-remote",
        ])
        .run();
    assert_lacks(&own.stdout, &["warning:"]);
}

#[test]
fn a_copy_a_killed_apply_left_beside_a_env_is_swept() {
    // What a SIGKILL mid-replace leaves: the staged copy of kerberos/.env, secrets and all, under
    // a name no `.env` ignore rule matches. Its process (a pid no process has) is gone.
    let stale = "platform/kerberos/..env.imggen-tmp-4000000000-0";
    // One of a live process (this test's) is that process's to finish.
    let live = format!(
        "platform/kerberos/..env.imggen-tmp-{}-0",
        std::process::id()
    );
    let output = applying("debian-prebuilt")
        .file("platform/kerberos/.env", CRLF_KERBEROS_ENV)
        .file(stale, CRLF_KERBEROS_ENV)
        .file(&live, CRLF_KERBEROS_ENV)
        .run();
    assert!(!output.exists(stale), "swept");
    assert!(output.exists(&live), "kept");
    // `--check` writes nothing, and removes nothing either.
    let checked = output
        .then()
        .file(stale, CRLF_KERBEROS_ENV)
        .args([
            "apply",
            "--platform",
            "platform",
            "-p",
            "debian-prebuilt",
            "--check",
        ])
        .run();
    assert!(checked.exists(stale));
}

#[test]
fn a_wizard_configuration_that_is_not_yaml_is_refused_naming_it() {
    let output = applying("debian-prebuilt")
        .file("platform/platform-config.yaml", "services: [unclosed\n")
        .status(2)
        .stderr_contains("error: `platform/platform-config.yaml` cannot be read as the platform wizard's configuration (")
        .stderr_contains("); fix it, or remove it (`./platform setup` makes it again), then apply again; nothing was written\n")
        .run();
    assert!(!output.exists("platform/imggen"), "nothing written");
    assert!(!output.exists("platform/platform-bootstrap/.env"));
    applying("debian-prebuilt")
        .file("platform/platform-config.yaml", "- a list\n")
        .status(2)
        .stderr_contains("(its top level is not a mapping)")
        .run();
}

/// Two `apply`s of two profiles at once, again and again: each run sees the checkout whole, so
/// afterwards the record, the `.env` files and the overrides all say one profile.
#[test]
fn concurrent_applies_leave_the_checkout_all_one_profile() {
    let test = Test::new().platform();
    let dir = test.dir();
    let bin = env!("CARGO_BIN_EXE_imggen");
    for round in 0..30 {
        let children: Vec<std::process::Child> = ["debian-prebuilt", "corporate-hardened"]
            .iter()
            .map(|profile| {
                std::process::Command::new(bin)
                    .args(["apply", "--platform", "platform", "-p", profile])
                    .current_dir(&dir)
                    .env("PATH", "")
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("imggen runs")
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().expect("ends");
            assert!(output.status.success(), "round {round}: {output:?}");
        }
        let record = std::fs::read_to_string(dir.join("platform/imggen/.imggen-apply.toml"))
            .expect("record");
        let profile = if record.contains("profile = \"corporate-hardened\"") {
            "corporate-hardened"
        } else {
            "debian-prebuilt"
        };
        // The last run's: --check of that profile finds nothing to do.
        let check = std::process::Command::new(bin)
            .args(["apply", "--platform", "platform", "-p", profile, "--check"])
            .current_dir(&dir)
            .env("PATH", "")
            .output()
            .expect("imggen runs");
        assert!(
            check.status.success(),
            "round {round}: the checkout is not all `{profile}`:\n{}",
            String::from_utf8_lossy(&check.stdout)
        );
    }
}

/// Secrets planted where a platform checkout and a CI machine keep them (the wizard's central
/// `.env`, the Kerberos `.env`, `platform-config.yaml`, a registry login in the Docker config, a
/// CI variable) never reach the output of any command a pull request's CI runs: `apply` in
/// every mode and format, a refused `apply`, `render`, `check`, `show`, `lint`.
#[test]
fn no_command_prints_a_planted_secret() {
    const SECRETS: [&str; 6] = [
        "s3cret-admin-Pa55",
        "s3cret-keytab-Kt",
        "s3cret-config-Pw",
        "dXNlcjpzM2NyZXQtcmVnaXN0cnk",
        "s3cret-registry",
        "s3cret-ci-variable",
    ];
    let test = Test::new()
        .platform()
        .file(
            "platform/platform-bootstrap/.env",
            "ENABLE_OPENMETADATA=true\nPLATFORM_DB_PASSWORD=s3cret-admin-Pa55\n",
        )
        .file(
            "platform/kerberos/.env",
            "KEYTAB_PASSWORD=\"s3cret-keytab-Kt\"\n",
        )
        .file(
            "platform/platform-config.yaml",
            format!(
                "{}  base_platform:\n    postgres:\n      password: s3cret-config-Pw\n",
                upstream("platform-config.yaml.example")
            ),
        )
        .file(
            "docker/config.json",
            r#"{"auths":{"registry.corp.example":{"auth":"dXNlcjpzM2NyZXQtcmVnaXN0cnk="}}}"#,
        );
    let dir = test.dir();
    let mut printed = String::new();
    let mut run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_imggen"))
            .args(args)
            .current_dir(&dir)
            .env("DOCKER_CONFIG", dir.join("docker"))
            .env("CI_DEPLOY_TOKEN", "s3cret-ci-variable")
            .env("NO_COLOR", "1")
            .env("IMGGEN_CACHE_DIR", dir.join(".imggen-cache"))
            .output()
            .expect("imggen runs");
        printed.push_str(&String::from_utf8_lossy(&out.stdout));
        printed.push_str(&String::from_utf8_lossy(&out.stderr));
        out.status.code()
    };
    let apply = [
        "apply",
        "--platform",
        "platform",
        "-p",
        "corporate-hardened",
    ];
    for extra in [
        &["--check"][..],
        &["--dry-run"],
        &["--check", "--format", "json"],
        &["--check", "--committed"],
        &[],
        &["--format", "json"],
        &["--check"],
    ] {
        let status = run(&[&apply[..], extra].concat());
        assert!(
            matches!(status, Some(0 | 1)),
            "apply {extra:?}: {status:?}\n{printed}"
        );
    }
    // A `.env` Compose cannot read, a secret on the offending line: refused by line, unquoted.
    std::fs::write(
        dir.join("platform/kerberos/.env"),
        "KEYTAB_PASSWORD=\"s3cret-keytab-Kt\nIMAGE_PYTHON=x\n",
    )
    .expect("write");
    assert_eq!(run(&apply), Some(2));
    for args in [
        &["render", "-p", "corporate-hardened", "--out", "out"][..],
        &["check", "-p", "corporate-hardened", "--out", "out"],
        &["show", "-p", "corporate-hardened"],
        &["lint", "out/python-runtime/Dockerfile"],
    ] {
        let status = run(args);
        assert!(
            matches!(status, Some(0 | 1)),
            "{args:?}: {status:?}\n{printed}"
        );
    }
    assert_holds(
        &printed,
        &["kerberos/.env` line 1: a quoted value opens here and never closes"],
    );
    assert_lacks(&printed, &SECRETS);
}
