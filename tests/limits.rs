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
        .stderr_contains("error: `extends` forms a cycle: p499.toml -> p498.toml")
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
