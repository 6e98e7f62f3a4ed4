//! The images a profile takes from registries, and the two commands that talk to registries
//! about them: `imggen lock` (pin each base image's tag to the digest it points at now) and
//! `imggen mirror` (copy every upstream image into the private registry, by digest).

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::profile::Profile;
use crate::registry::client::{Client, Credentials, Http};
use crate::registry::lock::{Entry, Lockfile, Table};
use crate::registry::reference::Reference;
use crate::role::ROLES;

/// The references the profile's rendered Dockerfiles start `FROM` (registry prefix applied,
/// the lock's pins not), each once, with the roles that use it: what `imggen lock` pins.
/// Images the profile pins by digest itself are left out.
pub fn bases(profile: &Profile) -> BTreeMap<String, Vec<&'static str>> {
    let images = crate::pipeline::resolve::images(profile, &Lockfile::default());
    let mut bases: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    for role in ROLES.iter().filter(|r| r.builds) {
        if !profile.packs.iter().any(|p| p == role.name) {
            continue;
        }
        let reference = &images[role.key].reference;
        if !reference.contains('@') {
            bases.entry(reference.clone()).or_default().push(role.name);
        }
    }
    bases
}

/// Every image the platform pulls from upstream for this profile, as the profile names it
/// (bases and the platform's own service images), each once: what `imggen mirror` copies.
pub fn upstream_images(profile: &Profile) -> Vec<String> {
    let images = crate::pipeline::resolve::images(profile, &Lockfile::default());
    let mut all: Vec<String> = ROLES
        .iter()
        .map(|role| images[role.key].upstream.clone())
        .collect();
    all.sort();
    all.dedup();
    all
}

/// What `imggen lock` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockMode {
    /// Pin what is not pinned yet; keep every existing pin (no network for those).
    Add,
    /// Ask again for these images (references or role names; all when empty) and move their pins.
    Update(Vec<String>),
    /// Ask again for every pin and say which moved; write nothing.
    Check,
}

/// How one base image came out of `lock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Kept,
    Added,
    Updated {
        was: String,
    },
    Unchanged,
    /// `--check`: the tag points elsewhere now.
    Moved {
        locked: String,
    },
    /// `--check`: no pin yet.
    NotLocked,
}

/// One row of the closing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub reference: String,
    pub digest: String,
    pub status: Status,
}

/// A registry client trusting the profile's corporate CA certificates too.
pub fn client(ca_certificates: &[Vec<u8>]) -> Result<Client<Http>> {
    Ok(Client::new(
        Http::new(ca_certificates),
        Credentials::from_environment()?,
    ))
}

/// Whether `reference` (a base) is among what `--update` names: its reference or a role of it.
fn named(reference: &str, roles: &[&'static str], names: &[String]) -> bool {
    names.is_empty()
        || names.iter().any(|n| {
            n == reference
                || roles
                    .iter()
                    .any(|role| crate::role::find(n).is_some_and(|found| found.name == *role))
        })
}

/// Runs `lock` on `bases` against `lock`, asking `digest` for what it needs. Returns the rows
/// and the lockfile to write (unchanged under `--check`). Every question is asked before
/// anything is returned, so a failure leaves the lockfile as it was.
pub fn lock(
    bases: &BTreeMap<String, Vec<&'static str>>,
    lock: &Lockfile,
    mode: &LockMode,
    today: &str,
    digest: &dyn Fn(&Reference) -> Result<String>,
) -> Result<(Vec<Row>, Lockfile)> {
    if let LockMode::Update(names) = mode {
        let unknown: Vec<&String> = names
            .iter()
            .filter(|n| {
                !bases
                    .iter()
                    .any(|(r, roles)| named(r, roles, std::slice::from_ref(n)))
            })
            .collect();
        if let Some(name) = unknown.first() {
            return Err(Error::NotABase {
                name: (*name).clone(),
                bases: bases.keys().cloned().collect(),
            });
        }
    }
    let mut next = lock.clone();
    let mut rows = Vec::new();
    for (reference, roles) in bases {
        let pinned = lock.table(Table::Base).get(reference);
        let ask = match mode {
            LockMode::Add => pinned.is_none(),
            LockMode::Update(names) => named(reference, roles, names),
            LockMode::Check => true,
        };
        if !ask {
            if let Some(entry) = pinned {
                rows.push(Row {
                    reference: reference.clone(),
                    digest: entry.digest.clone(),
                    status: Status::Kept,
                });
            }
            continue;
        }
        let now = digest(&Reference::parse(reference))?;
        let status = match (mode, pinned) {
            (LockMode::Check, None) => Status::NotLocked,
            (LockMode::Check, Some(entry)) if entry.digest != now => Status::Moved {
                locked: entry.digest.clone(),
            },
            (_, Some(entry)) if entry.digest == now => Status::Unchanged,
            (_, Some(entry)) => Status::Updated {
                was: entry.digest.clone(),
            },
            (_, None) => Status::Added,
        };
        if !matches!(mode, LockMode::Check) && status != Status::Unchanged {
            next.base.insert(
                reference.clone(),
                Entry {
                    digest: now.clone(),
                    locked: today.to_string(),
                },
            );
        }
        rows.push(Row {
            reference: reference.clone(),
            digest: now,
            status,
        });
    }
    Ok((rows, next))
}

/// `sha256:` and the first 12 hex digits: enough to tell digests apart in a table.
pub fn short(digest: &str) -> String {
    digest.chars().take("sha256:".len() + 12).collect()
}

/// The closing table of `lock`.
pub fn table(rows: &[Row]) -> String {
    let width = rows
        .iter()
        .map(|r| r.reference.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!("{:<width$}  {:<19}  status\n", "image", "digest");
    for row in rows {
        let status = match &row.status {
            Status::Kept => "kept".to_string(),
            Status::Added => "added".to_string(),
            Status::Unchanged => "unchanged".to_string(),
            Status::Updated { was } => format!("updated (was {})", short(was)),
            Status::Moved { locked } => format!("MOVED (locked {})", short(locked)),
            Status::NotLocked => "NOT LOCKED".to_string(),
        };
        out.push_str(&format!(
            "{:<width$}  {:<19}  {status}\n",
            row.reference,
            short(&row.digest)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Selection, load};

    fn profile(name: &str, sets: &[&str]) -> Profile {
        let selection = Selection {
            profiles: vec![name.into()],
            sets: sets.iter().map(|s| s.to_string()).collect(),
        };
        load(&selection).expect("loads").profile
    }

    fn digest(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    #[test]
    fn bases_are_the_from_lines_of_the_rendered_images_each_once() {
        let p = profile("debian-prebuilt", &["corporate.registry=reg.example:5000"]);
        let found = bases(&p);
        assert_eq!(
            found.keys().collect::<Vec<_>>(),
            [
                "reg.example:5000/library/postgres:17.5-bookworm",
                "reg.example:5000/library/python:3.11-slim-bookworm",
            ]
        );
        // The Kerberos test image starts from the Python image.
        assert_eq!(
            found["reg.example:5000/library/python:3.11-slim-bookworm"],
            ["python-runtime", "kerberos-test"]
        );
        // A digest the profile pins itself is not the lock's.
        let pinned = profile(
            "debian-prebuilt",
            &[&format!("digests.postgres={}", digest('a'))],
        );
        assert_eq!(bases(&pinned).len(), 1);
    }

    #[test]
    fn mirrors_every_image_the_platform_pulls() {
        let images = upstream_images(&profile("corporate-hardened", &[]));
        assert!(
            images
                .iter()
                .any(|i| i.starts_with("docker.getcollate.io/openmetadata/server:")),
            "{images:?}"
        );
        assert!(
            images
                .iter()
                .any(|i| i.starts_with("opensearchproject/opensearch:")),
            "{images:?}"
        );
        let mut sorted = images.clone();
        sorted.dedup();
        assert_eq!(sorted, images);
    }

    #[test]
    fn add_keeps_pins_update_moves_them_check_only_reports() {
        let bases: BTreeMap<String, Vec<&'static str>> = [
            ("a:1".to_string(), vec!["python-runtime"]),
            ("b:1".to_string(), vec!["postgres"]),
        ]
        .into_iter()
        .collect();
        let mut old = Lockfile::default();
        old.base.insert(
            "a:1".into(),
            Entry {
                digest: digest('1'),
                locked: "2026-01-01".into(),
            },
        );
        let asked = std::cell::RefCell::new(Vec::new());
        let now = |r: &Reference| {
            asked.borrow_mut().push(r.to_string());
            Ok(digest('2'))
        };
        let (rows, next) = lock(&bases, &old, &LockMode::Add, "2026-11-27", &now).expect("locks");
        // Only the image without a pin was asked about.
        assert_eq!(asked.borrow().as_slice(), ["docker.io/library/b:1"]);
        assert_eq!(rows[0].status, Status::Kept);
        assert_eq!(rows[1].status, Status::Added);
        assert_eq!(next.base["a:1"].digest, digest('1'));
        assert_eq!(next.base["b:1"].locked, "2026-11-27");

        let (rows, _) = lock(&bases, &next, &LockMode::Check, "x", &now).expect("checks");
        assert_eq!(
            rows[0].status,
            Status::Moved {
                locked: digest('1')
            }
        );
        assert_eq!(rows[1].status, Status::Unchanged);

        let (rows, updated) = lock(
            &bases,
            &next,
            &LockMode::Update(vec!["python".into()]),
            "2026-11-28",
            &now,
        )
        .expect("updates");
        assert_eq!(rows[0].status, Status::Updated { was: digest('1') });
        assert_eq!(rows[1].status, Status::Kept);
        assert_eq!(updated.base["a:1"].locked, "2026-11-28");
        // Unchanged pins keep the day they were locked.
        assert_eq!(updated.base["b:1"].locked, "2026-11-27");

        let error = lock(
            &bases,
            &next,
            &LockMode::Update(vec!["c:1".into()]),
            "x",
            &now,
        )
        .expect_err("not a base");
        assert!(error.to_string().contains("`c:1`"), "{error}");
        assert!(
            table(&rows).contains("updated (was sha256:111111111111)"),
            "{}",
            table(&rows)
        );
    }

    #[test]
    fn a_failed_question_fails_the_whole_lock() {
        let bases: BTreeMap<String, Vec<&'static str>> =
            [("a:1".to_string(), vec!["python-runtime"])]
                .into_iter()
                .collect();
        let failing = |r: &Reference| {
            Err(Error::Registry {
                reference: r.to_string(),
                problem: Box::new(crate::error::Problem::NotFound {
                    message: "manifest unknown".into(),
                }),
            })
        };
        assert!(lock(&bases, &Lockfile::default(), &LockMode::Add, "x", &failing).is_err());
    }
}
