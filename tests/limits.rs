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
            &format!("extends = \"p{}.toml\"\n", depth - 1),
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
