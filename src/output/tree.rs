//! The files a render makes, in memory: what the pipeline produces and the output layer compares
//! with a folder or writes into it.

use std::collections::BTreeMap;

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub contents: Vec<u8>,
    /// The pack that produced it.
    pub pack: String,
    pub executable: bool,
}

/// Output path (relative, `/`-separated) → file. Ordered, so everything downstream (write,
/// check, snapshots) sees the files in the same order every time.
pub type Files = BTreeMap<String, File>;
