//! The platform checkout: its compose project folders (one table), and how the platform picks
//! the Kerberos test's install command (`.env` files are edited by `dotenv`).
//! Plain data and text functions: `apply` does the reading and writing.

use crate::role::{ROLES, Role};

/// One compose project folder of the platform checkout.
pub struct Project {
    pub folder: &'static str,
    /// `.env` keys read from this folder that belong to no image role.
    pub settings: &'static [&'static str],
}

/// The platform's compose projects, as its checkout lays them out.
pub static PROJECTS: [Project; 4] = [
    Project {
        folder: "platform-infrastructure",
        // Its compose file interpolates `POSTGRES_HOST_AUTH_METHOD` into the server's environment.
        settings: &["POSTGRES_HOST_AUTH_METHOD"],
    },
    Project {
        folder: "openmetadata",
        settings: &[],
    },
    Project {
        folder: "kerberos",
        settings: &[],
    },
    Project {
        folder: "platform-bootstrap",
        // The platform's wizard keeps these here; the Kerberos test reads IMAGE_MODE from here.
        settings: &["IMAGE_MODE", "POSTGRES_HOST_AUTH_METHOD"],
    },
];

impl Project {
    /// The roles whose `.env` variable this folder reads.
    pub fn roles(&self) -> impl Iterator<Item = &'static Role> + '_ {
        ROLES.iter().filter(|r| r.projects.contains(&self.folder))
    }

    /// Every `.env` key this folder gets from imggen, in a fixed order.
    pub fn keys(&self) -> Vec<&'static str> {
        self.roles()
            .map(|r| r.env)
            .chain(self.settings.iter().copied())
            .collect()
    }
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
