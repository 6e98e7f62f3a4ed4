//! Profile text through parsing, layering (over its `extends`), validation and rendering:
//! any input must end in `Ok` or a clean error, never a panic.
#![no_main]

use std::sync::OnceLock;

use imggen::harness::Harness;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    let harness = HARNESS.get_or_init(Harness::new);
    if let Ok(text) = std::str::from_utf8(data) {
        // The first line, when it starts with `--set `, is a `--set` too.
        let (sets, profile) = match text.split_once('\n') {
            Some((first, rest)) if first.starts_with("--set ") => (vec![first[6..].to_string()], rest),
            _ => (Vec::new(), text),
        };
        let _ = harness.render_text(profile, &sets);
    }
});
