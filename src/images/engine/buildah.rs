//! buildah: daemonless builds (`bud`), and containers as working containers (`from`, `run`),
//! with a background `buildah run` standing in for a detached container.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::{
    Both, Build, Containers, Engine, Inspected, Program, Pushed, Ran, build_argv, env_args,
    inspect_argv, pull_argv, push_with, words,
};
use crate::error::Result;

pub struct Buildah {
    program: Program,
    /// buildah has no detached mode: the background `buildah run` of each started container.
    started: BTreeMap<String, Child>,
}

impl Buildah {
    pub fn boxed(kind: &'static super::Kind) -> Box<dyn Both> {
        Box::new(Self {
            program: Program { kind },
            started: BTreeMap::new(),
        })
    }

    fn command(&self, args: &[String]) -> Command {
        let mut command = self.program.command(args);
        // Daemonless builds work as root without extra setup this way.
        command.env("BUILDAH_ISOLATION", "chroot");
        command
    }

    fn capture(&self, args: &[String]) -> Result<Ran> {
        self.program.capture(&mut self.command(args))
    }

    /// A working container of `image`.
    fn create(&mut self, image: &str) -> Result<String> {
        let ran = self.capture(&["from".into(), "--pull=never".into(), image.into()])?;
        self.program.handle(ran, |out| out.lines().last())
    }

    /// `buildah run` does not run the image's entrypoint by itself: what to put in front.
    fn entrypoint(&self, image: &str) -> Result<Vec<String>> {
        let inspect = ["inspect", "--type", "image", image].map(String::from);
        let config: serde_json::Value =
            serde_json::from_str(&self.capture(&inspect)?.output).unwrap_or_default();
        Ok(config["OCIv1"]["config"]["Entrypoint"]
            .as_array()
            .map(|words| {
                words
                    .iter()
                    .filter_map(|w| w.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default())
    }
}

impl Drop for Buildah {
    /// Whatever happened, started containers do not outlive imggen.
    fn drop(&mut self) {
        let handles: Vec<String> = self.started.keys().cloned().collect();
        for handle in handles {
            let _ = self.stop(&handle);
        }
    }
}

impl Engine for Buildah {
    fn name(&self) -> &'static str {
        self.program.name()
    }

    fn takes_logins(&self) -> bool {
        self.program.kind.login_file
    }

    fn build(&self, build: &Build<'_>) -> Result<bool> {
        let argv = build_argv(self.program.kind, build);
        self.program.stream(&mut self.command(&argv), build.prefix)
    }

    fn inspect(&self, image: &str) -> Option<Inspected> {
        let argv = inspect_argv(self.program.kind, image);
        self.program.inspect(&mut self.command(&argv))
    }

    fn pull(&self, image: &str, logins: Option<&Path>) -> Result<bool> {
        let argv = pull_argv(self.program.kind, image, logins);
        self.program.stream(&mut self.command(&argv), None)
    }

    fn push(&self, tag: &str, logins: Option<&Path>) -> Result<Pushed> {
        push_with(
            self.program.kind,
            tag,
            logins,
            &mut |argv| self.program.stream(&mut self.command(argv), None),
            &mut |_| unreachable!("buildah writes a digest file"),
        )
    }
}

impl Containers for Buildah {
    fn run(&mut self, image: &str, command: &[String], env: &[(String, String)]) -> Result<Ran> {
        let handle = self.create(image)?;
        let ran = self.exec(&handle, command, env);
        let _ = self.capture(&["rm".into(), handle]);
        ran
    }

    fn start(
        &mut self,
        image: &str,
        command: &[String],
        env: &[(String, String)],
    ) -> Result<String> {
        let entrypoint = self.entrypoint(image)?;
        let handle = self.create(image)?;
        let mut argv = vec!["run".to_string()];
        argv.extend(env_args(env, "--env"));
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
        let child = background.spawn().map_err(|e| self.program.fail(&e))?;
        self.started.insert(handle.clone(), child);
        Ok(handle)
    }

    fn exec(&mut self, handle: &str, command: &[String], env: &[(String, String)]) -> Result<Ran> {
        let mut argv = vec!["run".to_string()];
        argv.extend(env_args(env, "--env"));
        argv.push(handle.into());
        argv.push("--".into());
        argv.extend(command.iter().cloned());
        self.capture(&argv)
    }

    fn stop(&mut self, handle: &str) -> Result<()> {
        let Some(mut child) = self.started.remove(handle) else {
            return Ok(());
        };
        stop_group(&mut child);
        self.capture(&["rm".into(), handle.into()])?;
        Ok(())
    }

    fn shown(&self, image: &str, command: &[String]) -> String {
        format!("buildah run $(buildah from {image}) -- {}", words(command))
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
