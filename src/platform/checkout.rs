//! The platform checkout: its compose project folders (one table), the override file names
//! Compose reads, and how the platform picks the Kerberos test's install command (`.env` files
//! are edited by `dotenv`).
//! Plain data and text functions: `apply` does the reading and writing.

use crate::role::{ROLES, Role};

/// One folder of the platform checkout whose `.env` imggen writes.
pub struct Project {
    pub folder: &'static str,
    /// The file that marks the folder in a checkout: its compose file, or for
    /// `platform-bootstrap` (no compose project of its own since the platform dropped its
    /// `docker-compose.yml`) the Makefile that drives setup.
    pub marker: &'static str,
    /// `.env` keys read from this folder that belong to no image role.
    pub settings: &'static [&'static str],
}

/// The compose file of a platform project; `docker compose` run in the folder reads it and
/// the folder's `.env`.
pub const COMPOSE_FILE: &str = "docker-compose.yml";

/// The folders of the platform checkout imggen writes a `.env` in, as the checkout lays them
/// out. Which keys go where follows what reads them (`Role::projects`):
/// - `platform-bootstrap/.env` is the central file: the Makefiles of platform-infrastructure
///   and pagila `-include` and `export` it (an exported value beats the project's own `.env`
///   when Compose interpolates), its own Makefile passes `IMAGE_POSTGRES` to `setup-pagila`,
///   both Kerberos setup scripts and the Python wizard read it.
/// - each compose project's own `.env` is what `docker compose` run in that folder reads,
///   and what the Makefiles of openmetadata and kerberos (and kerberos-sidecar, `../.env`)
///   include.
pub static PROJECTS: [Project; 4] = [
    Project {
        folder: "platform-infrastructure",
        marker: COMPOSE_FILE,
        // Its compose file interpolates `POSTGRES_HOST_AUTH_METHOD` into the server's environment.
        settings: &["POSTGRES_HOST_AUTH_METHOD"],
    },
    Project {
        folder: "openmetadata",
        marker: COMPOSE_FILE,
        settings: &[],
    },
    Project {
        folder: "kerberos",
        marker: COMPOSE_FILE,
        // kerberos-sidecar's Makefile (`-include ../.env`) passes it to its builds.
        settings: &["ODBC_DRIVER_URL"],
    },
    Project {
        folder: "platform-bootstrap",
        marker: "Makefile",
        // `make start` in platform-infrastructure exports these from here (the wizard keeps
        // them here); `kerberos/setup.sh` sources `$PLATFORM_DIR/.env` for IMAGE_MODE, meant to
        // be this file (as shipped its PLATFORM_DIR is the checkout's root, and its test skips).
        settings: &["IMAGE_MODE", "POSTGRES_HOST_AUTH_METHOD", "ODBC_DRIVER_URL"],
    },
];

impl Project {
    /// The roles whose `.env` variable this folder reads.
    pub fn roles(&self) -> impl Iterator<Item = &'static Role> + '_ {
        ROLES.iter().filter(|r| r.projects.contains(&self.folder))
    }

    /// Whether `docker compose` runs in this folder (so an override file there is read).
    pub fn is_compose_project(&self) -> bool {
        self.marker == COMPOSE_FILE
    }

    /// Every `.env` key this folder gets from imggen, in a fixed order: each role's image and
    /// its prebuilt switch, then the settings.
    pub fn keys(&self) -> Vec<&'static str> {
        self.roles()
            .flat_map(|r| std::iter::once(r.env).chain(r.prebuilt_env))
            .chain(self.settings.iter().copied())
            .collect()
    }
}

/// The override file `apply` writes into a project, the name the platform's projects use.
pub const OVERRIDE: &str = "docker-compose.override.yml";

/// The files `apply` writes that the platform's `.gitignore` keeps out of its repository, by
/// name (its patterns `.env`, `docker-compose.override.yml` and `platform-config.yaml` match at
/// any depth; checked against the real `.gitignore` with git in `tests/apply.rs`): made on
/// each machine, never in a clone.
pub const UNTRACKED: [&str; 3] = [".env", OVERRIDE, crate::platform::wizard_config::FILE];

/// The names Compose v2 reads an override file by, in its order: it reads the first it finds,
/// one per project (checked against it in `scripts/validate.sh`).
pub const OVERRIDES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    OVERRIDE,
    "docker-compose.override.yaml",
];

/// Whether a `COMPOSE_FILE` value (entries cut at `separator`) lists [`OVERRIDE`] of the
/// project in the absolute folder `project`: Compose then reads only the files listed.
pub fn lists_override(compose_file: &[u8], separator: &[u8], project: &std::path::Path) -> bool {
    if separator.is_empty() {
        return false;
    }
    let mut rest = Some(compose_file);
    std::iter::from_fn(|| {
        let current = rest?;
        let (entry, after) = match memchr::memmem::find(current, separator) {
            Some(at) => (&current[..at], Some(&current[at + separator.len()..])),
            None => (current, None),
        };
        rest = after;
        Some(entry)
    })
    .any(|entry| {
        let entry = String::from_utf8_lossy(entry);
        let entry = entry.strip_prefix("./").unwrap_or(&entry);
        entry == OVERRIDE || std::path::Path::new(entry) == project.join(OVERRIDE)
    })
}

/// The package manager the platform's Kerberos test uses in layered mode. It decides by the
/// image *name*: apt when the name says `debian` or `ubuntu`, or says `:3.11` and not `alpine`;
/// apk otherwise.
pub fn installer_for(image: &str) -> &'static str {
    let apt = image.contains("debian")
        || image.contains("ubuntu")
        || (image.contains(":3.11") && !image.contains("alpine"));
    if apt { "apt" } else { "apk" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_file_lists_the_override_by_name_or_path() {
        let project = std::path::Path::new("/checkout/kerberos");
        for (value, separator, listed) in [
            ("docker-compose.yml:docker-compose.override.yml", ":", true),
            (
                "docker-compose.yml:./docker-compose.override.yml",
                ":",
                true,
            ),
            (
                "docker-compose.yml,/checkout/kerberos/docker-compose.override.yml",
                ",",
                true,
            ),
            ("docker-compose.yml", ":", false),
            ("docker-compose.yml,docker-compose.override.yml", ":", false),
            ("other/docker-compose.override.yml", ":", false),
            ("docker-compose.override.yml", "", false),
        ] {
            assert_eq!(
                lists_override(value.as_bytes(), separator.as_bytes(), project),
                listed,
                "{value} / {separator:?}"
            );
        }
    }

    #[test]
    fn the_platform_picks_the_installer_by_image_name() {
        assert_eq!(installer_for("python:3.11-alpine"), "apk");
        assert_eq!(installer_for("python:3.11-slim-bookworm"), "apt");
        assert_eq!(installer_for("myorg/kerberos-test:3.11-custom"), "apt");
        assert_eq!(installer_for("myorg/ubuntu-krb:1"), "apt");
        assert_eq!(installer_for("myorg/kerberos-test:3.12-bookworm"), "apk");
    }

    #[test]
    fn every_role_variable_goes_to_a_project_folder() {
        for role in &ROLES {
            for folder in role.projects {
                assert!(
                    PROJECTS.iter().any(|p| p.folder == *folder),
                    "{}: {folder}",
                    role.name
                );
            }
        }
    }
}
