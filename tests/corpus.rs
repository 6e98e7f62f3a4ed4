//! The bad-input corpus: every fixture under `tests/bad/` must fail with status 2, exactly the
//! message in its `.expect` file, and leave the output folder byte for byte as it was.
//!
//! `tests/bad/profiles/NAME.toml` is copied to `org.toml` (beside `tests/bad/files/` as `files/`)
//! and rendered with `-p org.toml`; `tests/bad/packs/NAME/packs/` is copied to `packs/` and
//! rendered with `--pack-dir packs`.

use std::path::{Path, PathBuf};

use crate::helper::{Output, Test, copy_tree};

const BAD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bad");

/// A folder with a previous render and a user's own file in `out/`.
fn workspace() -> Output {
    Test::new()
        .file("out/NOTES.md", "my notes\n")
        .args(["render", "--out", "out"])
        .run()
}

fn expect_refused(name: &str, expect: &Path, setup: impl FnOnce(&Path), args: &[&str]) {
    let expected = std::fs::read_to_string(expect)
        .unwrap_or_else(|_| panic!("{name}: no {}", expect.display()));
    let output = workspace();
    setup(&output.dir);
    let before = output.tree("out");
    let mut test = output.then();
    for arg in args {
        test = test.args([*arg]);
    }
    let output = test
        .args(["--out", "out"])
        .status(2)
        .stderr(&expected)
        .run();
    assert_eq!(
        output.tree("out"),
        before,
        "{name}: the output folder changed"
    );
}

fn fixtures(folder: &str, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut list: Vec<PathBuf> = std::fs::read_dir(Path::new(BAD).join(folder))
        .expect("fixture folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| keep(p))
        .collect();
    list.sort();
    list
}

#[test]
fn every_bad_profile_is_refused_with_its_message_and_nothing_written() {
    let profiles = fixtures("profiles", |p| p.extension().is_some_and(|e| e == "toml"));
    assert!(
        profiles.len() >= 40,
        "the corpus shrank: {}",
        profiles.len()
    );
    for fixture in profiles {
        let name = fixture
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        expect_refused(
            &name,
            &fixture.with_extension("expect"),
            |dir| {
                std::fs::copy(&fixture, dir.join("org.toml")).expect("copy profile");
                copy_tree(&Path::new(BAD).join("files"), &dir.join("files"));
            },
            &["render", "-p", "org.toml"],
        );
    }
}

#[test]
fn every_bad_pack_is_refused_with_its_message_and_nothing_written() {
    let packs = fixtures("packs", |p| p.is_dir());
    assert!(packs.len() >= 15, "the corpus shrank: {}", packs.len());
    for fixture in packs {
        let name = fixture
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        expect_refused(
            &name,
            &fixture.join("expect"),
            |dir| copy_tree(&fixture.join("packs"), &dir.join("packs")),
            &["render", "--pack-dir", "packs"],
        );
    }
}

#[test]
fn every_fixture_has_an_expectation() {
    for fixture in fixtures("profiles", |p| p.extension().is_some_and(|e| e == "toml")) {
        assert!(
            fixture.with_extension("expect").is_file(),
            "{} has no .expect",
            fixture.display()
        );
    }
    for fixture in fixtures("profiles", |p| p.extension().is_some_and(|e| e == "expect")) {
        assert!(
            fixture.with_extension("toml").is_file(),
            "{} has no profile",
            fixture.display()
        );
    }
}

/// The docs count the corpus ("N fixtures (P profiles, K packs)", "P profiles and K packs"):
/// the counts are the folder's, so they cannot drift from it.
#[test]
fn the_docs_count_the_corpus_as_it_is() {
    let profiles = fixtures("profiles", |p| p.extension().is_some_and(|e| e == "toml")).len();
    let packs = fixtures("packs", |p| p.is_dir()).len();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |doc: &str| std::fs::read_to_string(root.join(doc)).expect("a doc");
    let validation = read("docs/validation.md");
    let counted = format!(
        "{} fixtures ({profiles} profiles, {packs} packs)",
        profiles + packs
    );
    assert!(
        validation.contains(&counted),
        "docs/validation.md says {counted}"
    );
    let security = read("docs/security.md");
    let counted = format!("{profiles} profiles and {packs} packs");
    assert!(
        security.contains(&counted),
        "docs/security.md says {counted}"
    );
}
