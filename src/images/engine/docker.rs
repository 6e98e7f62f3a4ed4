//! Engines with docker's command line (docker, podman, nerdctl): `build`, `run --rm`, `run -d`,
//! `exec`, `rm -f`.

use std::collections::BTreeSet;
use std::path::Path;

use super::{
    Both, Build, Containers, Engine, Inspected, Program, Pushed, Ran, build_argv, build_env,
    env_args, inspect_argv, pull_argv, push_with, words,
};
use crate::error::Result;

pub struct DockerLike {
    program: Program,
    /// Containers started and not yet stopped: removed when this is dropped.
    started: BTreeSet<String>,
}

impl DockerLike {
    pub fn boxed(kind: &'static super::Kind) -> Box<dyn Both> {
        Box::new(Self {
            program: Program { kind },
            started: BTreeSet::new(),
        })
    }

    fn capture(&self, args: &[String]) -> Result<Ran> {
        self.program.capture(&mut self.program.command(args))
    }
}

impl Drop for DockerLike {
    /// Whatever happened, started containers do not outlive imggen.
    fn drop(&mut self) {
        for handle in std::mem::take(&mut self.started) {
            let _ = self.capture(&["rm".into(), "-f".into(), "-v".into(), handle]);
        }
    }
}

impl Engine for DockerLike {
    fn name(&self) -> &'static str {
        self.program.name()
    }

    fn takes_logins(&self) -> bool {
        self.program.kind.login_file
    }

    fn build(&self, build: &Build<'_>) -> Result<bool> {
        let argv = build_argv(self.program.kind, build);
        let mut command = self.program.command(&argv);
        command.envs(build_env(self.program.kind, build).iter().copied());
        self.program.stream(&mut command, build.prefix)
    }

    fn inspect(&self, image: &str) -> Option<Inspected> {
        let argv = inspect_argv(self.program.kind, image);
        self.program.inspect(&mut self.program.command(&argv))
    }

    fn pull(&self, image: &str, logins: Option<&Path>) -> Result<bool> {
        let argv = pull_argv(self.program.kind, image, logins);
        self.program.stream(&mut self.program.command(&argv), None)
    }

    fn push(&self, tag: &str, logins: Option<&Path>) -> Result<Pushed> {
        let program = &self.program;
        push_with(
            program.kind,
            tag,
            logins,
            &mut |argv| program.stream(&mut program.command(argv), None),
            &mut |argv| program.capture(&mut program.command(argv)),
        )
    }
}

impl Containers for DockerLike {
    fn run(&mut self, image: &str, command: &[String], env: &[(String, String)]) -> Result<Ran> {
        let mut argv = vec!["run".to_string(), "--rm".into()];
        argv.extend(env_args(env, "-e"));
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
        let mut argv = vec!["run".to_string(), "-d".into()];
        argv.extend(env_args(env, "-e"));
        argv.push(image.into());
        argv.extend(command.iter().cloned());
        let ran = self.capture(&argv)?;
        let handle = self.program.handle(ran, |out| out.lines().next())?;
        self.started.insert(handle.clone());
        Ok(handle)
    }

    fn exec(&mut self, handle: &str, command: &[String], env: &[(String, String)]) -> Result<Ran> {
        let mut argv = vec!["exec".to_string()];
        argv.extend(env_args(env, "-e"));
        argv.push(handle.into());
        argv.extend(command.iter().cloned());
        self.capture(&argv)
    }

    fn stop(&mut self, handle: &str) -> Result<()> {
        if self.started.remove(handle) {
            self.capture(&["rm".into(), "-f".into(), "-v".into(), handle.into()])?;
        }
        Ok(())
    }

    fn shown(&self, image: &str, command: &[String]) -> String {
        format!(
            "{} run --rm {image} {}",
            self.program.name(),
            words(command)
        )
    }

    fn run_program(&mut self, image: &str, command: &[String]) -> Result<Ran> {
        let Some((program, args)) = command.split_first() else {
            return self.run(image, command, &[]);
        };
        let mut argv = vec![
            "run".to_string(),
            "--rm".into(),
            "--entrypoint".into(),
            program.clone(),
            image.into(),
        ];
        argv.extend(args.iter().cloned());
        self.capture(&argv)
    }

    fn shown_program(&self, image: &str, command: &[String]) -> String {
        let Some((program, args)) = command.split_first() else {
            return self.shown(image, command);
        };
        format!(
            "{} run --rm --entrypoint {} {image} {}",
            self.program.name(),
            words(std::slice::from_ref(program)),
            words(args)
        )
    }
}
