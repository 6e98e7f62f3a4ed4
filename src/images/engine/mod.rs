//! Container engines behind two traits, so `build` and `test` are tested with fakes. Each engine
//! is one type ([`docker::DockerLike`] for docker's command line, [`buildah::Buildah`]); the
//! table [`ENGINES`] names them, says how to tell whether one works here, and makes it.

mod buildah;
mod docker;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// A command's result inside a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub ok: bool,
    /// stdout and stderr, for the report when it failed.
    pub output: String,
}

/// What `build` needs from an engine. Output streams to the terminal.
pub trait Engine: Sync {
    fn name(&self) -> &'static str;
    /// Whether the engine is handed the logins imggen found (see [`Kind::login_file`]); when
    /// not, `logins` below is not used.
    fn takes_logins(&self) -> bool;
    /// Builds an image; `Ok(false)` when the build itself failed. Several may run at once.
    fn build(&self, build: &Build<'_>) -> Result<bool>;
    /// Pushes `tag` to its registry, with the login in `logins` when given.
    fn push(&self, tag: &str, logins: Option<&Path>) -> Result<Pushed>;
    /// What the engine's storage holds as `image`: its ID and labels; `None` when it holds none.
    fn inspect(&self, image: &str) -> Option<Inspected>;
    /// Whether the engine's storage holds `image`.
    fn has(&self, image: &str) -> bool {
        self.inspect(image).is_some()
    }
    /// Pulls `image` into the engine's storage, with the login in `logins` when given;
    /// `Ok(false)` when the pull failed.
    fn pull(&self, image: &str, logins: Option<&Path>) -> Result<bool>;
}

/// One image to build: `context` as `tag`, with build arguments and, when the engine takes one,
/// a login file for the registries the build pulls from.
pub struct Build<'a> {
    pub context: &'a Path,
    pub tag: &'a str,
    pub args: &'a [(String, String)],
    pub logins: Option<&'a Path>,
    /// Build every step again, reusing no cached layer (`--no-cache`).
    pub no_cache: bool,
    /// Labels the image gets besides its Dockerfile's (`--label`).
    pub labels: &'a [(String, String)],
    /// Put in front of every line of the engine's output, when builds run side by side (the
    /// output then goes through a pipe); `None` leaves the terminal to the engine.
    pub prefix: Option<&'a str>,
    /// The Dockerfile uses what only BuildKit-era builders read (`RUN --mount`).
    pub buildkit: bool,
}

/// An image in the engine's storage: its ID and its labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inspected {
    pub id: String,
    pub labels: BTreeMap<String, String>,
}

/// How an engine's `inspect` prints an image.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// docker, podman, nerdctl: a JSON array of one image, `Id` and `Config.Labels`.
    Docker,
    /// buildah: one object, `FromImageID` and the Docker config's `config.Labels`.
    Buildah,
}

impl Shape {
    fn read(self, json: &str) -> Option<Inspected> {
        let value: serde_json::Value = serde_json::from_str(json).ok()?;
        let (id, labels) = match self {
            Shape::Docker => {
                let image = value.get(0)?;
                (image.get("Id")?, image.pointer("/Config/Labels"))
            }
            Shape::Buildah => (
                value.get("FromImageID")?,
                value.pointer("/Docker/config/Labels"),
            ),
        };
        let labels = labels
            .and_then(serde_json::Value::as_object)
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        Some(Inspected {
            id: id.as_str()?.to_string(),
            labels,
        })
    }
}

/// What a push gave: whether it worked, and the digest the registry stored (when the engine
/// says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub ok: bool,
    pub digest: Option<String>,
}

/// What `test` needs from an engine: containers to run commands in.
pub trait Containers {
    /// Runs `command` in a fresh, removed-afterwards container of `image`.
    fn run(&mut self, image: &str, command: &[String], env: &[(String, String)]) -> Result<Ran>;
    /// Starts `image`'s entrypoint with `command` in the background; returns a handle.
    fn start(
        &mut self,
        image: &str,
        command: &[String],
        env: &[(String, String)],
    ) -> Result<String>;
    /// Runs `command` beside a started container's main process.
    fn exec(&mut self, handle: &str, command: &[String], env: &[(String, String)]) -> Result<Ran>;
    /// Stops and removes a started container (and its volumes).
    fn stop(&mut self, handle: &str) -> Result<()>;
    /// How a user runs `command` in `image` by hand with this engine.
    fn shown(&self, image: &str, command: &[String]) -> String;
    /// Runs `command` in a fresh container of `image`, its first word in place of the image's
    /// entrypoint: for an image with no shell whose entrypoint is its program (MockServer's).
    /// buildah's `run` never uses the entrypoint: the same as [`Containers::run`].
    fn run_program(&mut self, image: &str, command: &[String]) -> Result<Ran> {
        self.run(image, command, &[])
    }
    /// How a user runs [`Containers::run_program`] by hand.
    fn shown_program(&self, image: &str, command: &[String]) -> String {
        self.shown(image, command)
    }
}

/// A real engine: it builds and runs containers.
pub trait Both: Engine + Containers {}
impl<T: Engine + Containers> Both for T {}

/// One engine imggen can drive.
pub struct Kind {
    /// The program, and the `--engine` value.
    pub program: &'static str,
    /// The subcommand that builds an image from a Dockerfile.
    build_verb: &'static str,
    /// Arguments that succeed only when the engine can build here (docker: its daemon answers).
    probe: &'static [&'static str],
    /// Flags every build gets: podman and buildah default to the OCI image format, which has
    /// no HEALTHCHECK (nor SHELL, STOPSIGNAL), so they build Docker-format images.
    build_flags: &'static [&'static str],
    /// Flags that make a build reuse the layers of the last one (buildah keeps none unless
    /// asked: a rebuild with nothing changed took as long as the first); left out with
    /// `--no-cache`.
    cache_flags: &'static [&'static str],
    /// Environment of a build whose Dockerfile needs BuildKit (`RUN --mount`): docker's classic
    /// builder refuses such a Dockerfile unless BuildKit is asked for.
    buildkit_env: &'static [(&'static str, &'static str)],
    /// Whether `push` writes the pushed digest to a file (`--digestfile`); otherwise it is
    /// read from the image's `RepoDigests` afterwards.
    digest_file: bool,
    /// Whether builds and pushes are handed the logins imggen found, in a login file of their
    /// own (`--authfile`, searched before the engine's usual files): podman and buildah read
    /// login files but run no `credsStore` helper, and imggen does. docker and nerdctl run the
    /// helpers themselves.
    login_file: bool,
    /// Arguments before an image's name that succeed when the engine's storage holds it, and
    /// print it as JSON.
    inspect: &'static [&'static str],
    /// How that JSON is laid out.
    shape: Shape,
    make: fn(&'static Kind) -> Box<dyn Both>,
}

/// In the order `detect` tries them.
pub static ENGINES: [Kind; 4] = [
    Kind {
        program: "docker",
        build_verb: "build",
        probe: &["info", "--format", "{{.ServerVersion}}"],
        build_flags: &[],
        cache_flags: &[],
        buildkit_env: &[("DOCKER_BUILDKIT", "1")],
        digest_file: false,
        login_file: false,
        inspect: &["image", "inspect"],
        shape: Shape::Docker,
        make: docker::DockerLike::boxed,
    },
    Kind {
        program: "podman",
        build_verb: "build",
        probe: &["--version"],
        build_flags: &["--format", "docker"],
        cache_flags: &[],
        buildkit_env: &[],
        digest_file: true,
        login_file: true,
        inspect: &["image", "inspect"],
        shape: Shape::Docker,
        make: docker::DockerLike::boxed,
    },
    Kind {
        program: "buildah",
        build_verb: "bud",
        probe: &["--version"],
        build_flags: &["--format", "docker"],
        cache_flags: &["--layers"],
        buildkit_env: &[],
        digest_file: true,
        login_file: true,
        inspect: &["inspect", "--type", "image"],
        shape: Shape::Buildah,
        make: buildah::Buildah::boxed,
    },
    Kind {
        // containerd's docker-compatible command line.
        program: "nerdctl",
        build_verb: "build",
        probe: &["info", "--format", "{{.ServerVersion}}"],
        build_flags: &[],
        cache_flags: &[],
        buildkit_env: &[],
        digest_file: false,
        login_file: false,
        inspect: &["image", "inspect"],
        shape: Shape::Docker,
        make: docker::DockerLike::boxed,
    },
];

impl Kind {
    /// Whether this engine can build here.
    fn usable(&self) -> bool {
        Command::new(self.program)
            .args(self.probe)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

/// Which of `images` the first usable engine of [`ENGINES`] holds, with that engine's name;
/// `None` when no engine is usable here (so nothing can be said about them).
pub fn held(images: &[&str]) -> Option<(&'static str, Vec<bool>)> {
    let kind = ENGINES.iter().find(|k| k.usable())?;
    let held = images
        .iter()
        .map(|image| {
            Command::new(kind.program)
                .args(inspect_argv(kind, image))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect();
    Some((kind.program, held))
}

/// The engine to use: the one asked for (which must be usable), or the first usable of
/// [`ENGINES`].
pub fn detect(asked: Option<&'static Kind>) -> Result<Box<dyn Both>> {
    let candidates: Vec<&'static Kind> =
        asked.map_or_else(|| ENGINES.iter().collect(), |k| vec![k]);
    for kind in candidates {
        if kind.usable() {
            return Ok((kind.make)(kind));
        }
    }
    Err(Error::NoEngine {
        asked: asked.map(|k| k.program),
    })
}

/// Runs an engine's program: what both engine types share.
struct Program {
    kind: &'static Kind,
}

impl Program {
    fn name(&self) -> &'static str {
        self.kind.program
    }

    fn command(&self, args: &[String]) -> Command {
        let mut command = Command::new(self.name());
        command.args(args);
        command
    }

    fn fail(&self, e: &std::io::Error) -> Error {
        Error::Engine {
            program: self.name().into(),
            output: crate::error::io_reason(e),
        }
    }

    /// Runs with output streaming to the terminal; with a `prefix`, each line of it (stdout to
    /// stdout, stderr to stderr) is written whole after the prefix, so that the output of
    /// builds side by side stays readable.
    fn stream(&self, command: &mut Command, prefix: Option<&str>) -> Result<bool> {
        let Some(prefix) = prefix else {
            let status = command.status().map_err(|e| self.fail(&e))?;
            return Ok(status.success());
        };
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.fail(&e))?;
        let (out, err) = (child.stdout.take(), child.stderr.take());
        std::thread::scope(|scope| {
            scope.spawn(|| prefixed(out, prefix, &mut || Box::new(std::io::stdout().lock())));
            scope.spawn(|| prefixed(err, prefix, &mut || Box::new(std::io::stderr().lock())));
        });
        let status = child.wait().map_err(|e| self.fail(&e))?;
        Ok(status.success())
    }

    /// What the engine's `inspect` (run as `command`) says of an image; `None` when it holds
    /// none, or says something imggen cannot read.
    fn inspect(&self, command: &mut Command) -> Option<Inspected> {
        let out = command
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        self.kind.shape.read(&String::from_utf8_lossy(&out.stdout))
    }

    /// Runs with output captured.
    fn capture(&self, command: &mut Command) -> Result<Ran> {
        let out = command
            .stdin(Stdio::null())
            .output()
            .map_err(|e| self.fail(&e))?;
        let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
        output.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok(Ran {
            ok: out.status.success(),
            output,
        })
    }

    /// The first line of a successful run's output (a container id), or the error.
    fn handle(&self, ran: Ran, line: impl Fn(&str) -> Option<&str>) -> Result<String> {
        let handle = line(&ran.output).unwrap_or_default().trim().to_string();
        if !ran.ok || handle.is_empty() {
            return Err(Error::Engine {
                program: self.name().into(),
                output: ran.output,
            });
        }
        Ok(handle)
    }
}

/// Copies `reader` line by line to the writer `open` gives (opened per line, so lines of
/// several copies never interleave inside a line), each line after `prefix`.
fn prefixed(
    reader: Option<impl std::io::Read>,
    prefix: &str,
    open: &mut dyn FnMut() -> Box<dyn std::io::Write>,
) {
    use std::io::BufRead as _;
    let Some(reader) = reader else { return };
    for line in std::io::BufReader::new(reader).split(b'\n') {
        let Ok(line) = line else { return };
        let mut out = open();
        let _ = out
            .write_all(prefix.as_bytes())
            .and_then(|()| out.write_all(&line))
            .and_then(|()| out.write_all(b"\n"));
    }
}

/// `pull [--authfile LOGINS] IMAGE`.
fn pull_argv(kind: &Kind, image: &str, logins: Option<&Path>) -> Vec<String> {
    let mut argv = vec!["pull".to_string()];
    argv.extend(login_args(kind, logins));
    argv.push(image.to_string());
    argv
}

/// `INSPECT… IMAGE`: succeeds when the engine's storage holds the image.
fn inspect_argv(kind: &Kind, image: &str) -> Vec<String> {
    let mut argv: Vec<String> = kind.inspect.iter().map(|a| a.to_string()).collect();
    argv.push(image.to_string());
    argv
}

fn env_args(env: &[(String, String)], flag: &str) -> Vec<String> {
    env.iter()
        .flat_map(|(k, v)| [flag.to_string(), format!("{k}={v}")])
        .collect()
}

/// `VERB FLAGS… [--layers | --no-cache] [--authfile LOGINS] -t TAG --build-arg K=V… CONTEXT`:
/// the build command line docker and buildah share.
fn build_argv(kind: &Kind, build: &Build<'_>) -> Vec<String> {
    let mut argv = vec![kind.build_verb.to_string()];
    argv.extend(kind.build_flags.iter().map(|f| f.to_string()));
    if build.no_cache {
        argv.push("--no-cache".into());
    } else {
        argv.extend(kind.cache_flags.iter().map(|f| f.to_string()));
    }
    argv.extend(login_args(kind, build.logins));
    for (key, value) in build.labels {
        argv.extend(["--label".to_string(), format!("{key}={value}")]);
    }
    argv.extend(["-t".into(), build.tag.into()]);
    for (k, v) in build.args {
        argv.extend(["--build-arg".to_string(), format!("{k}={v}")]);
    }
    argv.push(build.context.display().to_string());
    argv
}

/// The environment a build runs with beyond imggen's own: what its Dockerfile needs of the
/// engine (see [`Kind::buildkit_env`]).
fn build_env<'k>(kind: &'k Kind, build: &Build<'_>) -> &'k [(&'static str, &'static str)] {
    if build.buildkit {
        kind.buildkit_env
    } else {
        &[]
    }
}

/// The push command line: `push [--digestfile FILE] [--authfile LOGINS] TAG`.
fn push_argv(
    kind: &Kind,
    tag: &str,
    digest_file: Option<&Path>,
    logins: Option<&Path>,
) -> Vec<String> {
    let mut argv = vec!["push".to_string()];
    if let Some(file) = digest_file {
        argv.extend(["--digestfile".to_string(), file.display().to_string()]);
    }
    argv.extend(login_args(kind, logins));
    argv.push(tag.to_string());
    argv
}

/// `--authfile LOGINS`, for an engine that takes a login file.
fn login_args(kind: &Kind, logins: Option<&Path>) -> Vec<String> {
    match logins {
        Some(file) if kind.login_file => vec!["--authfile".into(), file.display().to_string()],
        _ => Vec::new(),
    }
}

/// Pushes with `run` (which streams a command line and says whether it worked), then finds the
/// digest: from the digest file the engine wrote, or from the image's `RepoDigests` (`inspect`
/// captures `image inspect --format '{{json .RepoDigests}}' TAG`). A digest that is not one is
/// dropped.
fn push_with(
    kind: &Kind,
    tag: &str,
    logins: Option<&Path>,
    run: &mut dyn FnMut(&[String]) -> Result<bool>,
    inspect: &mut dyn FnMut(&[String]) -> Result<Ran>,
) -> Result<Pushed> {
    // The engine writes the digest file by name: in a folder made for it, not at a guessable
    // path in a shared /tmp where a planted link would send the write elsewhere.
    let folder = match kind.digest_file {
        true => Some(crate::output::files::private_dir("imggen-push")?),
        false => None,
    };
    let file = folder.as_ref().map(|f| f.path().join("digest"));
    let ran = run(&push_argv(kind, tag, file.as_deref(), logins));
    let written = file.as_ref().and_then(|f| std::fs::read_to_string(f).ok());
    drop(folder);
    let ok = ran?;
    let digest = if !ok {
        None
    } else if file.is_some() {
        written.map(|d| d.trim().to_string())
    } else {
        let argv = ["image", "inspect", "--format", "{{json .RepoDigests}}", tag].map(String::from);
        let ran = inspect(&argv)?;
        repo_digest(&ran.output, tag)
    };
    Ok(Pushed {
        ok,
        digest: digest.filter(|d| crate::pipeline::validate::Rule::Digest.check(d).is_none()),
    })
}

/// The digest of `tag`'s repository among an image's `RepoDigests` (a JSON list of
/// `name@digest`).
fn repo_digest(json: &str, tag: &str) -> Option<String> {
    use crate::registry::reference::Reference;
    let wanted = Reference::parse(tag);
    let list: Vec<String> = serde_json::from_str(json.trim()).ok()?;
    list.iter().find_map(|entry| {
        let found = Reference::parse(entry);
        (found.registry == wanted.registry && found.repository == wanted.repository)
            .then_some(found.digest)
            .flatten()
    })
}

/// `command` as a user would type it.
fn words(command: &[String]) -> String {
    command
        .iter()
        .map(|w| crate::pipeline::filters::sh(w).unwrap_or_else(|_| w.clone()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The engine whose program is `program`.
    fn kind(program: &str) -> &'static Kind {
        ENGINES
            .iter()
            .find(|k| k.program == program)
            .expect("an engine")
    }

    #[test]
    fn engine_programs_are_unique_and_an_engine_that_is_not_installed_is_not_usable() {
        let mut seen = std::collections::BTreeSet::new();
        for kind in &ENGINES {
            assert!(seen.insert(kind.program));
        }
        let missing = Kind {
            program: "imggen-no-such-engine",
            build_verb: "build",
            probe: &["--version"],
            build_flags: &[],
            cache_flags: &[],
            buildkit_env: &[],
            digest_file: false,
            login_file: false,
            inspect: &["image", "inspect"],
            shape: Shape::Docker,
            make: docker::DockerLike::boxed,
        };
        assert!(!missing.usable());
    }

    #[test]
    fn the_pushed_digest_comes_from_the_digest_file_or_repo_digests() {
        let digest = format!("sha256:{}", "c".repeat(64));
        let json = format!(
            r#"["docker.io/library/other@sha256:{}","127.0.0.1:5000/platform/python@{digest}"]"#,
            "d".repeat(64)
        );
        assert_eq!(
            repo_digest(&json, "127.0.0.1:5000/platform/python:3.11").as_deref(),
            Some(digest.as_str())
        );
        assert_eq!(repo_digest(&json, "127.0.0.1:5000/platform/java:1"), None);
        assert_eq!(repo_digest("not json", "x:1"), None);

        let docker = kind("docker");
        let mut pushed = Vec::new();
        let result = push_with(
            docker,
            "127.0.0.1:5000/platform/python:3.11",
            Some(Path::new("/run/logins.json")),
            &mut |argv| {
                pushed.push(argv.join(" "));
                Ok(true)
            },
            &mut |_| {
                Ok(Ran {
                    ok: true,
                    output: json.clone(),
                })
            },
        )
        .expect("pushes");
        // docker runs the credential helpers itself: no login file.
        assert_eq!(pushed, ["push 127.0.0.1:5000/platform/python:3.11"]);
        assert_eq!(result.digest.as_deref(), Some(digest.as_str()));

        let buildah = kind("buildah");
        let mut file = None;
        let result = push_with(
            buildah,
            "r/x:1",
            Some(Path::new("/run/logins.json")),
            &mut |argv| {
                assert_eq!(argv[1], "--digestfile");
                assert_eq!(argv[3..], ["--authfile", "/run/logins.json", "r/x:1"]);
                std::fs::write(&argv[2], "sha256:not-a-digest\n").expect("writes");
                file = Some(std::path::PathBuf::from(&argv[2]));
                Ok(true)
            },
            &mut |_| unreachable!("buildah writes a digest file"),
        )
        .expect("pushes");
        assert_eq!(
            result,
            Pushed {
                ok: true,
                digest: None
            }
        );
        // Written in a folder of its own, only the user's, removed after.
        let folder = file.as_deref().and_then(Path::parent).expect("a folder");
        assert!(!folder.exists(), "{}", folder.display());
        let name = folder
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        assert!(name.starts_with("imggen-push-"), "{name}");
    }

    #[test]
    fn podman_and_buildah_build_docker_format_images_with_the_logins_imggen_found() {
        let args = [("https_proxy".to_string(), "http://proxy:3128".to_string())];
        let build = |tag, args, logins| Build {
            prefix: None,
            buildkit: false,
            labels: &[],
            context: Path::new("out/postgres"),
            tag,
            args,
            logins,
            no_cache: false,
        };
        let logins = Some(Path::new("/run/logins.json"));
        assert_eq!(
            build_argv(kind("buildah"), &build("pg:1", &args, logins)),
            [
                "bud",
                "--format",
                "docker",
                "--layers",
                "--authfile",
                "/run/logins.json",
                "-t",
                "pg:1",
                "--build-arg",
                "https_proxy=http://proxy:3128",
                "out/postgres"
            ]
        );
        assert!(build_argv(kind("podman"), &build("t", &[], None)).contains(&"docker".to_string()));
        // docker runs the credential helpers itself: no login file.
        assert_eq!(
            build_argv(kind("docker"), &build("t", &[], logins)),
            ["build", "-t", "t", "out/postgres"]
        );
        // --no-cache: every engine builds from the start, buildah without --layers.
        let clean = Build {
            prefix: None,
            labels: &[],
            no_cache: true,
            ..build("t", &[], None)
        };
        assert_eq!(
            build_argv(kind("buildah"), &clean),
            [
                "bud",
                "--format",
                "docker",
                "--no-cache",
                "-t",
                "t",
                "out/postgres"
            ]
        );
        assert_eq!(
            build_argv(kind("docker"), &clean),
            ["build", "--no-cache", "-t", "t", "out/postgres"]
        );
    }

    #[test]
    fn a_program_replaces_the_entrypoint_on_docker_and_is_the_command_on_buildah() {
        let command = ["java".to_string(), "-version".to_string()];
        let docker = (kind("docker").make)(kind("docker"));
        assert_eq!(
            docker.shown_program("mockserver/mockserver:5.15.0", &command),
            "docker run --rm --entrypoint java mockserver/mockserver:5.15.0 -version"
        );
        // buildah's `run` never uses the entrypoint: the program is the command.
        let buildah = (kind("buildah").make)(kind("buildah"));
        assert_eq!(
            buildah.shown_program("m:1", &command),
            buildah.shown("m:1", &command)
        );
    }

    /// Each engine's `inspect` JSON, as the engines print it (trimmed to what is read).
    #[test]
    fn inspect_output_gives_the_id_and_labels_of_each_engine() {
        let docker = r#"[{"Id":"sha256:aa","Config":{"Labels":{"imggen.build.context":"sha256:bb","n":null}}}]"#;
        let read = Shape::Docker.read(docker).expect("reads");
        assert_eq!(read.id, "sha256:aa");
        assert_eq!(
            read.labels.into_iter().collect::<Vec<_>>(),
            [("imggen.build.context".to_string(), "sha256:bb".to_string())]
        );
        let buildah = r#"{"FromImageID":"cc","Docker":{"config":{"Labels":null}}}"#;
        assert_eq!(
            Shape::Buildah.read(buildah),
            Some(Inspected {
                id: "cc".into(),
                labels: BTreeMap::new()
            })
        );
        assert_eq!(Shape::Docker.read("[]"), None);
        assert_eq!(Shape::Buildah.read("not json"), None);
    }
}
