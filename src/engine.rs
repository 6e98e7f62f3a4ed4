//! Container engines (docker, podman, buildah) behind one trait, so `build` is tested with a fake.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// What `build` needs from an engine. Output streams to the terminal as it comes.
pub trait Engine {
    fn name(&self) -> &'static str;
    /// Builds `context` as `tag`; `Ok(false)` when the build itself failed.
    fn build(&mut self, context: &Path, tag: &str, args: &[(String, String)]) -> Result<bool>;
    fn push(&mut self, tag: &str) -> Result<bool>;
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
            return Ok(Cli { kind: *kind });
        }
    }
    Err(Error::NoEngine {
        asked: asked.map(Kind::program),
    })
}

/// A real engine, driven through its command line.
pub struct Cli {
    kind: Kind,
}

impl Cli {
    fn run(&self, args: &[String]) -> Result<bool> {
        let program = self.kind.program();
        let mut command = Command::new(program);
        command.args(args);
        if self.kind == Kind::Buildah {
            // Daemonless builds work as root without extra setup this way.
            command.env("BUILDAH_ISOLATION", "chroot");
        }
        let status = command.status().map_err(|e| Error::Engine {
            program: program.into(),
            reason: crate::error::io_reason(&e),
        })?;
        Ok(status.success())
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
        self.run(&argv)
    }

    fn push(&mut self, tag: &str) -> Result<bool> {
        self.run(&["push".into(), tag.into()])
    }
}
