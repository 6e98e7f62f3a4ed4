//! Packs on disk (`--pack-dir`): replacing and extending built-ins, and refusing bad packs.

use crate::helper::Test;

const EXTENDS: &str = "extends = \"builtin:python-runtime\"\n";

#[test]
fn a_pack_on_disk_overrides_one_template_and_inherits_the_rest() {
    let output = Test::new()
        .file("packs/python-runtime/pack.toml", EXTENDS)
        .file(
            "packs/python-runtime/Dockerfile.tera",
            "FROM {{ images.python.ref }}\n# org edit\n",
        )
        .args(["render", "--pack-dir", "packs", "--out", "out"])
        .run();
    assert!(
        output
            .read("out/python-runtime/Dockerfile")
            .ends_with("FROM python:3.11-alpine\n# org edit\n")
    );
    assert!(
        output
            .read("out/postgres/Dockerfile")
            .contains("FROM postgres:17.5-alpine")
    );
}

#[test]
fn an_undefined_variable_names_the_template_file_line_and_column() {
    let output = Test::new()
        .file("packs/python-runtime/pack.toml", EXTENDS)
        .file(
            "packs/python-runtime/Dockerfile.tera",
            "FROM x\nRUN echo {{ profile.nope }}\n",
        )
        .args(["render", "--pack-dir", "packs", "--out", "out"])
        .status(2)
        .stderr_contains("error: Field `nope` is not defined.")
        .stderr_contains(" --> packs/python-runtime/Dockerfile.tera:2:21\n")
        .run();
    assert!(!output.exists("out"));
}

#[test]
fn a_template_syntax_error_names_the_file() {
    Test::new()
        .file("packs/python-runtime/pack.toml", EXTENDS)
        .file("packs/python-runtime/Dockerfile.tera", "FROM x\n{% if %}\n")
        .args(["render", "--pack-dir", "packs", "--out", "out"])
        .status(2)
        .stderr_contains(" --> packs/python-runtime/Dockerfile.tera:2:7\n")
        .run();
}

#[test]
fn an_output_path_outside_the_output_folder_is_refused() {
    Test::new()
        .file(
            "packs/python-runtime/pack.toml",
            "extends = \"builtin:python-runtime\"\n[[outputs]]\ntemplate = \"Dockerfile.tera\"\npath = \"../escape\"\n",
        )
        .args(["render", "--pack-dir", "packs", "--out", "out"])
        .status(2)
        .stderr(
            "error: template pack `packs/python-runtime`: output path `../escape` must be a \
             relative path inside the output folder, without `..`, `.` or empty parts\n",
        )
        .run();
}

#[test]
fn a_symlink_in_a_pack_is_refused() {
    let test = Test::new().file("packs/python-runtime/pack.toml", EXTENDS);
    let output = test.args(["list", "packs"]).run();
    std::os::unix::fs::symlink(
        "/etc/passwd",
        output.dir.join("packs/python-runtime/Dockerfile.tera"),
    )
    .expect("symlink");
    output
        .then()
        .args(["render", "--pack-dir", "packs", "--out", "out"])
        .status(2)
        .stderr(
            "error: template pack `packs/python-runtime`: `Dockerfile.tera` is a symbolic link; \
             packs must hold plain files\n",
        )
        .run();
}

#[test]
fn extending_an_unknown_builtin_is_refused() {
    Test::new()
        .file(
            "packs/python-runtime/pack.toml",
            "extends = \"builtin:pyton-runtime\"\n",
        )
        .args(["render", "--pack-dir", "packs", "--out", "out"])
        .status(2)
        .stderr_contains("extends unknown built-in pack `pyton-runtime`")
        .run();
}

/// The project file comes with pull requests, and packs are code imggen runs: a pack folder
/// outside the project is refused, as a profile's is.
#[test]
fn a_project_files_pack_folder_outside_the_project_is_refused() {
    let outside = tempfile::tempdir().expect("temp dir");
    let shown = outside.path().display().to_string();
    Test::new()
        .file("imggen.toml", format!("pack_dirs = [\"{shown}\"]\n"))
        .args(["render", "--out", "out"])
        .status(2)
        .stderr(&format!(
            "error: imggen.toml: `pack_dirs` names `{shown}`, which is outside the profile's \
             project (a profile may only name files inside the git work tree that holds it, or \
             else inside the working folder; links are followed)\n"
        ))
        .run();
}

/// A pack on disk that puts its Dockerfile one level down, `python-runtime/Dockerfile/x`.
fn dockerfile_as_folder(test: Test) -> Test {
    test.file(
        "packs/python-runtime/pack.toml",
        "extends = \"builtin:python-runtime\"\n[[outputs]]\ntemplate = \"Dockerfile.tera\"\n\
         path = \"python-runtime/Dockerfile/x\"\n",
    )
}

/// An output where the folder holds the other kind, not all of it imggen's own as it wrote
/// it (a hand edit, a user's file), is refused by name, by `render` and `check`, nothing
/// written.
#[test]
fn a_file_or_folder_in_the_way_that_is_not_all_imggens_is_refused() {
    let said = "needs `out/python-runtime/Dockerfile` to be a folder, but it is a file; imggen \
                turns one into the other only when all of it is imggen's own, unchanged since \
                it wrote it, and this is not: remove `out/python-runtime/Dockerfile`";
    for command in ["render", "check"] {
        let output = Test::new().args(["render", "--out", "out"]).run();
        let before = output.read("out/.imggen-manifest.toml");
        let output = dockerfile_as_folder(Test::new())
            .file("out/.imggen-manifest.toml", &before)
            .file("out/python-runtime/Dockerfile", "FROM x\n")
            .args([command, "--pack-dir", "packs", "--out", "out"])
            .status(2)
            .stderr_contains(said)
            .run();
        assert_eq!(
            output.read("out/.imggen-manifest.toml"),
            before,
            "{command}"
        );
        assert_eq!(output.read("out/python-runtime/Dockerfile"), "FROM x\n");
    }
    // The pack's folder, with a file of the user's added: the built-in's file is refused.
    let output = dockerfile_as_folder(Test::new())
        .args(["render", "--pack-dir", "packs", "--out", "out"])
        .run();
    std::fs::write(
        output.dir.join("out/python-runtime/Dockerfile/NOTES"),
        "mine\n",
    )
    .expect("write");
    let before = output.tree("out");
    let output = output
        .then()
        .args(["render", "--out", "out"])
        .status(2)
        .stderr_contains(
            "`out/python-runtime/Dockerfile` is a folder where imggen writes a file; imggen \
             turns one into the other only when all of it is imggen's own",
        )
        .run();
    assert_eq!(output.tree("out"), before, "nothing may be written");
    // Listing packs reads no output folder, whatever is in it.
    crate::render::lists_the_packs(Test::new().file("out/python-runtime/Dockerfile/x", "kept\n"));
}

/// A render killed after it turned the Dockerfile into a folder, before it finished: the
/// manifest, still marked incomplete, records the old file being replaced where a folder now
/// stands. The next render of either kind finishes the folder (the old file is gone, not a
/// folder in its way).
#[test]
fn a_restructure_killed_before_its_manifest_is_finished_by_the_next_render() {
    let output = dockerfile_as_folder(Test::new())
        .args(["render", "--out", "out"])
        .run();
    let old = output.read("out/.imggen-manifest.toml");
    let old_hash = old
        .lines()
        .find_map(|l| l.strip_prefix("\"python-runtime/Dockerfile\" = "))
        .expect("the built-in render records its Dockerfile")
        .to_string();
    let output = output
        .then()
        .args(["render", "--pack-dir", "packs", "--out", "out"])
        .run();
    // The marker as the killed render left it: incomplete, with the old file's hash.
    let marker = format!(
        "{}\n[replacing]\n\"python-runtime/Dockerfile\" = {old_hash}\n",
        output
            .read("out/.imggen-manifest.toml")
            .replace("\n[packs]", "incomplete = true\n\n[packs]")
    );
    // With the pack (the render the kill stopped), then without it (the built-in's layout).
    let mut output = output;
    for pack in [true, false] {
        let with_pack = |test: Test| match pack {
            true => test.args(["--pack-dir", "packs"]),
            false => test,
        };
        let test = output.then().file("out/.imggen-manifest.toml", &marker);
        let test = with_pack(test.args(["check", "--out", "out"])).status(1);
        let test = with_pack(test.run().then().args(["render", "--out", "out"]));
        let test = with_pack(test.run().then().args(["check", "--out", "out"]));
        // Back to the pack's layout for the next round.
        let test = test.run().then();
        output = test
            .args(["render", "--pack-dir", "packs", "--out", "out"])
            .run();
    }
}

/// A pack that turns an output file into a folder (a new version of it, or a pack on disk),
/// and back: imggen's own unchanged file, or folder of them, gives way, and `check` agrees.
#[test]
fn a_pack_that_turns_a_file_into_a_folder_and_back_is_followed() {
    let output = dockerfile_as_folder(Test::new())
        .args(["render", "--out", "out"])
        .run();
    let built_in = output.read("out/python-runtime/Dockerfile");
    let output = output
        .then()
        .args(["render", "--pack-dir", "packs", "--out", "out"])
        .stdout_contains("1 created, 0 updated")
        .stdout_contains("1 removed")
        .run();
    // The same Dockerfile, one level down (its header names the pack's folder).
    let body = |text: &str| text.split_once('\n').map(|(_, rest)| rest.to_string());
    let moved = output.read("out/python-runtime/Dockerfile/x");
    assert_eq!(body(&moved), body(&built_in));
    assert!(moved.contains("from packs/python-runtime."), "{moved}");
    let output = output
        .then()
        .args(["check", "--pack-dir", "packs", "--out", "out"])
        .run();
    let output = output
        .then()
        .args(["render", "--out", "out"])
        .stdout_contains("1 created, 0 updated")
        .stdout_contains("1 removed")
        .run();
    assert_eq!(output.read("out/python-runtime/Dockerfile"), built_in);
    let output = output.then().args(["check", "--out", "out"]).run();
    let left: Vec<String> = output
        .tree("out")
        .into_iter()
        .map(|(path, _)| path)
        .filter(|path| path.contains(".imggen-tmp-"))
        .collect();
    assert!(left.is_empty(), "left under a temporary name: {left:?}");
    // `--force` also takes a hand-edited file of imggen's out of the way.
    std::fs::write(
        output.dir.join("out/python-runtime/Dockerfile"),
        "FROM edited\n",
    )
    .expect("edit");
    output
        .then()
        .args(["render", "--pack-dir", "packs", "--out", "out", "--force"])
        .stdout_contains("1 removed")
        .run();
}

/// A template is a program that comes with pull requests, and `check` prints what it renders
/// into CI logs: it must not reach the environment (CI secrets), files, the clock or chance.
/// imggen's Tera has no function for any of them (Tera 1 had `get_env`, `now`, `get_random`
/// and, in some setups, `load_data`); this holds a Tera upgrade to that.
#[test]
fn a_template_cannot_read_the_environment_files_the_clock_or_chance() {
    for call in [
        "get_env(name=\"IMGGEN_SECRET\")",
        "now()",
        "get_random(end=10)",
        "load_data(path=\"/etc/passwd\")",
    ] {
        let name = &call[..call.find('(').expect("a call")];
        let output = Test::new()
            .file("packs/python-runtime/pack.toml", EXTENDS)
            .file(
                "packs/python-runtime/Dockerfile.tera",
                format!("FROM x\nRUN echo {{{{ {call} }}}}\n"),
            )
            .env("IMGGEN_SECRET", "hunter2")
            .args(["render", "--pack-dir", "packs", "--out", "out"])
            .status(2)
            .stderr_contains(&format!("error: Unknown function `{name}`"))
            .run();
        assert!(!output.exists("out"), "{call}");
    }
}

/// A cache mount's id is made from its pack's name, and a builder splits `--mount` at `,` and
/// `=`: a pack folder named with a comma is refused when its image mounts a cache, naming the
/// name, the filter and the template that called it.
#[test]
fn a_pack_name_a_mount_option_cannot_hold_is_refused_with_cache_mounts() {
    let output = Test::new()
        .file(
            "packs/py,thon/pack.toml",
            "name = \"py,thon\"\nversion = \"1.0.0\"\ndescription = \"a case\"\n\n\
             [[outputs]]\ntemplate = \"Dockerfile.tera\"\npath = \"py/Dockerfile\"\n",
        )
        .file(
            "packs/py,thon/Dockerfile.tera",
            "FROM debian:bookworm\nRUN{{ <pkg_cache /> }} {{ <pkg_add packages={[\"curl\"]} /> }}\n",
        )
        .file(
            "profiles/cached.toml",
            "extends = \"debian-prebuilt\"\npacks = [\"py,thon\"]\n[build]\ncache_mounts = true\n",
        )
        .args(["render", "-p", "cached", "--pack-dir", "packs", "--out", "out"])
        .status(2)
        .stderr_contains("error: cannot put `py,thon` into a RUN --mount option")
        .stderr_contains("mount_option")
        .stderr_contains("packs/py,thon/Dockerfile.tera:2:")
        .run();
    assert!(!output.exists("out"));
    // Without cache mounts the same pack renders: the name is refused only where it is used.
    let output = output
        .then()
        .file(
            "profiles/cached.toml",
            "extends = \"debian-prebuilt\"\npacks = [\"py,thon\"]\n",
        )
        .args([
            "render",
            "-p",
            "cached",
            "--pack-dir",
            "packs",
            "--out",
            "out",
        ])
        .run();
    assert!(output.read("out/py/Dockerfile").contains("apt-get install"));
}
