//! `build`: what it builds and refuses, without needing an engine (the real builds run in
//! scripts/e2e-build.sh with buildah).

use crate::helper::Test;

#[test]
fn a_profile_without_tags_has_nothing_to_build() {
    let output = Test::new()
        .args(["build", "-p", "debian-layered", "--out", "out"])
        .stdout(
            "rendered `debian-layered` into out\nnothing to build: the profile names no tag for \
             these images (`python.tag`, `kerberos.tag`, `postgres.tag`, \
             `tags.openmetadata_server`, `tags.opensearch`, `tags.alpine`, `tags.postgres_test`, \
             `tags.sqlcmd_test`, `tags.pagila_test`, `tags.astronomer`)\n",
        )
        .run();
    assert!(
        output.exists("out/python-runtime/Dockerfile"),
        "build renders a missing folder first"
    );
}

#[test]
fn a_stale_rendered_folder_is_refused() {
    let output = Test::new()
        .args(["render", "-p", "debian-prebuilt", "--out", "out"])
        .run();
    output
        .then()
        .args(["build", "-p", "corporate-hardened", "--out", "out"])
        .status(2)
        .stderr(
            "error: `out` is not what the profile renders; run `imggen render` first (`imggen \
             check` shows the difference)\n",
        )
        .run();
}

/// A build sends the engine a role's whole folder, and the output folder comes with pull
/// requests: a script committed beside the rendered one in `postgres/initdb/` would run in the
/// database container. `build` refuses anything in a build context the profile did not render
/// (a file, a folder, a link), before it looks for an engine, and builds nothing.
#[cfg(unix)]
#[test]
fn anything_in_a_build_context_that_imggen_did_not_render_is_refused() {
    let output = crate::helper::rendered_with_extra_script();
    let out = output.dir.join("out");
    std::os::unix::fs::symlink("/etc/passwd", out.join("python-runtime/passwd")).expect("link");
    std::fs::create_dir(out.join("opensearch/plugins")).expect("folder");
    let empty = tempfile::tempdir().expect("temp dir");
    output
        .then()
        .env("PATH", &empty.path().display().to_string())
        .args(["build", "-p", "corporate-hardened", "--out", "out"])
        .status(2)
        .stdout("")
        .stderr(
            "error: build contexts hold what imggen did not render: `out/opensearch/plugins`, \
             `out/postgres/initdb/00-extra.sh`, `out/python-runtime/passwd`: the engine is sent \
             the whole folder, so it could reach an image (remove it, or keep it outside the \
             output folder); nothing was built\n",
        )
        .run();
}

#[test]
fn without_an_engine_the_error_says_what_to_install() {
    let empty = tempfile::tempdir().expect("temp dir");
    Test::new()
        .env("PATH", &empty.path().display().to_string())
        .args(["build", "-p", "debian-prebuilt", "--out", "out"])
        .status(2)
        .stderr(
            "error: no container engine found: install docker (with a running daemon), podman or \
             buildah, or pass `--engine`\n",
        )
        .run();
}

#[test]
fn test_refuses_an_image_override_without_a_known_role() {
    Test::new()
        .args(["test", "--image", "pyhton-runtime=x:1"])
        .status(2)
        .stderr(
            "error: invalid value 'pyhton-runtime=x:1' for '--image <ROLE=IMAGE>': unknown role \
             `pyhton-runtime` (roles: `python-runtime`, `kerberos-test`, `postgres`, \
             `openmetadata-server`, `opensearch`, `alpine`, `postgres-test`, `sqlcmd-test`, \
             `pagila-test`, `astronomer`)\n\nFor more information, try '--help'.\n",
        )
        .run();
}

#[test]
fn test_without_an_engine_says_what_to_install() {
    let empty = tempfile::tempdir().expect("temp dir");
    Test::new()
        .env("PATH", &empty.path().display().to_string())
        .args(["test", "-p", "debian-prebuilt", "--engine", "podman"])
        .status(2)
        .stderr(
            "error: `podman` cannot build here (not installed, or its daemon does not answer)\n",
        )
        .run();
}
