//! The names imggen gives things on disk and in the environment, defined once at the bottom
//! of the crate: the modules that own them and the error wording that names them both read
//! them here. Imports nothing of the crate.

/// The output folder's manifest: which files imggen wrote, with hashes.
pub const MANIFEST_FILE: &str = ".imggen-manifest.toml";

/// What a temporary file's name starts with after its leading dot (`.NAME.imggen-tmp-…`).
pub const TEMPORARY_MARK: &str = ".imggen-tmp-";

/// The environment variables that raise a render's bounds: seconds per template, and the
/// process's megabytes.
pub const RENDER_SECONDS_VAR: &str = "IMGGEN_RENDER_SECONDS";
pub const RENDER_MEGABYTES_VAR: &str = "IMGGEN_RENDER_MEGABYTES";

/// The environment variable naming the folder of imggen's cache (what `check` and `render`
/// remember of the folders they found current or wrote); set empty, there is none.
pub const CACHE_DIR_VAR: &str = "IMGGEN_CACHE_DIR";
