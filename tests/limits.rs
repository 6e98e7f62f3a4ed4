//! Large inputs stay bounded: no stack overflow, no runaway work. (Timings are printed by
//! `scripts/bench.sh`, not asserted here.)

use crate::helper::Test;

#[test]
fn a_thousand_deep_extends_chain_renders() {
    let mut test = Test::new().file("p0.toml", "extends = \"alpine-layered\"\n");
    for depth in 1..1000 {
        let text = format!(
            "extends = \"p{}.toml\"\n[python.env]\nDEPTH_{depth} = \"{depth}\"\n",
            depth - 1
        );
        test = test.file(&format!("p{depth}.toml"), &text);
    }
    let output = test
        .args(["render", "-p", "p999.toml", "--out", "out"])
        .run();
    let dockerfile = output.read("out/python-runtime/Dockerfile");
    assert!(
        dockerfile.contains("ENV DEPTH_1=\"1\"\n")
            && dockerfile.contains("ENV DEPTH_999=\"999\"\n")
    );
}

#[test]
fn a_deep_cycle_is_reported_not_followed_forever() {
    let mut test = Test::new().file("p0.toml", "extends = \"p499.toml\"\n");
    for depth in 1..500 {
        test = test.file(
            &format!("p{depth}.toml"),
            format!("extends = \"p{}.toml\"\n", depth - 1),
        );
    }
    test.args(["render", "-p", "p499.toml", "--out", "out"])
        .status(2)
        .stderr_contains("error: p0.toml:1: `extends` forms a cycle: p499.toml -> p498.toml")
        .run();
}

#[test]
fn ten_thousand_packages_render() {
    let packages: Vec<String> = (0..10_000).map(|i| format!("\"pkg-{i}\"")).collect();
    let profile = format!("[python]\npip_packages = [{}]\n", packages.join(", "));
    let output = Test::new()
        .file("big.toml", &profile)
        .args(["render", "-p", "big.toml", "--out", "out"])
        .run();
    let dockerfile = output.read("out/python-runtime/Dockerfile");
    assert!(dockerfile.contains(" pkg-0 pkg-1 ") && dockerfile.contains(" pkg-9999\n"));
}

#[test]
fn deeply_nested_toml_is_an_error_not_a_crash() {
    let nested = format!("x = {}1{}\n", "[".repeat(5000), "]".repeat(5000));
    Test::new()
        .file("deep.toml", &nested)
        .args(["render", "-p", "deep.toml", "--out", "out"])
        .status(2)
        .stderr_contains("error: deep.toml:")
        .run();
}

/// `render --all` holds a lock on every folder of the chunk it writes. Under a low limit on
/// open files it writes fewer folders at once (hard limit) or raises its own soft limit, instead
/// of failing with "too many open files" part-way.
#[test]
fn render_all_fits_a_low_open_files_limit() {
    for ulimit in ["-n 60", "-Sn 60"] {
        let mut test = Test::new();
        for n in 0..100 {
            test = test.file(
                &format!("profiles/org-{n:03}.toml"),
                "extends = \"alpine-layered\"\n",
            );
        }
        let output = test
            .open_files(ulimit)
            .args(["render", "--all", "--out", "all"])
            .stdout_contains("rendered `org-099` into all/org-099")
            .run();
        output
            .then()
            .open_files(ulimit)
            .args(["check", "--all", "--out", "all"])
            .stdout_contains("all/org-099: up to date")
            .run();
    }
}

/// A pack on disk whose Dockerfile template is `body`, extending the built-in one.
fn pack_with(body: &str) -> Test {
    Test::new()
        .file(
            "packs/python-runtime/pack.toml",
            "extends = \"builtin:python-runtime\"\n",
        )
        .file("packs/python-runtime/Dockerfile.tera", body)
        .file("profiles/org-a.toml", "extends = \"alpine-layered\"\n")
        .file("profiles/org-b.toml", "extends = \"debian-prebuilt\"\n")
}

const BOUND: &str =
    "error: template `packs/python-runtime/Dockerfile.tera` (profile `alpine-layered`)";

/// Runs imggen with `args` (ending in `--out FOLDER`) on a pack whose Dockerfile template is
/// `body`, with `env` set, and asserts exit status 2, each of `said` on stderr, and no
/// `FOLDER`.
fn stopped<const N: usize>(body: &str, env: &[(&str, &str)], args: [&str; N], said: &[&str]) {
    let mut test = pack_with(body).args(args).status(2);
    for (key, value) in env {
        test = test.env(key, value);
    }
    for text in said {
        test = test.stderr_contains(text);
    }
    let output = test.run();
    assert!(!output.exists(args[N - 1]));
}

/// Two nested `range` loops (Tera caps one at 100,000 numbers) would run for hours: the render
/// is stopped at the time bound, named, and nothing is written.
#[test]
fn a_template_that_loops_for_hours_is_stopped_at_its_time_bound() {
    stopped(
        "FROM x\n{% for i in range(end=100000) %}{% for j in range(end=100000) %}\
         {% endfor %}{% endfor %}\n",
        &[("IMGGEN_RENDER_SECONDS", "1")],
        ["render", "--pack-dir", "packs", "--out", "out"],
        &[
            BOUND,
            " ran for more than 1 s: a loop in it may never end",
            "set IMGGEN_RENDER_SECONDS to allow longer; nothing was written\n",
        ],
    );
}

/// `render --all` renders every profile before it writes one: a template that runs past its
/// bound for some profiles (those on Alpine) leaves every folder unwritten.
#[test]
fn render_all_writes_nothing_when_a_template_runs_past_its_bound() {
    stopped(
        "FROM x\n{% if \"alpine\" in images.python.ref %}\
         {% for i in range(end=100000) %}{% for j in range(end=100000) %}{% endfor %}\
         {% endfor %}{% endif %}\n",
        &[("IMGGEN_RENDER_SECONDS", "1")],
        ["render", "--all", "--pack-dir", "packs", "--out", "all"],
        &[" ran for more than 1 s"],
    );
}

/// A string doubled in a loop fills the machine's memory in seconds: the render is stopped at
/// the memory bound.
#[test]
fn a_template_that_grows_without_end_is_stopped_at_its_memory_bound() {
    stopped(
        "FROM x\n{% set_global s = \"xxxxxxxx\" %}{% for i in range(end=100) %}\
         {% set_global s = s ~ s %}{% endfor %}\n",
        &[("IMGGEN_RENDER_MEGABYTES", "200")],
        ["check", "--pack-dir", "packs", "--out", "out"],
        &[
            BOUND,
            " took imggen past 200 MB of memory: a loop in it may grow",
        ],
    );
}

/// No generated file is larger than the most imggen reads back (1 MiB): a template that writes
/// more is refused as it writes, not after the whole text is in memory.
#[test]
fn a_template_that_writes_more_than_a_mebibyte_is_refused() {
    stopped(
        "FROM x\n{% for i in range(end=100000) %}{% for j in range(end=100000) %}\
         0123456789{% endfor %}{% endfor %}\n",
        &[],
        ["render", "--pack-dir", "packs", "--out", "out"],
        &[
            BOUND,
            " produced more than 1048576 bytes: imggen writes no generated file",
        ],
    );
}

#[test]
fn a_bound_that_is_not_a_whole_number_is_refused() {
    pack_with("FROM x\n")
        .env("IMGGEN_RENDER_SECONDS", "10s")
        .args(["render", "--pack-dir", "packs", "--out", "out"])
        .status(2)
        .stderr(
            "error: IMGGEN_RENDER_SECONDS is `10s`; it takes a whole number from 1 (unset it for \
             the default)\n",
        )
        .run();
}

/// A file in a pack is read as a profile is: at most 1 MiB, and text.
#[test]
fn a_pack_file_over_a_mebibyte_or_not_text_is_refused_by_name() {
    let big = format!("FROM x\n# {}\n", "y".repeat(1024 * 1024));
    for (contents, said) in [
        (big.into_bytes(), "is larger than 1048576 bytes"),
        (b"FROM x\n# \xff\xfe\n".to_vec(), "is not UTF-8 text"),
    ] {
        let output = pack_with("FROM x\n")
            .file("packs/python-runtime/extra.tera", contents)
            .args(["render", "--pack-dir", "packs", "--out", "out"])
            .status(2)
            .stderr(&format!(
                "error: template pack `packs/python-runtime`: `extra.tera` {said}\n"
            ))
            .run();
        assert!(!output.exists("out"));
    }
}
