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
             `tags.sqlcmd_test`, `tags.pagila_test`, `tags.mockserver`, `tags.astronomer`)\n",
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
             `pagila-test`, `mockserver`, `astronomer`)\n\nFor more information, try '--help'.\n",
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

/// The login file a build hands the engine holds a user's password (base64): a signal that
/// ends `imggen build` mid-build must not leave it under the temporary folder, and one a kill
/// left is swept by the next build.
#[cfg(unix)]
#[test]
fn a_signal_during_a_build_leaves_no_login_behind() {
    use std::os::unix::fs::PermissionsExt;
    let test = Test::new();
    let dir = test.dir();
    let bin = dir.join("bin");
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&bin).expect("bin");
    std::fs::create_dir_all(&tmp).expect("tmp");
    // An engine that takes a while to build: long enough to be signalled.
    let engine = bin.join("buildah");
    std::fs::write(
        &engine,
        "#!/bin/sh\n[ \"$1\" = --version ] && exit 0\ntouch \"$TMPDIR/building\"\nexec sleep 5 >/dev/null 2>&1\n",
    )
    .expect("engine");
    std::fs::set_permissions(&engine, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let auth = dir.join("auth.json");
    std::fs::write(
        &auth,
        "{\"auths\":{\"reg.example:5000\":{\"auth\":\"dTpzM2NyZXQ=\"}}}\n",
    )
    .expect("auth");
    // A folder a killed build left (its process, a pid no process has, is gone).
    let stale = tmp.join("imggen-build-4000000000-0");
    std::fs::create_dir(&stale).expect("stale");
    std::fs::write(stale.join("logins.json"), "{\"auths\":{}}").expect("stale login");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_imggen"))
        .args([
            "build",
            "-p",
            "debian-prebuilt",
            "--out",
            "out",
            "--engine",
            "buildah",
        ])
        .args([
            "--set",
            "corporate.registry=reg.example:5000",
            "--only",
            "python-runtime",
        ])
        .current_dir(&dir)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("TMPDIR", &tmp)
        .env("REGISTRY_AUTH_FILE", &auth)
        .env("HOME", &dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("imggen runs");
    let logins = || {
        std::fs::read_dir(&tmp)
            .expect("tmp")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("imggen-build-"))
            .map(|e| e.path())
            .collect::<Vec<_>>()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !tmp.join("building").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the build never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let during = logins();
    assert_eq!(
        during.len(),
        1,
        "the login folder, the stale one swept: {during:?}"
    );
    assert!(during[0].join("logins.json").exists());
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let output = child.wait_with_output().expect("ends");
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("error: stopped by a signal; the logins it had written are removed\n"),
        "{output:?}"
    );
    assert_eq!(logins(), Vec::<std::path::PathBuf>::new());
}

/// A Dockerfile with cache mounts (`build.cache_mounts`) builds on docker only with BuildKit:
/// `imggen build` asks for it (`DOCKER_BUILDKIT=1`) for those Dockerfiles alone, so a daemon
/// without BuildKit still builds the rest with the builder it has.
#[cfg(unix)]
#[test]
fn docker_builds_dockerfiles_with_cache_mounts_with_buildkit() {
    use std::os::unix::fs::PermissionsExt;
    let built = |sets: &[&str]| -> String {
        let test = Test::new();
        let dir = test.dir();
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).expect("bin");
        // A docker whose daemon answers, holds no image, and notes how it was asked to build.
        let engine = bin.join("docker");
        std::fs::write(
            &engine,
            "#!/bin/sh\ncase \"$1\" in\ninfo) echo 20.10.24 ;;\nbuild) echo \"buildkit=${DOCKER_BUILDKIT-unset}\" >>\"$PWD/asked\" ;;\n*) exit 1 ;;\nesac\n",
        )
        .expect("engine");
        std::fs::set_permissions(&engine, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let mut args = vec!["build", "-p", "debian-prebuilt", "--out", "out"];
        args.extend(["--engine", "docker", "--only", "python-runtime"]);
        for set in sets {
            args.extend(["--set", set]);
        }
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_imggen"))
            .args(&args)
            .current_dir(&dir)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("HOME", &dir)
            .env_remove("DOCKER_BUILDKIT")
            .output()
            .expect("imggen runs");
        assert!(output.status.success(), "{output:?}");
        let dockerfile = std::fs::read_to_string(dir.join("out/python-runtime/Dockerfile"));
        let mounts = dockerfile
            .expect("rendered")
            .contains("RUN --mount=type=cache");
        assert_eq!(mounts, !sets.is_empty(), "{sets:?}");
        std::fs::read_to_string(dir.join("asked")).expect("docker was asked to build")
    };
    assert_eq!(built(&[]), "buildkit=unset\n");
    assert_eq!(built(&["build.cache_mounts=true"]), "buildkit=1\n");
}
