//! `imggen.lock`, `lock` and `mirror` without a network: pins rendered from the lockfile, a bad
//! lockfile refused at its line, and registry failures that write nothing. The real registries
//! (plain and TLS with a login) are in scripts/e2e-registry.sh.

use crate::helper::Test;

const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn lockfile(base_digest: &str) -> String {
    format!(
        "[base.\"python:3.11-slim-bookworm\"]\ndigest = \"{base_digest}\"\nlocked = \"2026-11-27\"\n\n\
         [pushed.\"platform/python:3.11-bookworm-prebuilt\"]\ndigest = \"{B}\"\nlocked = \"2026-11-27\"\n"
    )
}

#[test]
fn render_pins_from_lines_and_env_from_the_lockfile() {
    let output = Test::new()
        .file("imggen.lock", lockfile(A))
        .args(["render", "-p", "debian-prebuilt", "--out", "out"])
        .run();
    let pinned = format!("FROM python:3.11-slim-bookworm@{A}\n");
    for image in ["python-runtime", "kerberos-test"] {
        let dockerfile = output.read(&format!("out/{image}/Dockerfile"));
        assert!(dockerfile.contains(&pinned), "{image}:\n{dockerfile}");
    }
    // An image the lock has no pin for renders its tag as before.
    assert!(
        output
            .read("out/postgres/Dockerfile")
            .contains("FROM postgres:17.5-bookworm\n")
    );
    // `.env` points at the pushed image by digest.
    let env = output.read("out/.env");
    assert!(
        env.contains(&format!(
            "IMAGE_PYTHON=platform/python:3.11-bookworm-prebuilt@{B}\n"
        )),
        "{env}"
    );
    // The lockfile is part of what the folder was rendered from: a moved pin is drift.
    let moved = output
        .then()
        .args(["check", "--out", "out"])
        .status(0)
        .run();
    moved
        .then()
        .file("imggen.lock", lockfile(B))
        .args(["check", "--out", "out"])
        .status(1)
        .stdout_contains("python-runtime/Dockerfile")
        .run();
}

#[test]
fn a_bad_lockfile_is_refused_at_its_line_and_nothing_is_written() {
    let output = Test::new()
        .file(
            "imggen.lock",
            "# pins\n[base.\"python:3.11-slim-bookworm\"]\ndigest = \"sha256:$(id)\"\nlocked = \"2026-11-27\"\n",
        )
        .args(["render", "-p", "debian-prebuilt", "--out", "out"])
        .status(2)
        .stderr(
            "error: imggen.lock:3: `base.\"python:3.11-slim-bookworm\".digest` = `sha256:$(id)` is \
             not allowed: a digest is `sha256:` and 64 lowercase hex digits\n",
        )
        .run();
    assert!(!output.exists("out"));
}

#[test]
fn a_registry_that_cannot_be_reached_leaves_the_lockfile_as_it_was() {
    let before = lockfile(A);
    let output = Test::new()
        .file("imggen.lock", &before)
        .args([
            "lock",
            "-p",
            "debian-prebuilt",
            "--set",
            "corporate.registry=127.0.0.1:9",
            "--update",
        ])
        .status(2)
        .stderr_contains("`127.0.0.1:9/library/postgres:17.5-bookworm`: cannot reach the registry")
        .run();
    assert_eq!(output.read("imggen.lock"), before);
    output
        .then()
        .args([
            "lock",
            "-p",
            "debian-prebuilt",
            "--set",
            "corporate.registry=127.0.0.1:9",
            "--check",
        ])
        .status(2)
        .stderr_contains("cannot reach the registry")
        .run();
}

#[test]
fn update_names_a_base_image_or_a_role_using_one() {
    Test::new()
        .args(["lock", "-p", "debian-prebuilt", "--update", "opensearch"])
        .status(2)
        .stderr(
            "error: `opensearch` is no base image of the profile; name an image or a role using \
             one (`postgres:17.5-bookworm`, `python:3.11-slim-bookworm`)\n",
        )
        .run();
}

#[test]
fn mirror_needs_a_registry_to_fill_and_a_valid_one() {
    Test::new()
        .args(["mirror", "-p", "debian-prebuilt", "--dry-run"])
        .status(2)
        .stderr(
            "error: the profile names no `corporate.registry` to mirror into; give `--to \
             REGISTRY`\n",
        )
        .run();
    Test::new()
        .args(["mirror", "-p", "debian-prebuilt", "--to", "Reg Example"])
        .status(2)
        .stderr_contains("error: bad `--to Reg Example`:")
        .run();
    Test::new()
        .args([
            "mirror",
            "-p",
            "debian-prebuilt",
            "--to",
            "127.0.0.1:9",
            "--dry-run",
        ])
        .status(2)
        .stderr_contains("cannot reach the registry")
        .run();
}

/// What a pull request could commit as a project file of imggen's: a link to a device that never
/// ends, a FIFO no one writes, a file too large, a link to a file elsewhere on the machine.
#[cfg(unix)]
#[test]
fn a_lockfile_project_file_or_record_that_is_not_a_small_regular_file_of_the_project_is_refused() {
    let refused = |name: &str, make: &dyn Fn(&std::path::Path), reason: &str| {
        let test = Test::new();
        let path = test.dir().join(name);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
        make(&path);
        let output = test
            .args(["render", "-p", "debian-prebuilt", "--out", "out"])
            .status(2)
            .stderr(&format!(
                "error: `{name}` {reason}: imggen reads its project file, lockfile and records \
                 only as small regular files inside the project (a pull request could link one \
                 to any file of the machine); replace it with such a file, or delete it, then \
                 run imggen again; nothing was written\n"
            ))
            .run();
        assert!(!output.exists("out"), "nothing written");
    };
    let link_to = |target: &'static str| {
        move |path: &std::path::Path| std::os::unix::fs::symlink(target, path).expect("link")
    };
    refused(
        "imggen.lock",
        &link_to("/dev/zero"),
        "leads outside the project (links are followed)",
    );
    refused(
        "imggen.toml",
        &|path| {
            let made = std::process::Command::new("mkfifo")
                .arg(path)
                .status()
                .expect("mkfifo");
            assert!(made.success());
        },
        "is not a regular file",
    );
    refused(
        "imggen.lock",
        &|path| std::fs::write(path, vec![b'#'; 2 * 1024 * 1024]).expect("write"),
        "is larger than 1048576 bytes",
    );
    refused(
        "imggen.lock",
        &link_to("/etc/hostname"),
        "leads outside the project (links are followed)",
    );
}

#[test]
fn an_apply_record_that_is_not_a_regular_file_is_refused() {
    let test = Test::new().platform();
    let record = test.dir().join("platform/imggen/.imggen-apply.toml");
    std::fs::create_dir_all(record.parent().expect("a folder")).expect("mkdir");
    std::os::unix::fs::symlink("/dev/zero", &record).expect("link");
    test.args(["apply", "--platform", "platform", "-p", "debian-prebuilt"])
        .status(2)
        .stderr_contains("error: `platform/imggen/.imggen-apply.toml` leads outside the project")
        .run();
}
