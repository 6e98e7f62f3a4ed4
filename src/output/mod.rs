//! The output folder: the one way files reach disk. `tree` is the render in memory; `files`
//! reads and writes inside a folder (confined, with limits, atomically, under a lock) through
//! `confine`; `manifest` records what imggen wrote; `write` makes a folder hold a render,
//! `check` compares one with it (`memo` remembers, outside the project, which renders it found
//! current), and `diff` prints the differences; `session` is the one entrance
//! of a request that changes a folder it does not own (`apply` on a checkout).

pub mod check;
pub mod confine;
pub mod diff;
pub mod files;
pub mod manifest;
pub mod memo;
pub mod session;
pub mod tree;
pub mod write;
