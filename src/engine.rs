//! Container engines (docker, podman, buildah) behind one trait, so `build` is tested with a fake.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::error::{Error, Result};

/// A command's result inside a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub ok: bool,
    /// stdout and stderr, for the report when it failed.
    pub output: String,
}

/// What `build` needs from an engine. Output streams to the terminal.
pub trait Engine {
    fn name(&self) -> &'static str;
    /// Builds `context` as `tag`; `Ok(false)` when the build itself failed.
    fn build(&mut self, context: &Path, tag: &str, args: &[(String, String)]) -> Result<bool>;
    fn push(&mut self, tag: &str) -> Result<bool>;
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Docker,
    Podman,
    Buildah,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Docker, Kind::Podman, Kind::Buildah];

    pub fn program(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Podman => "podman",
            Self::Buildah => "buildah",
        }
    }

    /// Whether this engine can build here: the program runs, and (docker) its daemon answers.
    fn usable(self) -> bool {
        let probe: &[&str] = match self {
            Self::Docker => &["info", "--format", "{{.ServerVersion}}"],
            Self::Podman | Self::Buildah => &["--version"],
        };
        Command::new(self.program())
            .args(probe)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

/// The engine to use: the one asked for (which must be usable), or the first usable of docker,
/// podman, buildah.
pub fn detect(asked: Option<Kind>) -> Result<Cli> {
    let candidates: Vec<Kind> = asked.map_or_else(|| Kind::ALL.to_vec(), |k| vec![k]);
    for kind in &candidates {
        if kind.usable() {
            return Ok(Cli {
                kind: *kind,
                started: BTreeMap::new(),
            });
        }
    }
    Err(Error::NoEngine {
        asked: asked.map(Kind::program),
    })
}

/// A real engine, driven through its command line.
pub struct Cli {
    kind: Kind,
    /// buildah has no detached mode: the background `buildah run` of each started container.
    started: BTreeMap<String, Child>,
}

impl Cli {
    fn command(&self, args: &[String]) -> Command {
        let mut command = Command::new(self.kind.program());
        command.args(args);
        if self.kind == Kind::Buildah {
            // Daemonless builds work as root without extra setup this way.
            command.env("BUILDAH_ISOLATION", "chroot");
        }
        command
    }

    fn fail(&self, e: std::io::Error) -> Error {
        Error::Engine {
            program: self.kind.program().into(),
            output: crate::error::io_reason(&e),
        }
    }

    /// Runs with output streaming to the terminal.
    fn stream(&self, args: &[String]) -> Result<bool> {
        let status = self.command(args).status().map_err(|e| self.fail(e))?;
        Ok(status.success())
    }

    /// Runs with output captured.
    fn capture(&self, args: &[String]) -> Result<Ran> {
        let out = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| self.fail(e))?;
        let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
        output.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok(Ran {
            ok: out.status.success(),
            output,
        })
    }

    fn env_args(env: &[(String, String)], flag: &str) -> Vec<String> {
        env.iter()
            .flat_map(|(k, v)| [flag.to_string(), format!("{k}={v}")])
            .collect()
    }
}

impl Drop for Cli {
    /// Whatever happened, started containers do not outlive imggen.
    fn drop(&mut self) {
        let handles: Vec<String> = self.started.keys().cloned().collect();
        for handle in handles {
            let _ = self.stop(&handle);
        }
    }
}

impl Engine for Cli {
    fn name(&self) -> &'static str {
        self.kind.program()
    }

    fn build(&mut self, context: &Path, tag: &str, args: &[(String, String)]) -> Result<bool> {
        let mut argv = vec![
            if self.kind == Kind::Buildah {
                "bud"
            } else {
                "build"
            }
            .to_string(),
        ];
        argv.extend(["-t".into(), tag.into()]);
        for (key, value) in args {
            argv.extend(["--build-arg".into(), format!("{key}={value}")]);
        }
        argv.push(context.display().to_string());
        self.stream(&argv)
    }

    fn push(&mut self, tag: &str) -> Result<bool> {
        self.stream(&["push".into(), tag.into()])
    }
}

impl Containers for Cli {
    fn run(&mut self, image: &str, command: &[String], env: &[(String, String)]) -> Result<Ran> {
        if self.kind == Kind::Buildah {
            let handle = self.create(image)?;
            let ran = self.exec(&handle, command, env);
            let _ = self.capture(&["rm".into(), handle]);
            return ran;
        }
        let mut argv = vec!["run".to_string(), "--rm".into()];
        argv.extend(Self::env_args(env, "-e"));
        argv.push(image.into());
        argv.extend(command.iter().cloned());
        self.capture(&argv)
    }

    fn start(
        &mut self,
        image: &str,
        command: &[String],
        env: &[(String, String)],
    ) -> Result<String> {
        if self.kind == Kind::Buildah {
            // `buildah run` does not run the image's entrypoint by itself: put it in front.
            let inspect = ["inspect", "--type", "image", image].map(String::from);
            let config: serde_json::Value =
                serde_json::from_str(&self.capture(&inspect)?.output).unwrap_or_default();
            let entrypoint: Vec<String> = config["OCIv1"]["config"]["Entrypoint"]
                .as_array()
                .map(|words| {
                    words
                        .iter()
                        .filter_map(|w| w.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let handle = self.create(image)?;
            let mut argv = vec!["run".to_string()];
            argv.extend(Self::env_args(env, "--env"));
            argv.push(handle.clone());
            argv.push("--".into());
            argv.extend(entrypoint);
            argv.extend(command.iter().cloned());
            let mut background = self.command(&argv);
            background
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // Its own process group, so stopping it reaches the server it started too.
            #[cfg(unix)]
            std::os::unix::process::CommandExt::process_group(&mut background, 0);
            let child = background.spawn().map_err(|e| self.fail(e))?;
            self.started.insert(handle.clone(), child);
            return Ok(handle);
        }
        let mut argv = vec!["run".to_string(), "-d".into()];
        argv.extend(Self::env_args(env, "-e"));
        argv.push(image.into());
        argv.extend(command.iter().cloned());
        let ran = self.capture(&argv)?;
        let handle = ran
            .output
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        if !ran.ok || handle.is_empty() {
            return Err(Error::Engine {
                program: self.kind.program().into(),
                output: ran.output,
            });
        }
        self.started.insert(
            handle.clone(),
            Command::new("true").spawn().map_err(|e| self.fail(e))?,
        );
        Ok(handle)
    }

    fn exec(&mut self, handle: &str, command: &[String], env: &[(String, String)]) -> Result<Ran> {
        let (verb, flag) = if self.kind == Kind::Buildah {
            ("run", "--env")
        } else {
            ("exec", "-e")
        };
        let mut argv = vec![verb.to_string()];
        argv.extend(Self::env_args(env, flag));
        argv.push(handle.into());
        if self.kind == Kind::Buildah {
            argv.push("--".into());
        }
        argv.extend(command.iter().cloned());
        self.capture(&argv)
    }

    fn stop(&mut self, handle: &str) -> Result<()> {
        let Some(mut child) = self.started.remove(handle) else {
            return Ok(());
        };
        if self.kind == Kind::Buildah {
            stop_group(&mut child);
            self.capture(&["rm".into(), handle.into()])?;
        } else {
            let _ = child.wait();
            self.capture(&["rm".into(), "-f".into(), "-v".into(), handle.into()])?;
        }
        Ok(())
    }

    fn shown(&self, image: &str, command: &[String]) -> String {
        let words: Vec<String> = command
            .iter()
            .map(|w| crate::filters::sh(w).unwrap_or_else(|_| w.clone()))
            .collect();
        match self.kind {
            Kind::Buildah => format!("buildah run $(buildah from {image}) -- {}", words.join(" ")),
            kind => format!("{} run --rm {image} {}", kind.program(), words.join(" ")),
        }
    }
}

/// Stops a background `buildah run` and everything it started: SIGTERM to its process group
/// (PostgreSQL shuts down cleanly on it), then SIGKILL after ten seconds.
fn stop_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill")
        .args(["-TERM", "--", &group])
        .stderr(Stdio::null())
        .status();
    for _ in 0..100 {
        if child.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &group])
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
}

impl Cli {
    /// A buildah working container of `image`.
    fn create(&mut self, image: &str) -> Result<String> {
        let ran = self.capture(&["from".into(), "--pull=never".into(), image.into()])?;
        let handle = ran
            .output
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string();
        if !ran.ok || handle.is_empty() {
            return Err(Error::Engine {
                program: "buildah".into(),
                output: ran.output,
            });
        }
        Ok(handle)
    }
}
