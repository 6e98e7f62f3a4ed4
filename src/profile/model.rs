//! The typed profile: every knob a profile file may set, with the platform's defaults.
//!
//! Every field has a default, so any single profile file (or `--set`) is a valid partial
//! profile on its own; that is what lets each layer be checked, with its own line numbers,
//! before the layers are merged.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::role::{Role, RoleMap};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Profile {
    /// One line shown by `imggen list profiles`.
    pub description: String,
    /// The profile this one builds on (a built-in name, a name in `./profiles/`, or a path).
    pub extends: Option<String>,
    /// Marks a profile for local development only; required for `trust` PostgreSQL auth.
    pub development: bool,
    pub mode: Mode,
    pub distro: Distro,
    /// Template packs this profile renders, in order.
    pub packs: Vec<String>,
    /// Folders of template packs (relative to this file) used ahead of the built-in ones.
    pub pack_dirs: Vec<String>,
    /// Platforms the bake file builds for (`linux/amd64`, `linux/arm64`); empty: the builder's.
    pub platforms: Vec<String>,
    /// The upstream images, one per role (`python`, `kerberos_test`, `postgres`, …), as the
    /// platform's compose files name them; `kerberos_test` unset means the Python image.
    #[serde(deserialize_with = "RoleMap::deserialize_over_defaults")]
    #[schemars(with = "RoleMap")]
    pub images: RoleMap,
    /// Optional digest pins (`sha256:<64 hex>`), one per role.
    pub digests: RoleMap,
    /// The name imggen builds a role's image as, for roles without a section of their own
    /// (`python.tag`, `kerberos.tag` and `postgres.tag` are those roles' spelling).
    pub tags: RoleMap,
    pub labels: BTreeMap<String, String>,
    pub corporate: Corporate,
    pub hardening: Hardening,
    pub build: Build,
    pub python: Python,
    pub kerberos: Kerberos,
    pub postgres: Postgres,
    pub compose: Compose,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            description: String::new(),
            extends: None,
            development: false,
            mode: Mode::default(),
            distro: Distro::default(),
            packs: default_packs(),
            pack_dirs: Vec::new(),
            platforms: Vec::new(),
            images: RoleMap::upstream_defaults(),
            digests: RoleMap::default(),
            tags: RoleMap::default(),
            labels: BTreeMap::new(),
            corporate: Corporate::default(),
            hardening: Hardening::default(),
            build: Build::default(),
            python: Python::default(),
            kerberos: Kerberos::default(),
            postgres: Postgres::default(),
            compose: Compose::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Layered,
    Prebuilt,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Distro {
    #[default]
    Alpine,
    Debian,
}

impl Distro {
    /// As a profile spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Alpine => "alpine",
            Self::Debian => "debian",
        }
    }

    /// The package manager of the family: what templates install with, and what the platform
    /// must pick for the image.
    pub fn manager(self) -> &'static str {
        match self {
            Self::Alpine => "apk",
            Self::Debian => "apt",
        }
    }
}

/// Corporate network settings: trust, registries, mirrors, proxies.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Corporate {
    /// PEM files (paths relative to the profile file) installed into every image's trust store.
    pub ca_certificates: Vec<String>,
    /// A `host[:port][/path]` every upstream image is pulled through (see `registry_layout`).
    pub registry: Option<String>,
    /// How upstream names map into `registry`.
    pub registry_layout: RegistryLayout,
    pub pip_index_url: Option<String>,
    pub pip_trusted_host: Option<String>,
    /// Where the platform downloads Microsoft's ODBC driver packages for SQL Server
    /// (`ODBC_DRIVER_URL`): a mirror of Microsoft's download folder.
    pub odbc_driver_url: Option<String>,
    /// Replaces the Alpine package repositories (`/etc/apk/repositories`).
    pub apk_repositories: Vec<String>,
    /// Replaces `http://deb.debian.org` in the apt sources.
    pub apt_mirror: Option<String>,
    /// Build-time proxy; passed as build arguments, never baked into an image.
    pub http_proxy: Option<String>,
    pub https_proxy: Option<String>,
    pub no_proxy: Option<String>,
}

/// How an upstream image's name maps into the corporate registry. An image already under the
/// registry is left as it is in both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RegistryLayout {
    /// The platform's documented layout (a remote repository per upstream registry): Docker Hub
    /// official images under `library/` (`reg/library/postgres:17.5-alpine`), other registries'
    /// hosts dropped (`reg/openmetadata/server:1.10.1`).
    #[default]
    Platform,
    /// The upstream name as it is, after the registry (`reg/postgres:17.5-alpine`).
    Prefix,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Hardening {
    /// Run the Python and Kerberos test images as their non-root `user`.
    pub non_root: bool,
    /// Remove package caches and `.pyc` files in the same layer that made them.
    pub clean_caches: bool,
    /// Add `HEALTHCHECK`s where the image has something to check.
    pub healthchecks: bool,
}

/// How the images are built.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Build {
    /// Keep package downloads (apt, apk, pip) in BuildKit cache mounts
    /// (`RUN --mount=type=cache`): rebuilds reuse them and no cache lands in the image. Needs
    /// BuildKit, buildah or podman; the classic `docker build` refuses such Dockerfiles.
    pub cache_mounts: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

impl User {
    fn named(name: &str) -> Self {
        Self {
            name: name.into(),
            uid: 1000,
            gid: 1000,
        }
    }
}

impl Default for User {
    fn default() -> Self {
        Self::named("appuser")
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Python {
    /// Name of the built image (e.g. `myorg/python:3.11-custom`); unset: the upstream image is used as is.
    pub tag: Option<String>,
    /// gcc and headers for building wheels.
    pub toolchain: bool,
    /// pandas, numpy, requests, sqlalchemy, psycopg2-binary (and scipy, scikit-learn on Debian).
    pub data_science: bool,
    /// libkrb5-dev, git, the Airflow postgres/http/ssh providers and the Airflow `PYTHONPATH`.
    pub airflow: bool,
    /// Remove the toolchain again after the pip install (keeps the image small).
    pub remove_build_deps: bool,
    pub system_packages: Vec<String>,
    pub pip_packages: Vec<String>,
    /// A requirements file (path relative to the profile file) installed with pip.
    pub requirements: Option<String>,
    pub env: BTreeMap<String, String>,
    pub workdir: String,
    pub user: User,
}

impl Default for Python {
    fn default() -> Self {
        Self {
            tag: None,
            toolchain: false,
            data_science: false,
            airflow: false,
            remove_build_deps: true,
            system_packages: Vec::new(),
            pip_packages: Vec::new(),
            requirements: None,
            env: BTreeMap::new(),
            workdir: "/app".into(),
            user: User::named("appuser"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Kerberos {
    pub tag: Option<String>,
    /// A `krb5.conf` (path relative to the profile file) copied to `/etc/krb5.conf`.
    pub krb5_conf: Option<String>,
    /// Run `klist -V` while building a prebuilt image, so a missing krb5 fails the build.
    pub build_check: bool,
    pub user: User,
}

impl Default for Kerberos {
    fn default() -> Self {
        Self {
            tag: None,
            krb5_conf: None,
            build_check: true,
            user: User::named("testuser"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum AuthMethod {
    #[serde(rename = "trust")]
    Trust,
    #[serde(rename = "scram-sha-256")]
    ScramSha256,
    #[serde(rename = "md5")]
    Md5,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Postgres {
    pub tag: Option<String>,
    /// PostgreSQL major version; unset: read from the image tag (`postgres:17.5-alpine` → 17).
    pub major: Option<u32>,
    /// `POSTGRES_HOST_AUTH_METHOD`; `trust` only in a `development = true` profile.
    pub auth_method: Option<AuthMethod>,
    /// Install PL/Python (`plpython3u`); Debian only.
    pub plpython3: bool,
    /// Extra OS packages for the PostgreSQL image.
    pub packages: Vec<String>,
    /// `postgresql.conf` settings appended to the image's sample configuration.
    pub settings: BTreeMap<String, SettingValue>,
    /// `pg_hba.conf` rules; when given they replace the default rules.
    pub hba: Vec<HbaRule>,
    /// Databases the init script creates, with their owners.
    pub databases: Vec<Database>,
}

/// A `postgresql.conf` value: written as a number, a boolean, or a quoted string.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum SettingValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

/// Read as plain data, so that an array or a table is named as such (serde's `untagged`
/// said only that the value "did not match any variant of untagged enum SettingValue").
impl<'de> Deserialize<'de> for SettingValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use crate::data::Data;
        match Data::deserialize(deserializer)? {
            Data::Bool(b) => Ok(Self::Bool(b)),
            Data::Int(i) => Ok(Self::Int(i)),
            Data::Float(f) => Ok(Self::Float(f)),
            Data::Text(t) => Ok(Self::Text(t)),
            other => Err(serde::de::Error::custom(format_args!(
                "expected a number, a boolean or a string (one postgresql.conf value), found {}",
                other.kind()
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HbaRule {
    #[serde(rename = "type")]
    pub kind: String,
    pub database: String,
    pub user: String,
    #[serde(default)]
    pub address: Option<String>,
    pub method: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub name: String,
    /// The role that owns it, created if missing. Unset: the database belongs to the user the
    /// init scripts run as (`POSTGRES_USER`), as `CREATE DATABASE name;` makes it.
    #[serde(default)]
    pub owner: Option<String>,
    /// Name of the environment variable holding the owner's password (never the password).
    /// Unset: the owner has no password (development profiles only, with `trust` auth).
    #[serde(default)]
    pub password_env: Option<String>,
    #[serde(default)]
    pub extensions: Vec<String>,
}

/// Names in the platform's compose files, for teams that renamed them.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Compose {
    pub postgres_service: String,
    pub openmetadata_migrate_service: String,
    pub openmetadata_server_service: String,
    pub opensearch_service: String,
    pub kerberos_test_service: String,
    pub kerberos_cache_volume: String,
    pub network: String,
    /// Host path of the Kerberos test script, relative to the compose override.
    pub kerberos_test_script: String,
}

impl Default for Compose {
    fn default() -> Self {
        Self {
            postgres_service: "platform-postgres".into(),
            openmetadata_migrate_service: "openmetadata-migrate".into(),
            openmetadata_server_service: "openmetadata-server".into(),
            opensearch_service: "openmetadata-opensearch".into(),
            kerberos_test_service: "kerberos-test".into(),
            kerberos_cache_volume: "platform_kerberos_cache".into(),
            network: "platform_network".into(),
            kerberos_test_script: "./kerberos-test/test.py".into(),
        }
    }
}

impl Profile {
    /// The name imggen builds `role`'s image as: its section's `tag`, else `tags.<key>`.
    pub fn tag(&self, role: &Role) -> Option<&str> {
        self.section_tag(role)
            .or_else(|| self.tags.get(role.key))
            .map(String::as_str)
    }

    /// `tag` in the role's own section (`python.tag`), where it has one.
    pub fn section_tag(&self, role: &Role) -> Option<&String> {
        match role.section? {
            "python" => self.python.tag.as_ref(),
            "kerberos" => self.kerberos.tag.as_ref(),
            "postgres" => self.postgres.tag.as_ref(),
            other => unreachable!("role section `{other}` has no tag in the model"),
        }
    }

    /// The knobs of `role`'s own section (`postgres.settings`, `python.pip_packages`, ...) set
    /// to other than their defaults that only the image imggen builds carries: all of them but
    /// `tag`, `postgres.auth_method` (which the platform's `.env` takes) and `postgres.major`
    /// (which a render needs when the image's tag does not say it).
    pub fn build_only_knobs(&self, role: &Role) -> Vec<String> {
        match role.section {
            Some("python") => changed(&self.python, &[]),
            Some("kerberos") => changed(&self.kerberos, &[]),
            Some("postgres") => changed(&self.postgres, &["auth_method", "major"]),
            _ => Vec::new(),
        }
    }

    /// The profile key that holds `role`'s tag: `python.tag`, or `tags.<key>`.
    pub fn tag_key(&self, role: &Role) -> [&'static str; 2] {
        match role.section {
            Some(section) if self.tags.get(role.key).is_none() => [section, "tag"],
            _ => ["tags", role.key],
        }
    }
}

impl Compose {
    /// The name this profile gives the platform's compose service `platform_name`.
    pub fn service(&self, platform_name: &str) -> &str {
        match platform_name {
            "platform-postgres" => &self.postgres_service,
            "openmetadata-migrate" => &self.openmetadata_migrate_service,
            "openmetadata-server" => &self.openmetadata_server_service,
            "openmetadata-opensearch" => &self.opensearch_service,
            other => unreachable!("compose service `{other}` has no name in the model"),
        }
    }
}

/// The fields of `section` whose values differ from its default's, in their names' order, but
/// `tag` and those in `reaching`.
fn changed<T: Serialize + Default + PartialEq>(section: &T, reaching: &[&str]) -> Vec<String> {
    if *section == T::default() {
        return Vec::new();
    }
    let fields = |section: &T| match serde_json::to_value(section) {
        Ok(serde_json::Value::Object(fields)) => fields,
        _ => serde_json::Map::new(),
    };
    let default = fields(&T::default());
    fields(section)
        .into_iter()
        .filter(|(name, value)| {
            name != "tag" && !reaching.contains(&name.as_str()) && default.get(name) != Some(value)
        })
        .map(|(name, _)| name)
        .collect()
}

/// The packs a profile renders when it names none: the roles the table marks, then compose.
fn default_packs() -> Vec<String> {
    crate::role::ROLES
        .iter()
        .filter(|r| r.by_default)
        .map(|r| r.name)
        .chain(["compose"])
        .map(String::from)
        .collect()
}
