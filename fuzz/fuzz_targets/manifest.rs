//! Any bytes as a manifest: its strict reader (for the layout imggen writes) must never panic,
//! and must read exactly what the TOML parser reads whenever it answers at all.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(disagreement) = imggen::harness::manifest_readers_agree(data) {
        panic!("{disagreement}");
    }
});
