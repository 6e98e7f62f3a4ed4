//! The platform's checkout: its compose projects and override names (`checkout`), its `.env`
//! files (`dotenv`), its wizard's saved answers (`wizard_config`, edited in place by `yaml_lines`), and `apply`, which puts a
//! render into a checkout so that every way the platform starts uses it.

pub mod apply;
pub mod checkout;
pub mod dotenv;
pub mod wizard_config;
pub mod yaml_lines;
