//! imggen: profile files in, Dockerfiles, a compose override and `.env` out.
//!
//! The pipeline: profile files → `profile::Stack` → `pipeline::resolve::Resolved` → packs →
//! `output::tree::Files` in memory → either compared with disk (`output::check`) or written
//! (`output::write`). Each folder is a subsystem and says its job in its first lines
//! (`cargo doc --document-private-items` shows the modules).

mod cli;
mod data;
mod digest;
mod error;
#[doc(hidden)]
pub mod harness;
mod images;
mod names;
mod output;
mod parallel;
mod pipeline;
mod platform;
mod profile;
#[cfg(test)]
mod proptests;
mod registry;
mod role;
mod suggest;

use std::ffi::OsString;

pub use error::Error;

/// Runs imggen with `args` (program name first); returns the exit status:
/// 0 success, 1 drift found (or a failure after something was written), 2 error with nothing
/// written.
pub fn run(args: impl IntoIterator<Item = OsString>) -> u8 {
    let command = match cli::args::parse(args) {
        Ok(command) => command,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli::commands::execute(command) {
        Ok(status) => status,
        Err(error) => {
            error.print();
            error.exit_status()
        }
    }
}
