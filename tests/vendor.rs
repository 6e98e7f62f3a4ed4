//! `vendor`: packs an org owns, that still track upstream.

use crate::helper::{Output, Test};

/// Pretends the pack was vendored from an older imggen whose `file` had `old` where the built-in
/// now has `new`: both the record's base and the file on disk get the old text.
fn simulate_upstream_change(output: &Output, file: &str, new: &str, old: &str) {
    let folder = output.dir.join("template-packs/python-runtime");
    let record = folder.join(".imggen-vendor.toml");
    let mut doc: toml_edit::DocumentMut = std::fs::read_to_string(&record)
        .expect("record")
        .parse()
        .expect("record parses");
    let base = doc["base"][file]
        .as_str()
        .expect("file in record")
        .to_string();
    assert!(
        base.contains(new),
        "the built-in {file} must contain {new:?}"
    );
    let older = base.replacen(new, old, 1);
    doc["base"][file] = toml_edit::value(older.clone());
    std::fs::write(&record, doc.to_string()).expect("write record");
    std::fs::write(folder.join(file), older).expect("write file");
}

/// Replaces `from` with `to` in a file under the test folder.
fn edit(output: &Output, path: &str, from: &str, to: &str) {
    let path = output.dir.join(path);
    let text = std::fs::read_to_string(&path).expect("file to edit");
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(&path, text.replace(from, to)).expect("write edit");
}

/// Moves the folder `path` (in `output`'s folder) to `elsewhere` and puts a link to it there.
#[cfg(unix)]
fn moved_behind_a_link(output: &Output, path: &str) {
    let folder = output.dir.join(path);
    let elsewhere = output.dir.join("elsewhere");
    std::fs::rename(&folder, &elsewhere).expect("move");
    std::os::unix::fs::symlink(&elsewhere, &folder).expect("link");
}

/// `args` run again in `output`'s folder, refused: status 2 and exactly `message`.
fn refused<const N: usize>(output: Output, args: [&str; N], message: &str) -> Output {
    output.then().args(args).status(2).stderr(message).run()
}

const TEMPLATE: &str = "template-packs/python-runtime/Dockerfile.tera";

fn vendored() -> Output {
    let output = Test::new()
        .args(["vendor", "python-runtime"])
        .stdout(
            "vendored `python-runtime` 1.0.0 into template-packs/python-runtime (2 files)\n\
             added template-packs to `pack_dirs` in imggen.toml: every imggen command here uses it\n",
        )
        .run();
    assert!(
        output
            .read("imggen.toml")
            .ends_with("pack_dirs = [\"template-packs\"]\n")
    );
    output
}

#[test]
fn vendor_then_edit_one_template_and_render_uses_the_edit_and_the_builtins() {
    let output = vendored();
    edit(
        &output,
        TEMPLATE,
        "CMD [\"python3\"]",
        "CMD [\"python3\", \"-X\", \"dev\"]",
    );
    // No --pack-dir: imggen.toml names the vendored packs.
    let output = output.then().args(["render", "--out", "out"]).run();
    let dockerfile = output.read("out/python-runtime/Dockerfile");
    assert!(dockerfile.ends_with("CMD [\"python3\", \"-X\", \"dev\"]\n"));
    assert!(
        dockerfile
            .contains("template pack `python-runtime` 1.0.0 from template-packs/python-runtime.\n"),
        "the header tells the vendored pack from the built-in: {dockerfile}"
    );
    let output = output
        .then()
        .args(["list", "packs"])
        .stdout_contains(
            "python-runtime       1.0.0  template-packs/python-runtime  The Python runtime",
        )
        .stdout_contains(
            "postgres             1.0.0  built-in                       The PostgreSQL",
        )
        .run();
    assert!(
        output
            .read("out/postgres/Dockerfile")
            .contains("FROM postgres:17.5-alpine")
    );
    // lint renders with the vendored packs too: a broken vendored template is its error.
    edit(&output, TEMPLATE, "CMD [", "{{ broken CMD [");
    output
        .then()
        .args(["lint"])
        .status(2)
        .stderr_contains("python-runtime/Dockerfile.tera")
        .run();
}

#[test]
fn a_profile_can_name_its_pack_folder() {
    let output = vendored();
    edit(&output, TEMPLATE, "CMD [\"python3\"]", "CMD [\"ipython\"]");
    std::fs::create_dir_all(output.dir.join("org")).expect("mkdir");
    std::fs::write(
        output.dir.join("org/p.toml"),
        "pack_dirs = [\"../template-packs\"]\n",
    )
    .expect("profile");
    let output = output
        .then()
        .args(["render", "-p", "org/p.toml", "--out", "out"])
        .run();
    assert!(
        output
            .read("out/python-runtime/Dockerfile")
            .ends_with("CMD [\"ipython\"]\n")
    );
}

#[test]
fn status_is_clean_right_after_vendoring() {
    vendored()
        .then()
        .args(["vendor", "--status"])
        .stdout(
            "template-packs/python-runtime: up to date with built-in `python-runtime` 1.0.0 (0 \
             files edited here)\n",
        )
        .run();
}

#[test]
fn status_shows_an_upstream_change_as_a_diff() {
    let output = vendored();
    simulate_upstream_change(
        &output,
        "Dockerfile.tera",
        "CMD [\"python3\"]",
        "CMD [\"python\"]",
    );
    output
        .then()
        .args(["vendor", "--status"])
        .status(1)
        .stdout_contains("  Dockerfile.tera: changed upstream; `imggen vendor --update` takes it\n")
        .stdout_contains("-CMD [\"python\"]\n+CMD [\"python3\"]\n")
        .run();
}

#[test]
fn update_takes_untouched_files_and_merges_into_the_orgs_edit() {
    let output = vendored();
    simulate_upstream_change(
        &output,
        "Dockerfile.tera",
        "CMD [\"python3\"]",
        "CMD [\"python\"]",
    );
    simulate_upstream_change(
        &output,
        "pack.toml",
        "version = \"1.0.0\"",
        "version = \"0.9.0\"",
    );
    // The org edits its copy of the template far from the upstream change; it never touches
    // pack.toml.
    let text = output.read(TEMPLATE);
    std::fs::write(
        output.dir.join(TEMPLATE),
        format!("{{# org edit #}}\n{text}"),
    )
    .expect("edit");
    // No names: every vendored pack.
    let output = output
        .then()
        .args(["vendor", "--update"])
        .stdout_contains("1 file taken, 1 file merged, 0 conflicts\n")
        .run();
    let merged = output.read(TEMPLATE);
    assert!(
        merged.starts_with("{# org edit #}\n"),
        "the org's edit survives: {merged}"
    );
    assert!(
        merged.contains("CMD [\"python3\"]"),
        "upstream's change is in: {merged}"
    );
    assert!(
        output
            .read("template-packs/python-runtime/pack.toml")
            .contains("version = \"1.0.0\"")
    );
    output
        .then()
        .args(["vendor", "--status"])
        .stdout_contains("up to date with built-in `python-runtime` 1.0.0 (1 file edited here)")
        .run();
}

#[test]
fn a_conflict_is_marked_kept_in_view_until_resolved_and_then_recorded() {
    let output = vendored();
    simulate_upstream_change(
        &output,
        "Dockerfile.tera",
        "CMD [\"python3\"]",
        "CMD [\"python\"]",
    );
    // The org changed the very line upstream changed.
    edit(&output, TEMPLATE, "CMD [\"python\"]", "CMD [\"ipython\"]");
    let output = output
        .then()
        .args(["vendor", "--update", "python-runtime"])
        .status(1)
        .stdout_contains("0 files taken, 0 files merged, 1 conflict\n")
        .stdout_contains(
            "resolve the conflict markers in template-packs/python-runtime/Dockerfile.tera",
        )
        .run();
    let marked = output.read(TEMPLATE);
    assert!(
        marked.contains(
            "<<<<<<< yours\nCMD [\"ipython\"]\n||||||| as vendored (1.0.0)\nCMD [\"python\"]\n\
             =======\nCMD [\"python3\"]\n>>>>>>> built-in `python-runtime` 1.0.0\n"
        ),
        "{marked}"
    );
    let output = output
        .then()
        .args(["vendor", "--status"])
        .status(1)
        .stdout_contains(
            "  Dockerfile.tera: conflict markers from `imggen vendor --update`; resolve them\n",
        )
        .run();
    // The org keeps its line.
    let start = marked.find("<<<<<<<").expect("markers");
    let end = marked.find(">>>>>>>").expect("markers");
    let end = end + marked[end..].find('\n').expect("line end") + 1;
    let resolved = format!("{}CMD [\"ipython\"]\n{}", &marked[..start], &marked[end..]);
    std::fs::write(output.dir.join(TEMPLATE), resolved).expect("resolve");
    let output = output
        .then()
        .args(["vendor", "--status"])
        .status(1)
        .stdout_contains(
            "  Dockerfile.tera: conflict resolved here; `imggen vendor --update` records it\n",
        )
        .run();
    let output = output
        .then()
        .args(["vendor", "--update"])
        .stdout_contains("  Dockerfile.tera: conflict resolved; merge recorded\n")
        .run();
    output
        .then()
        .args(["vendor", "--status"])
        .stdout_contains("up to date with built-in `python-runtime` 1.0.0 (1 file edited here)")
        .run();
}

#[test]
fn vendoring_over_an_existing_folder_is_refused() {
    vendored()
        .then()
        .args(["vendor", "python-runtime"])
        .status(2)
        .stderr(
            "error: template pack `template-packs/python-runtime`: already exists; use `imggen \
             vendor --update` to take upstream changes\n",
        )
        .run();
}

/// The record comes with the repository: a pull request that adds a path leaving the pack
/// (with the text that file has now) would have `--update` remove that file as "removed
/// upstream". Refused before anything is read or written.
#[test]
fn a_record_path_that_leaves_the_pack_is_refused() {
    let output = vendored();
    std::fs::write(output.dir.join("README.md"), "the org's readme\n").expect("write");
    let record = output
        .dir
        .join("template-packs/python-runtime/.imggen-vendor.toml");
    let mut doc: toml_edit::DocumentMut = std::fs::read_to_string(&record)
        .expect("record")
        .parse()
        .expect("record parses");
    doc["base"]["../../README.md"] = toml_edit::value("the org's readme\n");
    std::fs::write(&record, doc.to_string()).expect("write record");
    let message = "error: `template-packs/python-runtime/.imggen-vendor.toml` lists \
                   `../../README.md`, which is not a file inside the pack (a relative path \
                   without `..`, `.` or empty parts), and `vendor --update` writes and removes \
                   by these paths; restore the record from the vendoring commit, or vendor the \
                   pack again into a new folder\n";
    let output = refused(output, ["vendor", "--update"], message);
    assert_eq!(output.read("README.md"), "the org's readme\n");
    refused(output, ["vendor", "--status"], message);
}

#[cfg(unix)]
#[test]
fn a_vendored_pack_folder_that_is_a_link_is_refused() {
    let output = vendored();
    moved_behind_a_link(&output, "template-packs/python-runtime");
    let message = "error: template pack `template-packs/python-runtime`: the pack folder is a \
                   symbolic link; a pack is a plain folder inside the project (replace the link \
                   with the folder it points at)\n";
    let output = refused(output, ["vendor", "--update"], message);
    refused(
        output,
        ["render", "-p", "debian-prebuilt", "--out", "out"],
        message,
    );
}

#[cfg(unix)]
#[test]
fn a_vendor_folder_that_is_a_link_is_refused() {
    let output = vendored();
    moved_behind_a_link(&output, "template-packs");
    let message = "error: `template-packs` is a symbolic link, and imggen does not write through \
                   one (what it points at may be shared, or outside the project): replace the \
                   link with a copy of what it points at, or name the real path; nothing was \
                   written\n";
    let output = refused(output, ["vendor", "--update"], message);
    refused(output, ["vendor", "--status"], message);
}

/// A pull request commits links inside a vendored pack: a folder pointing out of the project
/// (with a record entry under it, which `--update` would remove), and a template replaced by a
/// link to a login file (whose contents `--update` would write into the pack).
#[cfg(unix)]
#[test]
fn a_link_inside_a_vendored_pack_is_refused_and_nothing_outside_is_touched() {
    let output = vendored();
    std::fs::create_dir_all(output.dir.join("outside")).expect("outside");
    std::fs::write(output.dir.join("outside/keep-me.conf"), "precious\n").expect("write");
    std::os::unix::fs::symlink(
        output.dir.join("outside"),
        output.dir.join("template-packs/python-runtime/sub"),
    )
    .expect("link");
    let message = "error: template pack `template-packs/python-runtime`: `sub` is a symbolic \
                   link; packs must hold plain files\n";
    let output = refused(output, ["vendor", "--update"], message);
    assert_eq!(output.read("outside/keep-me.conf"), "precious\n");
    let output = refused(output, ["vendor", "--status"], message);
    std::fs::remove_file(output.dir.join("template-packs/python-runtime/sub")).expect("rm");
    let template = output.dir.join(TEMPLATE);
    std::fs::write(
        output.dir.join("config.json"),
        "{\"auths\": {\"r\": \"c2VjcmV0\"}}\n",
    )
    .expect("login");
    std::fs::remove_file(&template).expect("rm");
    std::os::unix::fs::symlink(output.dir.join("config.json"), &template).expect("link");
    let message = "error: template pack `template-packs/python-runtime`: `Dockerfile.tera` is a \
                   symbolic link; packs must hold plain files\n";
    let output = refused(output, ["vendor", "--update"], message);
    assert_eq!(
        output.read("config.json"),
        "{\"auths\": {\"r\": \"c2VjcmV0\"}}\n"
    );
}
