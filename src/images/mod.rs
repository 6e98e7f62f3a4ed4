//! From rendered folders to images: the Dockerfile reader (`dockerfile`), the platform's image
//! rules (`lint`), the container engines (`engine`), `build` (side by side, cached) and the
//! platform's image tests (`imagetest`).

pub mod build;
pub mod dockerfile;
pub mod engine;
pub mod imagetest;
pub mod lint;
