//! The resolved profile: the typed profile plus everything derived from it that templates use
//! (package manager, final image references, the files the profile names, read and checked).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::profile::Stack;
use crate::profile::model::{Distro, Profile};

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

#[derive(Debug, Serialize)]
struct Pkg {
    manager: &'static str,
}

pub struct Resolved<'a> {
    pub stack: &'a Stack,
    pub context: tera::Context,
    /// Files by group (`ca_certificates`, `krb5_conf`, `requirements`).
    pub files: BTreeMap<&'static str, Vec<ProfileFile>>,
}

pub fn resolve(stack: &Stack) -> Result<Resolved<'_>> {
    crate::validate::check(stack)?;
    let profile = &stack.profile;
    let images = images(profile);
    let files = read_files(stack)?;
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
    let manager = match profile.distro {
        Distro::Alpine => "apk",
        Distro::Debian => "apt",
    };
    context.insert("pkg", &Pkg { manager });
    context.insert("images", &images);
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
    })
}

pub fn images(profile: &Profile) -> BTreeMap<&'static str, Image> {
    let defaults = crate::profile::model::Images::default();
    let i = &profile.images;
    let d = &profile.digests;
    let prefix = profile.corporate.registry.as_deref();
    let reference = |upstream: &str, digest: &Option<String>| {
        let mut r = match prefix {
            Some(prefix) => format!("{}/{upstream}", prefix.trim_end_matches('/')),
            None => upstream.to_string(),
        };
        if let Some(digest) = digest {
            r = format!("{r}@{digest}");
        }
        r
    };
    let image = |upstream: &str, digest: &Option<String>, built: &Option<String>, default: &str| {
        let reference = reference(upstream, digest);
        let env = built.clone().unwrap_or_else(|| reference.clone());
        Image {
            upstream: upstream.into(),
            customised: env != default,
            reference,
            built: built.clone(),
            env,
        }
    };
    let python = image(&i.python, &d.python, &profile.python.tag, &defaults.python);
    let kerberos_upstream = i.kerberos_test.clone().unwrap_or_else(|| i.python.clone());
    let kerberos_digest = if i.kerberos_test.is_some() {
        &d.kerberos_test
    } else {
        &d.python
    };
    let mut kerberos = image(
        &kerberos_upstream,
        kerberos_digest,
        &profile.kerberos.tag,
        &defaults.python,
    );
    if profile.kerberos.tag.is_none() && i.kerberos_test.is_none() {
        // The platform's default: the Kerberos test runs in whatever IMAGE_PYTHON is.
        kerberos.env = python.env.clone();
        kerberos.customised = python.customised;
    }
    let mut map = BTreeMap::new();
    map.insert("python", python);
    map.insert("kerberos_test", kerberos);
    map.insert(
        "postgres",
        image(
            &i.postgres,
            &d.postgres,
            &profile.postgres.tag,
            &defaults.postgres,
        ),
    );
    map.insert(
        "openmetadata_server",
        image(
            &i.openmetadata_server,
            &d.openmetadata_server,
            &None,
            &defaults.openmetadata_server,
        ),
    );
    map.insert(
        "opensearch",
        image(&i.opensearch, &d.opensearch, &None, &defaults.opensearch),
    );
    map
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
    let image = &profile.images.postgres;
    let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or_default();
    let digits: String = tag.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().map_err(|_| {
        let location = stack
            .layers
            .origin(&["images", "postgres"])
            .map(|o| o.label.clone());
        Error::invalid(
            location.unwrap_or_else(|| "built-in defaults".into()),
            "images.postgres",
            image,
            "its tag does not start with the PostgreSQL major version; set `postgres.major`",
        )
    })
}

fn read_files(stack: &Stack) -> Result<BTreeMap<&'static str, Vec<ProfileFile>>> {
    let p = &stack.profile;
    let mut groups = BTreeMap::new();
    let mut certs = Vec::new();
    for cert in &p.corporate.ca_certificates {
        let key = ["corporate", "ca_certificates"];
        let (path, contents) = read_one(stack, &key, cert)?;
        if !String::from_utf8_lossy(&contents).contains("-----BEGIN CERTIFICATE-----") {
            return Err(file_error(
                stack,
                &key,
                path,
                "is not a PEM certificate (no `-----BEGIN CERTIFICATE-----`)",
            ));
        }
        // update-ca-certificates only picks up files ending in `.crt`.
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("ca")
            .to_string();
        let name = format!("{stem}.crt");
        if certs.iter().any(|f: &ProfileFile| f.name == name) {
            return Err(file_error(
                stack,
                &key,
                path,
                "has the same file name as another certificate",
            ));
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
    Ok(groups)
}

fn read_one(stack: &Stack, key: &[&str], value: &str) -> Result<(PathBuf, Vec<u8>)> {
    let (path, builtin) = stack.layers.resolve_path(key, value);
    if builtin {
        return match crate::profile::source::builtin_file(&path) {
            Some(contents) => Ok((path, contents.to_vec())),
            None => Err(file_error(stack, key, path, "is not shipped with imggen")),
        };
    }
    match std::fs::read(&path) {
        Ok(contents) => Ok((path, contents)),
        Err(e) => {
            let reason = format!("cannot be read: {}", crate::error::io_reason(&e));
            Err(file_error(stack, key, path, &reason))
        }
    }
}

fn file_error(stack: &Stack, key: &[&str], path: PathBuf, reason: &str) -> Error {
    Error::ProfileFile {
        location: stack
            .layers
            .origin(key)
            .map_or_else(|| "--set".into(), |o| o.label.clone()),
        key: key.join("."),
        path,
        reason: reason.to_string(),
    }
}
