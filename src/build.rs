//! `imggen build`: the images a profile names, built from its rendered folder.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::engine::{Engine, Pushed};
use crate::error::Result;
use crate::profile::Profile;
use crate::role::Role;

/// One image to build: its folder in the output and its tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub folder: &'static str,
    pub tag: String,
}

/// The images the profile names a tag for, in table order; only `only`'s roles when given.
pub fn jobs(profile: &Profile, only: &[&'static Role]) -> Vec<Job> {
    crate::role::built()
        .filter(|role| only.is_empty() || only.iter().any(|o| std::ptr::eq(*o, *role)))
        .filter_map(|role| {
            profile.tag(role).map(|tag| Job {
                folder: role.name,
                tag: tag.to_string(),
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub job: Job,
    pub built: bool,
    /// `None` when not pushed.
    pub pushed: Option<Pushed>,
    pub took: Duration,
}

/// Builds (and pushes) each job in turn, announcing each with a one-line header on `log`.
pub fn run(
    engine: &mut dyn Engine,
    dir: &Path,
    jobs: &[Job],
    args: &[(String, String)],
    push: bool,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    for job in jobs {
        log(&format!(
            "==> {}: building {} as `{}`\n",
            engine.name(),
            job.folder,
            job.tag
        ));
        let started = Instant::now();
        let built = engine.build(&dir.join(job.folder), &job.tag, args)?;
        let pushed = if built && push {
            log(&format!("==> {}: pushing `{}`\n", engine.name(), job.tag));
            Some(engine.push(&job.tag)?)
        } else {
            None
        };
        outcomes.push(Outcome {
            job: job.clone(),
            built,
            pushed,
            took: started.elapsed(),
        });
    }
    Ok(outcomes)
}

impl Outcome {
    /// Whether everything asked of this image worked.
    pub fn ok(&self) -> bool {
        self.built && self.pushed.as_ref().is_none_or(|p| p.ok)
    }

    /// The digest the registry stored, when pushed.
    pub fn digest(&self) -> Option<&str> {
        self.pushed.as_ref().and_then(|p| p.digest.as_deref())
    }
}

/// The closing table: image, tag, result, duration; then each pushed image by digest.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut out = format!(
        "{:<16} {:<56} {:<14} {:>8}\n",
        "image", "tag", "result", "seconds"
    );
    for o in outcomes {
        let result = match (o.built, &o.pushed) {
            (false, _) => "FAILED",
            (true, Some(Pushed { ok: false, .. })) => "built, push FAILED",
            (true, Some(Pushed { ok: true, .. })) => "built, pushed",
            (true, None) => "built",
        };
        out.push_str(&format!(
            "{:<16} {:<56} {:<14} {:>8.1}\n",
            o.job.folder,
            o.job.tag,
            result,
            o.took.as_secs_f64()
        ));
    }
    for o in outcomes {
        if let Some(digest) = o.digest() {
            out.push_str(&format!("pushed {}@{digest}\n", o.job.tag));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Selection, load};

    /// Records what it was asked to do; fails the builds it is told to.
    #[derive(Default)]
    struct Fake {
        calls: Vec<String>,
        fail: Vec<&'static str>,
    }

    impl Engine for Fake {
        fn name(&self) -> &'static str {
            "fake"
        }

        fn build(&mut self, context: &Path, tag: &str, args: &[(String, String)]) -> Result<bool> {
            let args: Vec<String> = args.iter().map(|(k, v)| format!("{k}={v}")).collect();
            self.calls.push(format!(
                "build {} {tag} [{}]",
                context.display(),
                args.join(" ")
            ));
            Ok(!self.fail.iter().any(|f| context.ends_with(f)))
        }

        fn push(&mut self, tag: &str) -> Result<Pushed> {
            self.calls.push(format!("push {tag}"));
            Ok(Pushed {
                ok: true,
                digest: Some(format!("sha256:{}", "e".repeat(64))),
            })
        }
    }

    fn profile(name: &str, sets: &[&str]) -> Profile {
        let selection = Selection {
            profiles: vec![name.into()],
            sets: sets.iter().map(|s| s.to_string()).collect(),
        };
        load(&selection).expect("loads").profile
    }

    #[test]
    fn builds_only_the_images_the_profile_names_tags_for() {
        assert!(jobs(&profile("alpine-layered", &[]), &[]).is_empty());
        let folders: Vec<&str> = jobs(&profile("corporate-hardened", &[]), &[])
            .iter()
            .map(|j| j.folder)
            .collect();
        assert_eq!(
            folders,
            [
                "python-runtime",
                "kerberos-test",
                "postgres",
                "openmetadata-server",
                "opensearch",
                "alpine"
            ]
        );
        let only = jobs(
            &profile("corporate-hardened", &[]),
            &[crate::role::find("postgres").expect("a role")],
        );
        assert_eq!(
            only,
            [Job {
                folder: "postgres",
                tag: "registry.corp.example/platform/postgres:17.5-hardened".into()
            }]
        );
    }

    #[test]
    fn passes_proxies_as_build_args_and_pushes_what_built() {
        let p = profile(
            "debian-prebuilt",
            &["corporate.https_proxy=http://proxy:3128"],
        );
        let mut engine = Fake {
            fail: vec!["kerberos-test"],
            ..Fake::default()
        };
        let mut log = String::new();
        let outcomes = run(
            &mut engine,
            Path::new("out"),
            &jobs(&p, &[]),
            &crate::resolve::build_args(&p),
            true,
            &mut |l| log.push_str(l),
        )
        .expect("runs");
        assert_eq!(
            engine.calls,
            [
                "build out/python-runtime platform/python:3.11-bookworm-prebuilt [https_proxy=http://proxy:3128]",
                "push platform/python:3.11-bookworm-prebuilt",
                "build out/kerberos-test platform/kerberos-test:3.11-bookworm-prebuilt [https_proxy=http://proxy:3128]",
            ]
        );
        assert!(log.starts_with(
            "==> fake: building python-runtime as `platform/python:3.11-bookworm-prebuilt`\n"
        ));
        let table = table(&outcomes);
        assert!(table.contains("built, pushed"), "{table}");
        assert!(table.contains("FAILED"), "{table}");
        assert!(
            table.ends_with(&format!(
                "\npushed platform/python:3.11-bookworm-prebuilt@sha256:{}\n",
                "e".repeat(64)
            )),
            "{table}"
        );
    }
}
