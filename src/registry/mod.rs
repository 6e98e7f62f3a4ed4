//! Registries: image references (`reference`), the OCI distribution client (`client`), the
//! lockfile of digest pins (`lock`), and the commands that ask registries about a profile's
//! upstream images (`upstream`: `imggen lock`) or copy them (`mirror`).

pub mod client;
pub mod lock;
pub mod mirror;
pub mod reference;
pub mod upstream;
