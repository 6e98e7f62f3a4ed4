//! Checks on profile values that parse but could still break or inject into generated files.
//!
//! Identifiers that end up in shell or SQL are checked against what the field allows; quoting
//! in the templates is the second line of defence, never the only one.

use crate::error::{Error, Reason, Result};
use crate::profile::Stack;
use crate::profile::model::{AuthMethod, Mode};
use crate::role::ROLES;

/// What a field may contain: one of the shapes error.rs words.
use crate::error::Shape as Rule;

// The shapes are worded in error.rs; what each accepts is decided here.
impl Rule {
    /// `None` when the value is fine, otherwise why not.
    fn check(self, value: &str) -> Option<Reason> {
        fn lower_alnum(c: char) -> bool {
            c.is_ascii_lowercase() || c.is_ascii_digit()
        }
        let all = |allowed: fn(char) -> bool| value.chars().all(allowed);
        let ok = match self {
            Self::Image => return image_problem(value),
            Self::Registry => return registry_problem(value),
            Self::Digest => value.strip_prefix("sha256:").is_some_and(|hex| {
                hex.len() == 64
                    && hex
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            }),
            Self::Url => {
                (value.starts_with("http://") || value.starts_with("https://"))
                    && all(|c| c.is_ascii_graphic() && !"\"'`$\\<>{}|^".contains(c))
            }
            Self::OsPackage => {
                value.starts_with(|c: char| lower_alnum(c))
                    && all(|c| lower_alnum(c) || ".+-_:=~".contains(c))
            }
            Self::PipPackage => {
                value.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && all(|c| c.is_ascii_alphanumeric() || "._-[],<>=!~".contains(c))
            }
            Self::UserName => {
                value.len() <= 32
                    && value.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                    && all(|c| lower_alnum(c) || c == '_' || c == '-')
            }
            Self::SqlName => {
                value.len() <= 63
                    && value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && all(|c| c.is_ascii_alphanumeric() || c == '_')
            }
            Self::Extension => !value.is_empty() && all(|c| lower_alnum(c) || c == '_' || c == '-'),
            Self::EnvName => {
                value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && all(|c| c.is_ascii_alphanumeric() || c == '_')
            }
            Self::LabelKey => {
                value.starts_with(|c: char| lower_alnum(c))
                    && all(|c| lower_alnum(c) || ".-".contains(c))
            }
            Self::Text => !value.chars().any(|c| c.is_control()),
            Self::ComposeName => {
                value.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            }
            Self::AbsPath => {
                value.starts_with('/') && all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c))
            }
            Self::ConfKey => {
                value.starts_with(|c: char| c.is_ascii_lowercase())
                    && all(|c| lower_alnum(c) || c == '_' || c == '.')
            }
            Self::Platform => {
                let parts: Vec<&str> = value.split('/').collect();
                (2..=3).contains(&parts.len())
                    && parts
                        .iter()
                        .all(|p| !p.is_empty() && p.chars().all(|c| lower_alnum(c) || c == '_'))
            }
            Self::HbaToken => {
                !value.is_empty() && all(|c| c.is_ascii_alphanumeric() || "_.-/:+@,".contains(c))
            }
        };
        (!ok).then_some(Reason::Shape(self))
    }
}

/// Docker's reference grammar: `[host[:port]/]path[:tag][@digest]`, lowercase path components.
pub fn image_problem(value: &str) -> Option<Reason> {
    let (rest, digest) = match value.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (value, None),
    };
    if let Some(digest) = digest
        && Rule::Digest.check(digest).is_some()
    {
        return Some(Reason::MalformedDigest {
            digest: digest.to_string(),
        });
    }
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(colon) => (
            &rest[..last_slash + colon],
            Some(&rest[last_slash + colon + 1..]),
        ),
        None => (rest, None),
    };
    if tag == Some("") {
        return Some(Reason::EmptyTag);
    }
    if let Some(tag) = tag {
        let valid = !tag.is_empty()
            && tag.len() <= 128
            && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !valid {
            return Some(Reason::BadTag {
                tag: tag.to_string(),
            });
        }
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        if let Some(problem) = registry_problem(parts[0]) {
            return Some(problem);
        }
        parts.remove(0);
    }
    for part in parts {
        if !path_component_ok(part) {
            return Some(Reason::BadRepositoryPart {
                part: part.to_string(),
            });
        }
    }
    None
}

fn path_component_ok(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(&bytes[0]) || !alnum(&bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(&bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(&bytes[i]) {
            i += 1;
        }
        let sep = &part[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.chars().all(|c| c == '-')) {
            return false;
        }
    }
    true
}

/// `host[:port][/path]`.
fn registry_problem(value: &str) -> Option<Reason> {
    let (host_port, path) = value.split_once('/').unwrap_or((value, ""));
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, ""));
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let port_ok = port.is_empty() && !host_port.contains(':')
        || (!port.is_empty() && port.len() <= 5 && port.chars().all(|c| c.is_ascii_digit()));
    let path_ok = path.is_empty() || path.split('/').all(path_component_ok);
    if host_ok && port_ok && path_ok {
        None
    } else {
        Some(Reason::NotARegistry {
            value: value.to_string(),
        })
    }
}

struct Checker<'a> {
    stack: &'a Stack,
}

impl Checker<'_> {
    fn location(&self, key: &[&str]) -> String {
        self.stack
            .layers
            .origin(key)
            .map_or_else(|| crate::error::DEFAULTS.into(), |o| o.label.clone())
    }

    fn one(&self, key: &[&str], value: &str, rule: Rule) -> Result<()> {
        match rule.check(value) {
            None => Ok(()),
            Some(reason) => Err(Error::invalid(
                self.location(key),
                key.join("."),
                value,
                reason,
            )),
        }
    }

    /// A key of a free-form table (`labels`, `python.env`, ...): located by its own entry.
    fn map_key(&self, map: &[&str], key: &str, rule: Rule) -> Result<()> {
        match rule.check(key) {
            None => Ok(()),
            Some(reason) => {
                let entry: Vec<&str> = map.iter().copied().chain([key]).collect();
                Err(Error::InvalidKey {
                    location: self.location(&entry),
                    table: map.join("."),
                    key: key.to_string(),
                    reason: Box::new(reason),
                })
            }
        }
    }

    fn opt(&self, key: &[&str], value: &Option<String>, rule: Rule) -> Result<()> {
        value.as_deref().map_or(Ok(()), |v| self.one(key, v, rule))
    }

    /// A field of the `index`th table of an array of tables, named `list[index].field`.
    fn item(
        &self,
        list: &[&str],
        index: usize,
        field: &str,
        value: &str,
        rule: Rule,
    ) -> Result<()> {
        match rule.check(value) {
            None => Ok(()),
            Some(reason) => {
                let key = format!("{}[{index}].{field}", list.join("."));
                Err(Error::invalid(self.location(list), key, value, reason))
            }
        }
    }

    fn each<'v>(
        &self,
        key: &[&str],
        values: impl IntoIterator<Item = &'v String>,
        rule: Rule,
    ) -> Result<()> {
        values.into_iter().try_for_each(|v| self.one(key, v, rule))
    }
}

/// Whether a variable or label name says it holds a secret.
pub fn names_a_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
    ]
    .iter()
    .any(|word| upper.contains(word))
}

/// `scheme://user:password@host`: credentials that would end up in an image or `.env`.
fn has_credentials(url: &str) -> bool {
    url.split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
        .is_some_and(|authority| authority.contains('@'))
}

impl Checker<'_> {
    fn no_secret(&self, key: &[&str], name: &str, value: &str) -> Result<()> {
        if names_a_secret(name) && !value.is_empty() {
            return Err(Error::invalid(
                self.location(key),
                key.join("."),
                value,
                Reason::Secret,
            ));
        }
        Ok(())
    }

    fn no_credentials(&self, key: &[&str], value: &Option<String>) -> Result<()> {
        match value {
            Some(url) if has_credentials(url) => Err(Error::invalid(
                self.location(key),
                key.join("."),
                url,
                Reason::Secret,
            )),
            _ => Ok(()),
        }
    }
}

pub fn check(stack: &Stack) -> Result<()> {
    let c = Checker { stack };
    let p = &stack.profile;
    for (key, image) in p.images.iter() {
        c.one(&["images", key], image, Rule::Image)?;
    }
    for (key, digest) in p.digests.iter() {
        c.one(&["digests", key], digest, Rule::Digest)?;
    }
    c.each(&["platforms"], &p.platforms, Rule::Platform)?;
    for role in &ROLES {
        if let Some(tag) = p.section_tag(role) {
            let section = role.section.expect("a section tag has a section");
            c.one(&[section, "tag"], tag, Rule::Image)?;
            if p.tags.get(role.key).is_some() {
                return Err(Error::invalid(
                    c.location(&["tags", role.key]),
                    format!("tags.{}", role.key),
                    p.tags.get(role.key).cloned().unwrap_or_default(),
                    Reason::TagSetTwice { section },
                ));
            }
        }
    }
    for (key, tag) in p.tags.iter() {
        c.one(&["tags", key], tag, Rule::Image)?;
    }
    for (key, value) in &p.labels {
        c.map_key(&["labels"], key, Rule::LabelKey)?;
        c.one(&["labels", key], value, Rule::Text)?;
        c.no_secret(&["labels", key], key, value)?;
    }
    let corp = &p.corporate;
    c.opt(&["corporate", "registry"], &corp.registry, Rule::Registry)?;
    c.opt(
        &["corporate", "pip_index_url"],
        &corp.pip_index_url,
        Rule::Url,
    )?;
    c.opt(
        &["corporate", "pip_trusted_host"],
        &corp.pip_trusted_host,
        Rule::HbaToken,
    )?;
    c.each(
        &["corporate", "apk_repositories"],
        &corp.apk_repositories,
        Rule::Url,
    )?;
    c.opt(&["corporate", "apt_mirror"], &corp.apt_mirror, Rule::Url)?;
    c.opt(&["corporate", "http_proxy"], &corp.http_proxy, Rule::Url)?;
    c.opt(&["corporate", "https_proxy"], &corp.https_proxy, Rule::Url)?;
    c.opt(&["corporate", "no_proxy"], &corp.no_proxy, Rule::HbaToken)?;
    c.no_credentials(&["corporate", "pip_index_url"], &corp.pip_index_url)?;
    c.no_credentials(&["corporate", "http_proxy"], &corp.http_proxy)?;
    c.no_credentials(&["corporate", "https_proxy"], &corp.https_proxy)?;
    c.no_credentials(&["corporate", "apt_mirror"], &corp.apt_mirror)?;
    for repo in &corp.apk_repositories {
        c.no_credentials(&["corporate", "apk_repositories"], &Some(repo.clone()))?;
    }
    let py = &p.python;
    c.each(
        &["python", "system_packages"],
        &py.system_packages,
        Rule::OsPackage,
    )?;
    c.each(
        &["python", "pip_packages"],
        &py.pip_packages,
        Rule::PipPackage,
    )?;
    for (key, value) in &py.env {
        c.map_key(&["python", "env"], key, Rule::EnvName)?;
        c.one(&["python", "env", key], value, Rule::Text)?;
        c.no_secret(&["python", "env", key], key, value)?;
    }
    c.one(&["python", "workdir"], &py.workdir, Rule::AbsPath)?;
    c.one(&["python", "user", "name"], &py.user.name, Rule::UserName)?;
    c.one(
        &["kerberos", "user", "name"],
        &p.kerberos.user.name,
        Rule::UserName,
    )?;
    let pg = &p.postgres;
    c.each(&["postgres", "packages"], &pg.packages, Rule::OsPackage)?;
    for key in pg.settings.keys() {
        c.map_key(&["postgres", "settings"], key, Rule::ConfKey)?;
    }
    for (index, rule) in pg.hba.iter().enumerate() {
        let fields = [
            ("type", &rule.kind),
            ("database", &rule.database),
            ("user", &rule.user),
            ("method", &rule.method),
        ];
        let address = rule.address.iter().map(|a| ("address", a));
        for (field, value) in fields.into_iter().chain(address) {
            c.item(&["postgres", "hba"], index, field, value, Rule::HbaToken)?;
        }
    }
    for (index, db) in pg.databases.iter().enumerate() {
        let key = ["postgres", "databases"];
        c.item(&key, index, "name", &db.name, Rule::SqlName)?;
        c.item(&key, index, "owner", &db.owner, Rule::SqlName)?;
        match &db.password_env {
            Some(env) => c.item(&key, index, "password_env", env, Rule::EnvName)?,
            None if pg.auth_method != Some(AuthMethod::Trust) => {
                return Err(Error::invalid(
                    c.location(&key),
                    format!("postgres.databases[{index}].password_env"),
                    "",
                    Reason::OwnerWithoutPassword,
                ));
            }
            None => {}
        }
        for extension in &db.extensions {
            c.item(&key, index, "extensions", extension, Rule::Extension)?;
        }
    }
    let compose = &p.compose;
    for (key, value) in [
        ("postgres_service", &compose.postgres_service),
        (
            "openmetadata_migrate_service",
            &compose.openmetadata_migrate_service,
        ),
        (
            "openmetadata_server_service",
            &compose.openmetadata_server_service,
        ),
        ("opensearch_service", &compose.opensearch_service),
        ("kerberos_test_service", &compose.kerberos_test_service),
        ("kerberos_cache_volume", &compose.kerberos_cache_volume),
        ("network", &compose.network),
    ] {
        c.one(&["compose", key], value, Rule::ComposeName)?;
    }
    c.one(
        &["compose", "kerberos_test_script"],
        &compose.kerberos_test_script,
        Rule::Text,
    )?;
    if pg.auth_method == Some(AuthMethod::Trust) && !p.development {
        return Err(Error::invalid(
            c.location(&["postgres", "auth_method"]),
            "postgres.auth_method",
            "trust",
            Reason::TrustOutsideDevelopment,
        ));
    }
    if p.hardening.non_root && p.mode == Mode::Layered {
        return Err(Error::invalid(
            c.location(&["hardening", "non_root"]),
            "hardening.non_root",
            "true",
            Reason::NonRootInLayeredMode,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_image_references() {
        for image in [
            "python:3.11-alpine",
            "postgres:17.5-bookworm",
            "docker.getcollate.io/openmetadata/server:1.10.1",
            "opensearchproject/opensearch:2.19.2",
            "localhost:5000/my_org/py__thon:1",
            "registry.corp.example:8443/mirror/python:3.11-slim-bookworm",
            &format!("python:3.11@sha256:{}", "a".repeat(64)),
        ] {
            assert_eq!(image_problem(image), None, "{image}");
        }
    }

    #[test]
    fn refuses_broken_image_references() {
        for image in [
            "Python:3.11",
            "python: 3.11",
            "python:",
            "python:3.11@sha256:abc",
            "my org/python",
            "python:-x",
            "-python",
            "a//b",
            "python:3.11\nRUN id",
        ] {
            assert!(image_problem(image).is_some(), "{image}");
        }
    }

    #[test]
    fn registry_is_host_port_path() {
        assert_eq!(registry_problem("registry.corp.example"), None);
        assert_eq!(
            registry_problem("registry.corp.example:5000/mirror/hub"),
            None
        );
        for bad in [
            "https://registry",
            "reg istry",
            "host:port",
            "host/Upper",
            "host:",
        ] {
            assert!(registry_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn secrets_are_recognised_by_name_and_in_urls() {
        assert!(names_a_secret("DB_PASSWORD"));
        assert!(names_a_secret("github_token"));
        assert!(!names_a_secret("PYTHONPATH"));
        assert!(has_credentials("https://user:pw@pypi.corp.example/simple"));
        assert!(!has_credentials("https://pypi.corp.example/simple?x=a@b"));
    }

    #[test]
    fn identifiers_refuse_shell_and_sql_metacharacters() {
        for value in ["a b", "a;b", "$(id)", "a'b", "a\"b", "a\nb"] {
            assert!(Rule::SqlName.check(value).is_some(), "{value}");
            assert!(Rule::OsPackage.check(value).is_some(), "{value}");
            assert!(Rule::UserName.check(value).is_some(), "{value}");
            assert!(Rule::PipPackage.check(value).is_some(), "{value}");
        }
        assert!(
            Rule::PipPackage
                .check("apache-airflow-providers-ssh>=3.0")
                .is_none()
        );
        assert!(Rule::SqlName.check("openmetadata_db").is_none());
        assert!(Rule::Extension.check("uuid-ossp").is_none());
    }
}
