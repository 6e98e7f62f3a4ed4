//! imggen: profile files in, Dockerfiles, a compose override and `.env` out.
//!
//! The pipeline: profile files → `profile::Stack` → `resolve::Resolved` → packs →
//! `render::Files` in memory → either compared with disk (`check`) or written (`write`); see
//! `pipeline` (`cargo doc --document-private-items` shows the modules).

mod apply;
mod budget;
mod build;
mod check;
mod cli;
mod commands;
mod confine;
mod data;
mod diff;
mod dockerfile;
mod dotenv;
mod edit;
mod engine;
mod error;
mod files;
mod filters;
#[doc(hidden)]
pub mod harness;
mod header;
mod imagetest;
mod init;
mod lint;
mod lock;
mod manifest;
mod merge;
mod mirror;
mod names;
mod pack;
mod parallel;
mod pipeline;
mod platform;
mod profile;
mod project;
#[cfg(test)]
mod proptests;
mod reference;
mod registry;
mod render;
mod resolve;
mod role;
mod show;
mod suggest;
mod upstream;
mod validate;
mod vendor;
mod verify;
mod wizard_config;
mod write;

use std::ffi::OsString;

pub use error::Error;

/// Runs imggen with `args` (program name first); returns the exit status:
/// 0 success, 1 drift found (or a failure after something was written), 2 error with nothing
/// written.
pub fn run(args: impl IntoIterator<Item = OsString>) -> u8 {
    let command = match cli::parse(args) {
        Ok(command) => command,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match commands::execute(command) {
        Ok(status) => status,
        Err(error) => {
            error.print();
            error.exit_status()
        }
    }
}
