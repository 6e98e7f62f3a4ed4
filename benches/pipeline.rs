//! In-process costs of the pipeline's stages (`cargo bench`): resolving a profile, rendering each
//! pack, and checking a rendered folder against disk, with the allocations each makes. Whole-process
//! figures: scripts/bench.sh.

use imggen::harness::Harness;

const PROFILES: [&str; 5] = [
    "alpine-layered",
    "alpine-prebuilt",
    "debian-layered",
    "debian-prebuilt",
    "corporate-hardened",
];
const PACKS: [&str; 4] = ["python-runtime", "postgres", "kerberos-test", "compose"];

/// Counts every allocation, so each row also shows how many allocations (and bytes) it makes.
#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    divan::main();
}

/// Loading every built-in pack and parsing all its templates (what a process's first render
/// pays; later renders share them).
#[divan::bench]
fn load_packs() -> usize {
    imggen::harness::load_packs()
}

#[divan::bench(args = PROFILES)]
fn resolve(bencher: divan::Bencher, profile: &str) {
    let harness = Harness::new();
    bencher.bench_local(|| {
        harness
            .resolve(divan::black_box(profile))
            .expect("resolves")
    });
}

#[divan::bench(args = PACKS)]
fn render_pack(bencher: divan::Bencher, pack: &str) {
    let harness = Harness::new();
    bencher.bench_local(|| {
        harness
            .render_pack("corporate-hardened", divan::black_box(pack))
            .expect("renders")
    });
}

#[divan::bench]
fn check_against_disk(bencher: divan::Bencher) {
    let harness = Harness::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/corporate-hardened");
    bencher.bench_local(|| assert!(harness.check("corporate-hardened", &dir).expect("checks")));
}
