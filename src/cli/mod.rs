//! The command line: clap's definitions and parsing (`args`, the only place clap is used), each
//! command carried out (`commands`), and what some commands own: the setup wizard (`init`),
//! in-place profile edits (`edit`), `show`, and vendoring packs (`vendor`, with the three-way
//! `merge` of an update).

pub mod args;
pub mod commands;
pub mod edit;
pub mod init;
pub mod merge;
pub mod show;
pub mod vendor;
