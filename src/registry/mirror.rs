//! `imggen mirror --to REGISTRY`: every upstream image a profile needs, copied by digest into
//! the private registry under the names the profile's registry layout gives them, with skopeo.
//! A plan first (asking both registries, copying nothing), then the copies, each checked by
//! asking the destination what it now serves. Images already there by digest are skipped, so
//! running it again copies nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Problem, Result};
use crate::profile::Profile;
use crate::registry::client::{Client, Transport};
use crate::registry::reference::Reference;

/// What `mirror` was asked.
pub struct Request {
    /// The registry to fill; the profile's `corporate.registry` when not given.
    pub to: Option<String>,
    /// Where the upstream images are read from instead of their own registries (a registry
    /// that already mirrors them, or a stand-in for tests).
    pub from: Option<String>,
    /// Only these platforms (`linux/amd64`); all of an image's platforms when empty.
    pub platforms: Vec<String>,
    pub dry_run: bool,
}

/// One image to copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    /// As the profile names it.
    pub upstream: String,
    /// Where it is read, by digest.
    pub source: Reference,
    /// Where it goes, by tag.
    pub destination: Reference,
    /// What the destination's tag points at now, if anything.
    pub present: Option<String>,
}

impl Copy {
    /// The source's digest (every plan entry has one).
    pub fn digest(&self) -> &str {
        self.source.digest.as_deref().unwrap_or_default()
    }

    /// Already there by digest: nothing to do.
    pub fn done(&self) -> bool {
        self.present.as_deref() == Some(self.digest())
    }
}

/// The registry `mirror` fills: the one asked for, else the profile's.
pub fn destination(request: &Request, profile: &Profile) -> Result<String> {
    request
        .to
        .clone()
        .or_else(|| profile.corporate.registry.clone())
        .map(|r| r.trim_end_matches('/').to_string())
        .ok_or(Error::NoMirrorTarget)
}

/// Asks both registries about every upstream image; copies nothing.
pub fn plan<T: Transport>(
    profile: &Profile,
    request: &Request,
    client: &Client<T>,
) -> Result<Vec<Copy>> {
    let to = destination(request, profile)?;
    let layout = profile.corporate.registry_layout;
    let mut plan = Vec::new();
    for upstream in crate::registry::upstream::upstream_images(profile) {
        let mirrored = crate::pipeline::resolve::mirrored(&to, layout, &upstream);
        if mirrored == upstream {
            // Named under the registry already: nothing upstream to copy.
            continue;
        }
        let mut source = Reference::parse(&upstream);
        if let Some(from) = &request.from {
            source = source.moved_to(from.trim_end_matches('/'));
        }
        let digest = match &source.digest {
            Some(digest) => digest.clone(),
            None => client.digest(&source)?,
        };
        let destination = Reference::parse(&mirrored).without_digest();
        let present = if destination.tag.is_some() {
            match client.digest(&destination) {
                Ok(digest) => Some(digest),
                Err(Error::Registry { problem, .. })
                    if matches!(*problem, Problem::NotFound { .. }) =>
                {
                    None
                }
                Err(other) => return Err(other),
            }
        } else {
            None
        };
        plan.push(Copy {
            upstream,
            source: source.with_digest(&digest),
            destination,
            present,
        });
    }
    Ok(plan)
}

/// skopeo's arguments for one copy: TLS off only for a registry this machine runs without
/// it, the profile's CA certificates for the rest, a credentials file for each side.
pub fn skopeo_args(
    copy: &Copy,
    request: &Request,
    tls: (bool, bool),
    cert_dir: Option<&Path>,
    authfiles: (Option<&Path>, Option<&Path>),
    digestfile: &Path,
) -> Vec<String> {
    let mut args: Vec<String> = vec!["copy".into(), "--quiet".into()];
    match request.platforms.as_slice() {
        [] => args.extend(["--all".into(), "--preserve-digests".into()]),
        platforms => {
            for platform in platforms {
                let mut parts = platform.split('/');
                let (os, arch, variant) = (parts.next(), parts.next(), parts.next());
                args.extend(os.map(|os| format!("--override-os={os}")));
                args.extend(arch.map(|arch| format!("--override-arch={arch}")));
                args.extend(variant.map(|v| format!("--override-variant={v}")));
            }
        }
    }
    let sides = [("src", tls.0, authfiles.0), ("dest", tls.1, authfiles.1)];
    for (side, speaks_tls, authfile) in sides {
        if speaks_tls {
            if let Some(dir) = cert_dir {
                args.push(format!("--{side}-cert-dir={}", dir.display()));
            }
        } else {
            args.push(format!("--{side}-tls-verify=false"));
        }
        if let Some(file) = authfile {
            args.push(format!("--{side}-authfile={}", file.display()));
        }
    }
    args.push(format!("--digestfile={}", digestfile.display()));
    args.push(format!("docker://{}", copy.source.by_digest()));
    args.push(format!("docker://{}", copy.destination));
    args
}

/// Copies every entry of `plan` not done yet, and checks what the destination serves after.
/// Returns, per entry, the digest the destination serves (`None`: skipped, already there).
pub fn copy_all<T: Transport>(
    plan: &[Copy],
    request: &Request,
    client: &Client<T>,
    ca_certificates: &[Vec<u8>],
    log: &mut dyn FnMut(&str),
) -> Result<Vec<Option<String>>> {
    // Private: it may hold a login a credential helper gave (see `authfile`).
    let work = crate::output::files::private_dir("imggen-mirror")?;
    copy_in(plan, request, client, ca_certificates, work.path(), log)
}

/// The credentials file skopeo reads for `reference`'s side of a copy: when imggen has a login
/// for it, a file in the private `work` folder holding only that login, so skopeo acts as the
/// same user (it runs the helpers of `credHelpers` but not `credsStore`, and imggen may have
/// found the login in another of the login files); none for an anonymous registry. Each login's
/// file is written once (`written`, by the login's scope), however many copies use it.
fn authfile<T: Transport>(
    client: &Client<T>,
    reference: &Reference,
    work: &Path,
    written: &mut BTreeMap<String, PathBuf>,
) -> Result<Option<PathBuf>> {
    let Some(login) = client.login_for(reference)? else {
        return Ok(None);
    };
    if let Some(file) = written.get(&login.scope) {
        return Ok(Some(file.clone()));
    }
    let file = work.join(format!("login-{}.json", written.len()));
    crate::registry::client::write_login_file(&file, [&login])?;
    written.insert(login.scope, file.clone());
    Ok(Some(file))
}

/// The error of a failed write to `path` in the working folder.
fn write_failed(path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Write { path, source }
}

fn copy_in<T: Transport>(
    plan: &[Copy],
    request: &Request,
    client: &Client<T>,
    ca_certificates: &[Vec<u8>],
    work: &Path,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<Option<String>>> {
    // The working folder (and its certificate folder) made once, before the first copy.
    let cert_dir = work.join("certs");
    std::fs::create_dir_all(&cert_dir).map_err(write_failed(&cert_dir))?;
    for (index, pem) in ca_certificates.iter().enumerate() {
        let file = cert_dir.join(format!("corporate-{index}.crt"));
        std::fs::write(&file, pem).map_err(write_failed(&file))?;
    }
    let cert_dir = (!ca_certificates.is_empty()).then_some(cert_dir);
    let mut served = Vec::new();
    let mut logins = BTreeMap::new();
    for copy in plan {
        if copy.done() {
            served.push(None);
            continue;
        }
        log(&format!(
            "==> skopeo: copying {} to {}\n",
            copy.source, copy.destination
        ));
        let tls = (
            client.speaks_tls(&copy.source)?,
            client.speaks_tls(&copy.destination)?,
        );
        let digestfile = work.join("digest");
        let source_auth = authfile(client, &copy.source, work, &mut logins)?;
        let destination_auth = authfile(client, &copy.destination, work, &mut logins)?;
        let args = skopeo_args(
            copy,
            request,
            tls,
            cert_dir.as_deref(),
            (source_auth.as_deref(), destination_auth.as_deref()),
            &digestfile,
        );
        let output = Command::new("skopeo")
            .args(&args)
            .output()
            .map_err(|e| Error::Engine {
                program: "skopeo".into(),
                output: format!("{e} (install skopeo: `apt-get install skopeo`)"),
            })?;
        if !output.status.success() {
            return Err(Error::CopyFailed {
                source: copy.source.to_string(),
                destination: copy.destination.to_string(),
                output: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
        let written = std::fs::read_to_string(&digestfile)
            .map_err(|e| Error::read(&digestfile, e))?
            .trim()
            .to_string();
        let now = client.digest(&copy.destination)?;
        // The registry serves what skopeo wrote; copying every platform keeps the digest.
        let expected = if request.platforms.is_empty() {
            copy.digest().to_string()
        } else {
            written
        };
        if now != expected {
            return Err(Error::Registry {
                reference: copy.destination.to_string(),
                problem: Box::new(Problem::CopiedDifferently {
                    expected,
                    served: now,
                }),
            });
        }
        served.push(Some(now));
    }
    Ok(served)
}

/// The closing table: upstream, destination, digest, what happened.
pub fn table(plan: &[Copy], served: Option<&[Option<String>]>) -> String {
    let width = plan
        .iter()
        .map(|c| c.destination.to_string().len())
        .max()
        .unwrap_or(11)
        .max(11);
    let mut out = format!("{:<width$}  {:<19}  status\n", "destination", "digest");
    for (index, copy) in plan.iter().enumerate() {
        let status = match (copy.done(), served.map(|s| &s[index])) {
            (true, _) => "present".to_string(),
            (false, None) => match &copy.present {
                Some(other) => format!(
                    "to copy (replaces {})",
                    crate::registry::upstream::short(other)
                ),
                None => "to copy".to_string(),
            },
            (false, Some(_)) => "copied".to_string(),
        };
        out.push_str(&format!(
            "{:<width$}  {:<19}  {status}\n",
            copy.destination.to_string(),
            crate::registry::upstream::short(copy.digest())
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Selection, load};

    fn copy(present: Option<&str>) -> Copy {
        Copy {
            upstream: "python:3.11".into(),
            source: Reference::parse(
                "127.0.0.1:5000/library/python:3.11@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            ),
            destination: Reference::parse("reg.example:5443/library/python:3.11"),
            present: present.map(str::to_string),
        }
    }

    fn request(platforms: &[&str]) -> Request {
        Request {
            to: None,
            from: None,
            platforms: platforms.iter().map(|p| p.to_string()).collect(),
            dry_run: false,
        }
    }

    #[test]
    fn copies_by_digest_with_tls_only_where_the_registry_speaks_it() {
        let args = skopeo_args(
            &copy(None),
            &request(&[]),
            (false, true),
            Some(Path::new("/tmp/certs")),
            (
                Some(Path::new("/home/u/.docker/config.json")),
                Some(Path::new("/tmp/w/dest-auth.json")),
            ),
            Path::new("/tmp/digest"),
        );
        assert_eq!(
            args,
            [
                "copy",
                "--quiet",
                "--all",
                "--preserve-digests",
                "--src-tls-verify=false",
                "--src-authfile=/home/u/.docker/config.json",
                "--dest-cert-dir=/tmp/certs",
                "--dest-authfile=/tmp/w/dest-auth.json",
                "--digestfile=/tmp/digest",
                "docker://127.0.0.1:5000/library/python@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "docker://reg.example:5443/library/python:3.11",
            ]
        );
        let one = skopeo_args(
            &copy(None),
            &request(&["linux/arm64/v8"]),
            (true, true),
            None,
            (None, None),
            Path::new("d"),
        );
        assert_eq!(
            &one[2..5],
            [
                "--override-os=linux",
                "--override-arch=arm64",
                "--override-variant=v8"
            ]
        );
        assert!(!one.iter().any(|a| a == "--all"));
    }

    #[test]
    fn the_table_says_what_is_there_and_what_will_be_copied() {
        let there = copy(Some(
            "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ));
        assert!(there.done());
        let other = copy(Some(
            "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        ));
        let table = table(&[there, other, copy(None)], None);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[1].ends_with("present"), "{table}");
        assert!(
            lines[2].ends_with("to copy (replaces sha256:bbbbbbbbbbbb)"),
            "{table}"
        );
        assert!(lines[3].ends_with("to copy"), "{table}");
    }

    #[test]
    fn the_destination_is_the_profiles_registry_unless_given() {
        let profile = load(&Selection::of("corporate-hardened"))
            .expect("loads")
            .profile;
        assert_eq!(
            destination(&request(&[]), &profile).expect("the profile's"),
            profile.corporate.registry.clone().expect("set")
        );
        let plain = load(&Selection::of("debian-prebuilt"))
            .expect("loads")
            .profile;
        assert!(destination(&request(&[]), &plain).is_err());
    }
}
