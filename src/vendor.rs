//! Vendoring: built-in packs written to disk, owned by the org, tracking upstream.

/// The record a vendored pack keeps of where it came from.
pub const RECORD: &str = ".imggen-vendor.toml";
