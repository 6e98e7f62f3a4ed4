//! The render pipeline, pure: a profile stack → a resolved profile (`resolve`, its values checked
//! by `validate`) → the template packs (`pack`) → files in memory (`render`, with `header`, the
//! quoting `filters` and the `budget` of a pack on disk) → checked in memory (`verify`). `run`
//! drives it for one profile or many, and nothing here reads or writes an output folder.

pub mod budget;
pub mod filters;
pub mod header;
pub mod pack;
pub mod render;
pub mod resolve;
pub mod run;
pub mod validate;
pub mod verify;
