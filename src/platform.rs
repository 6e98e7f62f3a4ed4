//! The platform checkout: its compose project folders (one table), how its `.env` files are
//! edited key by key, and how the platform picks the Kerberos test's install command.
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

/// The value of `key` in `.env` text: the last `KEY=` line, as the platform's wizard reads it.
pub fn env_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().rev().find_map(|line| {
        line.trim_end_matches('\r')
            .strip_prefix(key)?
            .strip_prefix('=')
    })
}

/// `text` with `key` set to `value` the way the platform's wizard does it: the `KEY=` line
/// replaced where it exists, else `KEY=value` appended. Every other byte stays, including the
/// file's line ending (CRLF when the file uses it).
pub fn set_env(text: &str, key: &str, value: &str) -> String {
    let crlf = text.contains("\r\n");
    let ending = if crlf { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(text.len() + key.len() + value.len() + 2);
    let mut found = false;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n').trim_end_matches('\r');
        if body
            .strip_prefix(key)
            .is_some_and(|rest| rest.starts_with('='))
        {
            found = true;
            out.push_str(key);
            out.push('=');
            out.push_str(value);
            out.push_str(&line[body.len()..]);
        } else {
            out.push_str(line);
        }
    }
    if !found {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(ending);
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
        out.push_str(ending);
    }
    out
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
    fn set_env_replaces_the_line_or_appends_and_keeps_every_other_byte() {
        let text = "# c\nA=1\nSECRET=x y\nB=2";
        assert_eq!(set_env(text, "A", "9"), "# c\nA=9\nSECRET=x y\nB=2");
        assert_eq!(set_env(text, "C", "3"), "# c\nA=1\nSECRET=x y\nB=2\nC=3\n");
        assert_eq!(set_env("A=1\r\nB=2\r\n", "A", "x"), "A=x\r\nB=2\r\n");
        assert_eq!(set_env("A=1\r\n", "Z", "x"), "A=1\r\nZ=x\r\n");
        assert_eq!(set_env("", "Z", "x"), "Z=x\n");
        // A key that only starts like another is a different key.
        assert_eq!(set_env("AB=1\n", "A", "2"), "AB=1\nA=2\n");
    }

    #[test]
    fn env_value_reads_the_last_assignment() {
        assert_eq!(env_value("A=1\r\nA=2\r\n", "A"), Some("2"));
        assert_eq!(env_value("AB=1\n", "A"), None);
        assert_eq!(env_value("A=\n", "A"), Some(""));
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
