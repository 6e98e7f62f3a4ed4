//! The resolved profile: the typed profile plus everything derived from it that templates use
//! (package manager, final image references, the files the profile names, read and checked).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Reason, Result, Warning};
use crate::profile::Stack;
use crate::profile::model::{Profile, RegistryLayout};
use crate::registry::lock::{Lockfile, Table};
use crate::role::{ROLES, Upstream};

/// A file the profile names, read into memory, with the name it gets in a build context.
#[derive(Debug, Clone)]
pub struct ProfileFile {
    pub name: String,
    pub contents: Vec<u8>,
}

/// One image: where it comes from and what the platform's `.env` points at.
#[derive(Debug, Clone, Serialize)]
pub struct Image {
    /// As the profile names it.
    pub upstream: String,
    /// With the registry prefix and digest applied: what a `FROM` line uses.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The name imggen's Dockerfile builds, when the profile gives one.
    pub built: Option<String>,
    /// The value the platform's `.env` gets.
    pub env: String,
    /// Whether `env` differs from the platform's default for this image.
    pub customised: bool,
}

#[derive(Debug, Serialize)]
struct Meta<'a> {
    title: String,
    chain: &'a [String],
    sets: Vec<String>,
}

/// A role as templates see it: the table's facts, this profile's image and service names.
#[derive(Debug, Serialize)]
struct RoleView<'a> {
    name: &'static str,
    key: &'static str,
    title: &'static str,
    env: &'static str,
    /// The platform's prebuilt switch for this image, if it has one (`Role::prebuilt_env`).
    prebuilt_env: Option<&'static str>,
    builds: bool,
    /// Whether this render includes the role's pack, so its build context exists.
    rendered: bool,
    /// The compose services that run the image, as this profile names them.
    services: Vec<&'a str>,
    /// The platform folders whose `.env` holds `env`.
    projects: &'static [&'static str],
    /// The role's entry of `images`, shared with it (Tera's serializer takes a value as it is).
    image: tera::Value,
}

/// Every role's view; `images` is the context's `images`, already Tera's value.
fn role_views<'a>(profile: &'a Profile, images: &tera::Value) -> Vec<RoleView<'a>> {
    let images = images.as_map().expect("the images are a table");
    ROLES
        .iter()
        .map(|role| RoleView {
            name: role.name,
            key: role.key,
            title: role.title,
            env: role.env,
            prebuilt_env: role.prebuilt_env,
            builds: role.builds,
            rendered: role.builds && profile.packs.iter().any(|p| p == role.name),
            services: role
                .services
                .iter()
                .map(|s| profile.compose.service(s))
                .collect(),
            projects: role.projects,
            image: images
                .get(&tera::value::Key::Str(role.key))
                .expect("every role has an image")
                .clone(),
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct Pkg {
    manager: &'static str,
}

pub struct Resolved<'a> {
    pub stack: &'a Stack,
    pub context: tera::Context,
    /// Files by group (`ca_certificates`, `krb5_conf`, `requirements`).
    pub files: BTreeMap<&'static str, Vec<ProfileFile>>,
    /// What the user should hear about, which does not stop the render.
    pub warnings: Vec<Warning>,
}

/// `stack` resolved; `lock` pins its base images and the images it pushed.
pub fn resolve<'a>(stack: &'a Stack, lock: &Lockfile) -> Result<Resolved<'a>> {
    resolve_named(stack, lock, named_files(stack))
}

/// [`resolve`] with the files `stack` names already read ([`named_files`]): a caller that
/// needs them first (`check`, whose digest of a render's inputs holds them) and the render
/// then see the same bytes. An error reading them is reported after the profile's own.
pub fn resolve_named<'a>(
    stack: &'a Stack,
    lock: &Lockfile,
    named: Result<NamedFiles>,
) -> Result<Resolved<'a>> {
    crate::pipeline::validate::check(stack)?;
    let profile = &stack.profile;
    let images = images(profile, lock);
    let (files, mut warnings) = named?;
    warnings.extend(unbuilt_knobs(stack, &images));
    let major = postgres_major(stack)?;
    let mut context = tera::Context::new();
    context.insert("profile", profile);
    context.insert(
        "meta",
        &Meta {
            title: stack.title(),
            chain: &stack.chain,
            sets: stack.sets.iter().map(|s| s.path.join(".")).collect(),
        },
    );
    context.insert(
        "pkg",
        &Pkg {
            manager: profile.distro.manager(),
        },
    );
    // The images once as Tera's value: each role's view shares its entry.
    let images = tera::Value::from_serializable(&images);
    context.insert("roles", &role_views(profile, &images));
    context.insert_value("images", images);
    context.insert("postgres_major", &major);
    // The proxy as build arguments: the same list `imggen build` passes.
    context.insert("build_args", &build_args(profile));
    let names: BTreeMap<&str, Vec<&str>> = files
        .iter()
        .map(|(group, list)| (*group, list.iter().map(|f| f.name.as_str()).collect()))
        .collect();
    context.insert("files", &names);
    Ok(Resolved {
        stack,
        context,
        files,
        warnings,
    })
}

/// A warning for each role whose own knobs the profile sets but whose image it does not build
/// (no tag): the platform runs that image as it is, and the knobs reach nothing it runs.
fn unbuilt_knobs(stack: &Stack, images: &BTreeMap<&'static str, Image>) -> Vec<Warning> {
    let profile = &stack.profile;
    ROLES
        .iter()
        .filter(|role| profile.tag(role).is_none())
        .filter_map(|role| {
            let section = role.section?;
            let knobs = profile.build_only_knobs(role);
            let first = knobs.first()?;
            Some(Warning::KnobsNotBuilt {
                location: stack.layers.label_within(&[section, first]),
                title: role.title,
                knobs: knobs.iter().map(|k| format!("{section}.{k}")).collect(),
                runs: images
                    .get(role.key)
                    .map(|i| i.env.clone())
                    .unwrap_or_default(),
                tag_key: profile.tag_key(role).join("."),
            })
        })
        .collect()
}

/// Every role's image, by role key: the upstream reference (registry prefix and digest applied),
/// what imggen builds, and what the platform's `.env` gets. A base image without a digest of
/// its own gets the one `lock` pinned for its reference; a built image `lock` says was pushed
/// is what `.env` points at, by digest.
pub fn images(profile: &Profile, lock: &Lockfile) -> BTreeMap<&'static str, Image> {
    let pushed = |tag: &String| match lock.digest(Table::Pushed, tag) {
        Some(digest) => format!("{tag}@{digest}"),
        None => tag.clone(),
    };
    let mut map: BTreeMap<&'static str, Image> = BTreeMap::new();
    // Table order puts a role before every role that says it is `SameAs` it.
    for role in &ROLES {
        let built = profile.tag(role).map(String::from);
        let own = profile.images.get(role.key);
        let (upstream, digest, default) = match (role.upstream, own) {
            (Upstream::Image(default), _) => (
                own.cloned().unwrap_or_else(|| default.to_string()),
                profile.digests.get(role.key),
                default.to_string(),
            ),
            (Upstream::SameAs(other), Some(own)) => (
                own.clone(),
                profile.digests.get(role.key),
                platform_default(other),
            ),
            (Upstream::SameAs(other), None) => {
                // The platform's default: this role runs in the other role's image.
                let mut same = map[other].clone();
                if let Some(tag) = built {
                    same.customised = tag != platform_default(other);
                    same.env = pushed(&tag);
                    same.built = Some(tag);
                } else {
                    same.built = None;
                }
                map.insert(role.key, same);
                continue;
            }
        };
        let reference = reference(profile, &upstream, digest, lock);
        let env = built.as_ref().map_or_else(|| reference.clone(), pushed);
        map.insert(
            role.key,
            Image {
                upstream,
                customised: env != default,
                reference,
                built,
                env,
            },
        );
    }
    map
}

/// Where `upstream` lives in `registry`, by `layout`; once: an image already there stays.
pub fn mirrored(registry: &str, layout: RegistryLayout, upstream: &str) -> String {
    if upstream.starts_with(&format!("{registry}/")) {
        return upstream.to_string();
    }
    if layout == RegistryLayout::Prefix {
        return format!("{registry}/{upstream}");
    }
    // Docker Hub's official images under `library/`, other registries' hosts dropped.
    crate::registry::reference::Reference::parse(upstream)
        .moved_to(registry)
        .to_string()
}

/// The platform's default image for the role with `key`.
fn platform_default(key: &str) -> String {
    let role = crate::role::by_key(key).expect("`SameAs` names a role of the table");
    crate::role::upstream_image(role).to_string()
}

/// `upstream` with the registry prefix applied: what `imggen lock` pins.
pub fn unpinned(profile: &Profile, upstream: &str) -> String {
    let c = &profile.corporate;
    match c.registry.as_deref() {
        Some(registry) => mirrored(registry.trim_end_matches('/'), c.registry_layout, upstream),
        None => upstream.to_string(),
    }
}

/// `upstream` with the registry prefix and digest (the profile's, else the lock's) applied:
/// what a `FROM` line uses.
fn reference(
    profile: &Profile,
    upstream: &str,
    digest: Option<&String>,
    lock: &Lockfile,
) -> String {
    let r = unpinned(profile, upstream);
    if r.contains('@') {
        return r;
    }
    match digest
        .map(String::as_str)
        .or_else(|| lock.digest(Table::Base, &r))
    {
        Some(digest) => format!("{r}@{digest}"),
        None => r,
    }
}

/// Proxy settings, passed as build arguments (predefined in Docker, so never stored).
pub fn build_args(profile: &Profile) -> Vec<(String, String)> {
    let c = &profile.corporate;
    [
        ("http_proxy", &c.http_proxy),
        ("https_proxy", &c.https_proxy),
        ("no_proxy", &c.no_proxy),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.clone().map(|v| (key.to_string(), v)))
    .collect()
}

/// The PostgreSQL major version: as set, or read from the image tag (`postgres:17.5-alpine`).
fn postgres_major(stack: &Stack) -> Result<u32> {
    let profile = &stack.profile;
    if let Some(major) = profile.postgres.major {
        return Ok(major);
    }
    let image = &profile.images.get("postgres").cloned().unwrap_or_default();
    let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or_default();
    let digits: String = tag.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().map_err(|_| {
        Error::invalid(
            stack.layers.label(&["images", "postgres"]),
            "images.postgres",
            image,
            Reason::NoPostgresMajor,
        )
    })
}

/// A CA file holds PEM `CERTIFICATE` blocks that parse as X.509, and nothing else: a private
/// key next to a certificate would be copied into every image. Returns the blocks (1-based)
/// whose certificate has expired, with the date it did.
fn certificates_only(contents: &[u8]) -> std::result::Result<Vec<(usize, String)>, Reason> {
    let mut count = 0;
    let mut expired = Vec::new();
    for (index, block) in x509_parser::pem::Pem::iter_from_buffer(contents).enumerate() {
        let Ok(block) = block else {
            return Err(Reason::BadPem { block: index + 1 });
        };
        if block.label != "CERTIFICATE" {
            return Err(Reason::NotACertificateBlock { label: block.label });
        }
        let Ok(certificate) = block.parse_x509() else {
            return Err(Reason::BadCertificate { block: index + 1 });
        };
        let not_after = certificate.validity().not_after;
        if not_after.timestamp() < now() {
            let date = not_after.to_datetime().date();
            expired.push((index + 1, date.to_string()));
        }
        count += 1;
    }
    if count == 0 {
        return Err(Reason::NotPemCertificate);
    }
    Ok(expired)
}

/// Seconds since the Unix epoch; the clock only decides warnings, never output.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The files a profile names, by group, and warnings about them.
pub type NamedFiles = (BTreeMap<&'static str, Vec<ProfileFile>>, Vec<Warning>);

/// The files `stack` names (CA certificates, `krb5.conf`, requirements), read from inside its
/// project, by group, and the warnings they earn.
pub fn named_files(stack: &Stack) -> Result<NamedFiles> {
    let p = &stack.profile;
    let mut groups = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut certs = Vec::new();
    for cert in &p.corporate.ca_certificates {
        let key = ["corporate", "ca_certificates"];
        let (path, contents) = read_one(stack, &key, cert)?;
        match certificates_only(&contents) {
            Err(reason) => return Err(file_error(stack, &key, path, reason)),
            Ok(expired) => {
                for (block, not_after) in expired {
                    warnings.push(Warning::CertificateExpired {
                        location: stack.layers.label(&key),
                        path: path.clone(),
                        block,
                        not_after,
                    });
                }
            }
        }
        // update-ca-certificates only picks up files ending in `.crt`.
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("ca")
            .to_string();
        let name = format!("{stem}.crt");
        if certs.iter().any(|f: &ProfileFile| f.name == name) {
            return Err(file_error(stack, &key, path, Reason::SameCertificateName));
        }
        if crate::output::manifest::is_reserved(&name) {
            return Err(file_error(stack, &key, path, Reason::ReservedFileName));
        }
        certs.push(ProfileFile { name, contents });
    }
    groups.insert("ca_certificates", certs);
    let single = |key: [&str; 2], value: &Option<String>, name: &str| -> Result<Vec<ProfileFile>> {
        match value {
            Some(v) => {
                let (_, contents) = read_one(stack, &key, v)?;
                Ok(vec![ProfileFile {
                    name: name.into(),
                    contents,
                }])
            }
            None => Ok(Vec::new()),
        }
    };
    groups.insert(
        "krb5_conf",
        single(
            ["kerberos", "krb5_conf"],
            &p.kerberos.krb5_conf,
            "krb5.conf",
        )?,
    );
    groups.insert(
        "requirements",
        single(
            ["python", "requirements"],
            &p.python.requirements,
            "requirements.txt",
        )?,
    );
    Ok((groups, warnings))
}

fn read_one(stack: &Stack, key: &[&str], value: &str) -> Result<(PathBuf, Vec<u8>)> {
    let (path, builtin) = stack.layers.resolve_path(key, value);
    if builtin {
        return match crate::profile::source::builtin_file(&path) {
            Some(contents) => Ok((path, contents.to_vec())),
            None => Err(file_error(stack, key, path, Reason::NotShipped)),
        };
    }
    let profile_dir = stack
        .layers
        .origin(key)
        .map_or_else(|| PathBuf::from("."), |o| o.base_dir().to_path_buf());
    match crate::output::confine::read(&path, &profile_dir) {
        Ok(contents) => Ok((path, contents)),
        Err(reason) => Err(file_error(stack, key, path, reason)),
    }
}

fn file_error(stack: &Stack, key: &[&str], path: PathBuf, reason: Reason) -> Error {
    Error::ProfileFile {
        location: stack.layers.label(key),
        key: key.join("."),
        path,
        reason: Box::new(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_layout_puts_official_images_under_library_and_drops_other_registries() {
        let platform =
            |upstream| mirrored("art.corp/docker-remote", RegistryLayout::Platform, upstream);
        assert_eq!(
            platform("postgres:17.5-alpine"),
            "art.corp/docker-remote/library/postgres:17.5-alpine"
        );
        assert_eq!(
            platform("opensearchproject/opensearch:2.19.2"),
            "art.corp/docker-remote/opensearchproject/opensearch:2.19.2"
        );
        assert_eq!(
            platform("docker.getcollate.io/openmetadata/server:1.10.1"),
            "art.corp/docker-remote/openmetadata/server:1.10.1"
        );
        assert_eq!(
            platform("docker.io/library/python:3.11"),
            "art.corp/docker-remote/library/python:3.11"
        );
        assert_eq!(
            platform("docker.io/python:3.11"),
            "art.corp/docker-remote/library/python:3.11"
        );
        // Applied once: an image already in the registry stays as it is.
        assert_eq!(
            platform("art.corp/docker-remote/library/python:3.11"),
            "art.corp/docker-remote/library/python:3.11"
        );
        let prefix = |upstream| mirrored("reg:5000/hub", RegistryLayout::Prefix, upstream);
        assert_eq!(
            prefix("postgres:17.5-alpine"),
            "reg:5000/hub/postgres:17.5-alpine"
        );
        assert_eq!(
            prefix("reg:5000/hub/postgres:17"),
            "reg:5000/hub/postgres:17"
        );
    }
}
