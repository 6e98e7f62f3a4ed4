//! Checks on profile values that parse but could still break or inject into generated files.
//!
//! Identifiers that end up in shell or SQL are checked against what the field allows; quoting
//! in the templates is the second line of defence, never the only one.

use crate::error::{Error, Reason, Result};
use crate::profile::Stack;
use crate::profile::layer::Origin;
use crate::profile::model::{AuthMethod, Distro, Mode, SettingValue};
use crate::role::ROLES;

/// What a field may contain: one of the shapes error.rs words.
pub use crate::error::Shape as Rule;

// The shapes are worded in error.rs; what each accepts is decided here.
impl Rule {
    /// `None` when the value is fine, otherwise why not.
    pub fn check(self, value: &str) -> Option<Reason> {
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
                authority_ok(value) && all(|c| c.is_ascii_graphic() && !"\"'`$\\<>{}|^".contains(c))
            }
            Self::EnvUrl => authority_ok(value) && all(crate::pipeline::filters::is_plain),
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
            Self::Extension => {
                value.starts_with(|c: char| c.is_ascii_lowercase())
                    && all(|c| lower_alnum(c) || c == '_' || c == '-')
            }
            Self::EnvName => {
                value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && all(|c| c.is_ascii_alphanumeric() || c == '_')
            }
            Self::LabelKey => {
                value.starts_with(|c: char| lower_alnum(c))
                    && all(|c| lower_alnum(c) || ".-".contains(c))
            }
            Self::Text => !value.chars().any(|c| c.is_control()),
            Self::BindPath => {
                // Relative to the override, which sits in a project folder of the checkout:
                // `..` leads at most to the checkout itself.
                let parts: Vec<&str> = value.split('/').collect();
                let stays = parts
                    .iter()
                    .enumerate()
                    .all(|(i, part)| !part.is_empty() && (*part != ".." || i == 0));
                !value.starts_with(['~', '/']) && stays && Self::Text.check(value).is_none()
            }
            Self::ComposeName => {
                value.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            }
            Self::AbsPath => {
                let normal = value == "/"
                    || value[1..]
                        .split('/')
                        .all(|part| !part.is_empty() && part != "." && part != "..");
                value.starts_with('/')
                    && normal
                    && all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c))
            }
            Self::ConfKey => {
                value.starts_with(|c: char| c.is_ascii_lowercase())
                    && all(|c| lower_alnum(c) || c == '_' || c == '.')
            }
            Self::Date => {
                let digits = value.chars().filter(char::is_ascii_digit).count();
                value.len() == 10
                    && digits == 8
                    && value
                        .char_indices()
                        .all(|(i, c)| (c == '-') == (i == 4 || i == 7))
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

/// An `http://` or `https://` URL whose authority (`[user@]host[:port]`) names a host and, when
/// it has a port, a port from 1 to 65535 (a proxy at `:99999` was taken, and every download
/// through it failed).
fn authority_ok(value: &str) -> bool {
    let Some(rest) = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.strip_prefix('[') {
        // An IPv6 address: `[::1]:3128`.
        Some(v6) => match v6.split_once(']') {
            Some((address, after))
                if !address.is_empty() && (after.is_empty() || after.starts_with(':')) =>
            {
                (address, after.strip_prefix(':'))
            }
            _ => return false,
        },
        None => match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    let port_ok = port.is_none_or(|port| {
        port.chars().all(|c| c.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n))
    });
    !host.is_empty() && port_ok
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
        || (port.chars().all(|c| c.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n)));
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
        self.stack.layers.label(key)
    }

    /// Whether `key` was set by a later layer than `other` (a default is the earliest of all).
    fn set_later(&self, key: &[&str], other: &[&str]) -> bool {
        let layer = |key: &[&str]| self.stack.layers.origin(key).map_or(0, Origin::layer);
        layer(key) > layer(other)
    }

    /// Where `field` of the `index`th element of the list at `key` was set.
    fn location_at(&self, key: &[&str], index: usize, field: &str) -> String {
        self.stack.layers.label_at(key, index, field)
    }

    fn one(&self, key: &[&str], value: &str, rule: Rule) -> Result<()> {
        rule.check(value)
            .map_or(Ok(()), |reason| self.refuse(key, value, reason))
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
        let key = format!("{}[{index}].{field}", list.join("."));
        rule.check(value).map_or(Ok(()), |reason| {
            self.refuse_at(list, index, field, key, value, reason)
        })
    }

    fn each<'v>(
        &self,
        key: &[&str],
        values: impl IntoIterator<Item = &'v String>,
        rule: Rule,
    ) -> Result<()> {
        for (index, value) in values.into_iter().enumerate() {
            if let Some(reason) = rule.check(value) {
                return self.refuse_at(key, index, "", key.join("."), value, reason);
            }
        }
        Ok(())
    }
}

/// Whether a variable, label or setting name says it holds a secret.
pub fn names_a_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    // Names that mention a secret but hold none: a path to one, or how passwords are hashed.
    if upper.ends_with("_FILE") || upper == "PASSWORD_ENCRYPTION" {
        return false;
    }
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

/// A URL query parameter whose name says it carries a credential (`?token=…`, `&sig=…`).
fn credential_parameter(url: &str) -> Option<String> {
    let (_, query) = url.split_once("://")?.1.split_once('?')?;
    let query = query.split('#').next().unwrap_or_default();
    query
        .split(['&', ';'])
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            (!value.is_empty()).then_some(name)
        })
        .find(|name| {
            let lower = name.to_ascii_lowercase();
            names_a_secret(name)
                || [
                    "key",
                    "auth",
                    "sig",
                    "signature",
                    "x-amz-signature",
                    "x-goog-signature",
                ]
                .contains(&lower.as_str())
        })
        .map(str::to_string)
}

/// A value shaped like a well-known kind of credential, whatever its name.
fn credential_shape(value: &str) -> Option<&'static str> {
    const PREFIXES: [(&str, &str); 8] = [
        ("ghp_", "a GitHub token"),
        ("gho_", "a GitHub token"),
        ("ghs_", "a GitHub token"),
        ("github_pat_", "a GitHub token"),
        ("glpat-", "a GitLab token"),
        ("xoxb-", "a Slack token"),
        ("xoxp-", "a Slack token"),
        ("sk_live_", "a Stripe key"),
    ];
    if value.contains("PRIVATE KEY-----") {
        return Some("a private key");
    }
    let words = value.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    for word in words {
        if let Some((_, what)) = PREFIXES
            .iter()
            .find(|(prefix, _)| word.starts_with(prefix) && word.len() >= prefix.len() + 16)
        {
            return Some(what);
        }
        let aws = word.len() == 20
            && (word.starts_with("AKIA") || word.starts_with("ASIA"))
            && word
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if aws {
            return Some("an AWS access key");
        }
    }
    None
}

/// The one secret policy, for every free-form entry of a profile: a value under a name that
/// says "secret", credentials in a URL, a credential-carrying query parameter, or a value shaped
/// like a known credential. `name` is the entry's key where it has one (labels, env, settings).
pub fn secret_problem(name: Option<&str>, value: &str) -> Option<Reason> {
    if name.is_some_and(names_a_secret) && !value.is_empty() {
        return Some(Reason::Secret);
    }
    if has_credentials(value) {
        return Some(Reason::Secret);
    }
    if let Some(parameter) = credential_parameter(value) {
        return Some(Reason::SecretQuery { parameter });
    }
    credential_shape(value).map(|what| Reason::SecretLike { what })
}

impl Checker<'_> {
    /// Applies [`secret_problem`] to one entry, located by `key`.
    fn no_secret(&self, key: &[&str], name: Option<&str>, value: &str) -> Result<()> {
        secret_problem(name, value).map_or(Ok(()), |reason| self.refuse(key, value, reason))
    }

    fn in_range(
        &self,
        key: &[&str],
        value: i128,
        range: std::ops::RangeInclusive<i128>,
        reason: Reason,
    ) -> Result<()> {
        if range.contains(&value) {
            Ok(())
        } else {
            self.refuse(key, value.to_string(), reason)
        }
    }

    /// The value at `key` is refused, located where it was set.
    fn refuse(&self, key: &[&str], value: impl Into<String>, reason: Reason) -> Result<()> {
        Err(Error::invalid(
            self.location(key),
            key.join("."),
            value,
            reason,
        ))
    }

    /// `field` of the `index`th element of the list at `list` is refused, located at its own
    /// line; `shown` is how the message names it.
    fn refuse_at(
        &self,
        list: &[&str],
        index: usize,
        field: &str,
        shown: String,
        value: impl Into<String>,
        reason: Reason,
    ) -> Result<()> {
        Err(Error::invalid(
            self.location_at(list, index, field),
            shown,
            value,
            reason,
        ))
    }
}

/// Whether a hardened image would hand a system folder to its user: `/`, a folder the system
/// shares, or anything inside one the system owns outright.
fn system_folder(path: &str) -> bool {
    const SHARED: [&str; 16] = [
        "/",
        "/home",
        "/mnt",
        "/opt",
        "/root",
        "/run",
        "/srv",
        "/tmp",
        "/usr",
        "/usr/bin",
        "/usr/lib",
        "/usr/local",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/share",
        "/var",
    ];
    const OWNED: [&str; 8] = [
        "/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/sbin", "/sys",
    ];
    SHARED.contains(&path)
        || OWNED.iter().any(|root| {
            path == *root || path.starts_with(&format!("{root}/")) || path.starts_with("/lib64")
        })
}

/// The distro an image's name says it is built on, if it says one.
pub fn distro_named(image: &str) -> Option<Distro> {
    let name = image.split('@').next().unwrap_or(image);
    if name.contains("alpine") {
        return Some(Distro::Alpine);
    }
    [
        "debian", "bookworm", "bullseye", "buster", "trixie", "slim", "ubuntu",
    ]
    .iter()
    .any(|word| name.contains(word))
    .then_some(Distro::Debian)
}

pub(crate) fn reserved_role(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("pg_")
        || [
            "public",
            "none",
            "current_user",
            "current_role",
            "session_user",
        ]
        .contains(&lower.as_str())
}

/// Checks every value of a resolved profile stack against its field's rule, in the order of
/// the profile's sections; the first problem is the error.
pub fn check(stack: &Stack) -> Result<()> {
    let c = Checker { stack };
    images(&c)?;
    labels(&c)?;
    corporate(&c)?;
    c.no_secret(&["description"], None, &stack.profile.description)?;
    python(&c)?;
    users(&c)?;
    postgres_settings(&c)?;
    postgres_databases(&c)?;
    compose(&c)?;
    modes(&c)
}

/// Image references, digests, the distro they name, platforms and the tags images are built as.
fn images(c: &Checker<'_>) -> Result<()> {
    let p = &c.stack.profile;
    for (key, image) in p.images.iter() {
        c.one(&["images", key], image, Rule::Image)?;
    }
    for (key, digest) in p.digests.iter() {
        c.one(&["digests", key], digest, Rule::Digest)?;
        if p.images.get(key).is_some_and(|image| image.contains('@')) {
            let role = key.to_string();
            c.refuse(&["digests", key], digest, Reason::DigestTwice { role })?;
        }
    }
    for role in ROLES.iter().filter(|r| r.follows_distro) {
        let Some(image) = p.images.get(role.key) else {
            continue;
        };
        if let Some(named) = distro_named(image).filter(|d| *d != p.distro) {
            // The line to blame is the later of the two: a `distro` a child sets contradicts the
            // image it inherits, not the other way round.
            if c.set_later(&["distro"], &["images", role.key]) {
                let reason = Reason::DistroContradictsImage {
                    key: role.key,
                    image: image.clone(),
                    at: c.location(&["images", role.key]),
                    named: named.name(),
                };
                c.refuse(&["distro"], p.distro.name(), reason)?;
            }
            let reason = Reason::DistroContradicts {
                named: named.name(),
                distro: p.distro.name(),
            };
            c.refuse(&["images", role.key], image, reason)?;
        }
    }
    c.each(&["platforms"], &p.platforms, Rule::Platform)?;
    for role in &ROLES {
        if let Some(tag) = p.section_tag(role) {
            let section = role.section.expect("a section tag has a section");
            c.one(&[section, "tag"], tag, Rule::Image)?;
            if let Some(twice) = p.tags.get(role.key) {
                return c.refuse(&["tags", role.key], twice, Reason::TagSetTwice { section });
            }
        }
    }
    for (key, tag) in p.tags.iter() {
        c.one(&["tags", key], tag, Rule::Image)?;
        if crate::role::by_key(key).is_some_and(|role| !role.builds) {
            let key = key.to_string();
            c.refuse(
                &["tags", &key],
                tag,
                Reason::TagOfUnbuiltRole { key: key.clone() },
            )?;
        }
    }
    Ok(())
}

/// OCI labels: keys, values, and no secret in either.
fn labels(c: &Checker<'_>) -> Result<()> {
    let p = &c.stack.profile;
    for (key, value) in &p.labels {
        c.map_key(&["labels"], key, Rule::LabelKey)?;
        c.one(&["labels", key], value, Rule::Text)?;
        c.no_secret(&["labels", key], Some(key), value)?;
    }
    Ok(())
}

/// The corporate network: registry, indexes, mirrors and proxies, none with a secret in it.
fn corporate(c: &Checker<'_>) -> Result<()> {
    let p = &c.stack.profile;
    let corp = &p.corporate;
    c.opt(&["corporate", "registry"], &corp.registry, Rule::Registry)?;
    c.opt(
        &["corporate", "pip_index_url"],
        &corp.pip_index_url,
        Rule::EnvUrl,
    )?;
    c.opt(
        &["corporate", "odbc_driver_url"],
        &corp.odbc_driver_url,
        Rule::EnvUrl,
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
    for (key, url) in [
        ("pip_index_url", &corp.pip_index_url),
        ("odbc_driver_url", &corp.odbc_driver_url),
        ("http_proxy", &corp.http_proxy),
        ("https_proxy", &corp.https_proxy),
        ("apt_mirror", &corp.apt_mirror),
    ] {
        if let Some(url) = url {
            c.no_secret(&["corporate", key], None, url)?;
        }
    }
    for (index, repo) in corp.apk_repositories.iter().enumerate() {
        if let Some(reason) = secret_problem(None, repo) {
            let key = ["corporate", "apk_repositories"];
            return c.refuse_at(&key, index, "", key.join("."), repo, reason);
        }
    }
    Ok(())
}

/// The Python image: its packages, environment and working folder.
fn python(c: &Checker<'_>) -> Result<()> {
    let p = &c.stack.profile;
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
        c.no_secret(&["python", "env", key], Some(key), value)?;
    }
    c.one(&["python", "workdir"], &py.workdir, Rule::AbsPath)?;
    if p.hardening.non_root && system_folder(&py.workdir) {
        c.refuse(&["python", "workdir"], &py.workdir, Reason::SystemWorkdir)?;
    }
    Ok(())
}

/// The non-root users of the Python and Kerberos images.
fn users(c: &Checker<'_>) -> Result<()> {
    let p = &c.stack.profile;
    let py = &p.python;
    for (section, user) in [("python", &py.user), ("kerberos", &p.kerberos.user)] {
        c.one(&[section, "user", "name"], &user.name, Rule::UserName)?;
        for (field, id) in [("uid", user.uid), ("gid", user.gid)] {
            let key = [section, "user", field];
            if id == 0 && p.hardening.non_root {
                c.refuse(&key, "0", Reason::RootId)?;
            }
            c.in_range(&key, id.into(), 0..=2_147_483_647, Reason::IdOutOfRange)?;
        }
    }
    Ok(())
}

/// PostgreSQL's packages, `postgresql.conf` settings and `pg_hba.conf` rules.
fn postgres_settings(c: &Checker<'_>) -> Result<()> {
    let p = &c.stack.profile;
    let pg = &p.postgres;
    c.each(&["postgres", "packages"], &pg.packages, Rule::OsPackage)?;
    for (name, value) in &pg.settings {
        c.map_key(&["postgres", "settings"], name, Rule::ConfKey)?;
        let key = ["postgres", "settings", name.as_str()];
        match value {
            SettingValue::Text(text) => {
                c.one(&key, text, Rule::Text)?;
                c.no_secret(&key, Some(name), text)?;
            }
            SettingValue::Float(number) if !number.is_finite() => {
                c.refuse(&key, number.to_string(), Reason::NotFinite)?;
            }
            SettingValue::Int(port) if name == "port" => {
                c.in_range(&key, (*port).into(), 1..=65535, Reason::PortOutOfRange)?;
            }
            SettingValue::Bool(_) | SettingValue::Int(_) | SettingValue::Float(_) => {}
        }
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
    Ok(())
}

/// PostgreSQL's databases: names, owners, their passwords' variables and extensions.
fn postgres_databases(c: &Checker<'_>) -> Result<()> {
    let pg = &c.stack.profile.postgres;
    let mut passwords: std::collections::BTreeMap<&str, Option<&String>> = Default::default();
    for (index, db) in pg.databases.iter().enumerate() {
        let key = ["postgres", "databases"];
        c.item(&key, index, "name", &db.name, Rule::SqlName)?;
        if let Some(owner) = &db.owner {
            c.item(&key, index, "owner", owner, Rule::SqlName)?;
        }
        let field = |name: &str| format!("postgres.databases[{index}].{name}");
        let refuse = |name: &str, value: &str, reason| {
            c.refuse_at(&key, index, name, field(name), value, reason)
        };
        if pg.databases[..index]
            .iter()
            .any(|other| other.name == db.name)
        {
            return refuse("name", &db.name, Reason::DuplicateDatabase);
        }
        if ["template0", "template1"].contains(&db.name.as_str()) {
            return refuse("name", &db.name, Reason::ReservedDatabase);
        }
        let Some(owner) = &db.owner else {
            // The init scripts' own user owns it: no role to create, no password to name.
            if let Some(env) = &db.password_env {
                return refuse("password_env", env, Reason::PasswordWithoutOwner);
            }
            for extension in &db.extensions {
                c.item(&key, index, "extensions", extension, Rule::Extension)?;
            }
            continue;
        };
        if reserved_role(owner) {
            return refuse("owner", owner, Reason::ReservedRole);
        }
        match passwords.insert(owner, db.password_env.as_ref()) {
            Some(first) if first != db.password_env.as_ref() => {
                let first = first.map_or("(none)", String::as_str).to_string();
                let value = db.password_env.clone().unwrap_or_default();
                return refuse("password_env", &value, Reason::OwnerPasswordTwice { first });
            }
            _ => {}
        }
        match &db.password_env {
            Some(env) => c.item(&key, index, "password_env", env, Rule::EnvName)?,
            None if pg.auth_method != Some(AuthMethod::Trust) => {
                // Located at the owner it is missing for.
                let shown = field("password_env");
                return c.refuse_at(
                    &key,
                    index,
                    "owner",
                    shown,
                    "",
                    Reason::OwnerWithoutPassword,
                );
            }
            None => {}
        }
        for extension in &db.extensions {
            c.item(&key, index, "extensions", extension, Rule::Extension)?;
        }
    }
    Ok(())
}

/// The platform's compose names the override uses: one name per service.
fn compose(c: &Checker<'_>) -> Result<()> {
    let p = &c.stack.profile;
    let compose = &p.compose;
    let services = [
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
    ];
    let others = [
        ("kerberos_cache_volume", &compose.kerberos_cache_volume),
        ("network", &compose.network),
    ];
    for (key, value) in services.iter().chain(&others) {
        c.one(&["compose", key], value, Rule::ComposeName)?;
    }
    // The services are keys of one mapping in the override (volumes and networks have their own).
    for (index, (key, name)) in services.iter().enumerate() {
        if let Some((other, _)) = services[..index].iter().find(|(_, n)| n == name) {
            let other = format!("compose.{other}");
            c.refuse(
                &["compose", key],
                name.as_str(),
                Reason::DuplicateComposeName { other },
            )?;
        }
    }
    c.one(
        &["compose", "kerberos_test_script"],
        &compose.kerberos_test_script,
        Rule::BindPath,
    )?;
    Ok(())
}

/// What the profile's modes rule out: `trust` outside development, non-root in layered mode.
fn modes(c: &Checker<'_>) -> Result<()> {
    let p = &c.stack.profile;
    let pg = &p.postgres;
    if pg.auth_method == Some(AuthMethod::Trust) && !p.development {
        return c.refuse(
            &["postgres", "auth_method"],
            "trust",
            Reason::TrustOutsideDevelopment,
        );
    }
    if p.hardening.non_root && p.mode == Mode::Layered {
        return c.refuse(
            &["hardening", "non_root"],
            "true",
            Reason::NonRootInLayeredMode,
        );
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

    #[test]
    fn one_secret_policy_for_names_urls_and_shapes() {
        let secret = |name: Option<&str>, value: &str| secret_problem(name, value).is_some();
        assert!(secret(Some("custom.password"), "hunter2"));
        assert!(!secret(Some("password_encryption"), "scram-sha-256"));
        assert!(!secret(Some("POSTGRES_PASSWORD_FILE"), "/run/secrets/pg"));
        assert!(!secret(Some("DB_PASSWORD"), ""));
        assert!(secret(None, "https://pypi.example/simple?token=abc"));
        assert!(secret(None, "https://x.example/a?x=1&X-Amz-Signature=f00"));
        assert!(!secret(None, "https://x.example/a?token="));
        assert!(!secret(None, "https://deb.example/debian?arch=amd64"));
        assert!(secret(None, "note ghp_0123456789abcdefghij"));
        assert!(!secret(None, "ghp_short"));
        assert!(secret(None, "AKIAIOSFODNN7EXAMPLE"));
        assert!(secret(None, "-----BEGIN PRIVATE KEY-----"));
        assert!(!secret(
            Some("org.opencontainers.image.title"),
            "Platform images"
        ));
    }

    #[test]
    fn hardened_work_folders_are_not_system_folders() {
        for bad in [
            "/",
            "/etc",
            "/etc/app",
            "/usr",
            "/usr/local",
            "/tmp",
            "/lib64/x",
            "/proc/1",
        ] {
            assert!(system_folder(bad), "{bad}");
        }
        for good in [
            "/app",
            "/srv/app",
            "/home/appuser",
            "/usr/src/app",
            "/opt/app",
            "/var/lib/app",
        ] {
            assert!(!system_folder(good), "{good}");
        }
    }

    #[test]
    fn work_folders_are_normalised_absolute_paths() {
        for bad in ["app", "/app/", "/app//x", "/app/../etc", "/./app", "/a b"] {
            assert!(Rule::AbsPath.check(bad).is_some(), "{bad}");
        }
        for good in ["/", "/app", "/srv/my-app_1.0"] {
            assert!(Rule::AbsPath.check(good).is_none(), "{good}");
        }
    }

    #[test]
    fn image_names_say_their_distro_or_nothing() {
        assert_eq!(distro_named("python:3.11-alpine"), Some(Distro::Alpine));
        assert_eq!(distro_named("postgres:17.5-bookworm"), Some(Distro::Debian));
        assert_eq!(distro_named("python:3.11-slim"), Some(Distro::Debian));
        assert_eq!(distro_named("myorg/python:3.11-custom"), None);
    }

    #[test]
    fn reserved_role_names() {
        for name in ["public", "PUBLIC", "pg_monitor", "current_user", "none"] {
            assert!(reserved_role(name), "{name}");
        }
        assert!(!reserved_role("airflow_user"));
    }
}
