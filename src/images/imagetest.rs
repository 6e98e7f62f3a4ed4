//! `imggen test`: the platform's image tests, run against built (or named) images.
//!
//! What to test is read from the render where it can be: the packages a prebuilt Python image
//! pre-installs come from its Dockerfile's `pip install` lines, the layered Kerberos runtime
//! install from the compose override's command, so the tests follow the templates.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::error::Result;
use crate::images::engine::Containers;
use crate::output::tree::Files;
use crate::profile::Profile;
use crate::profile::model::Mode;
use crate::role::{Probe, Role};

/// Set by the Ctrl-C handler: stop after the current step; started containers are removed.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The images to test: role → image reference, in table order.
pub type Images = Vec<(&'static Role, String)>;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
}

struct Runner<'a> {
    engine: &'a mut dyn Containers,
    log: &'a mut dyn FnMut(&str),
    tally: Tally,
}

impl Runner<'_> {
    fn record(&mut self, image: &str, name: &str, shown: &str, ok: bool, output: &str) {
        let word = if ok { "ok  " } else { "FAIL" };
        (self.log)(&format!("{word}  {image:<15} {name}\n      {shown}\n"));
        if !ok {
            for line in output
                .lines()
                .rev()
                .take(15)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
            {
                (self.log)(&format!("      | {line}\n"));
            }
        }
        if ok {
            self.tally.passed += 1;
        } else {
            self.tally.failed += 1;
        }
    }

    /// Runs `command` in a fresh container of `image` and records the result.
    fn check(&mut self, role: &str, image: &str, name: &str, command: &[String]) -> Result<()> {
        let ran = self.engine.run(image, command, &[])?;
        let shown = self.engine.shown(image, command);
        self.record(role, name, &shown, ran.ok, &ran.output);
        Ok(())
    }

    /// [`Runner::check`] of a program run in place of the image's entrypoint, passing when it
    /// succeeds and its output holds `expect`.
    fn check_program(
        &mut self,
        role: &str,
        image: &str,
        name: &str,
        command: &[&str],
        expect: &str,
    ) -> Result<()> {
        let command: Vec<String> = command.iter().map(|w| w.to_string()).collect();
        let ran = self.engine.run_program(image, &command)?;
        let shown = self.engine.shown_program(image, &command);
        let ok = ran.ok && ran.output.contains(expect);
        self.record(role, name, &shown, ok, &ran.output);
        Ok(())
    }
}

/// A JVM image without a shell: the JVM starts, and with CA certificates it reads the trust
/// store `JAVA_TOOL_OPTIONS` names (the corporate CA is in it: the Dockerfile's first stage put
/// it there with keytool).
fn jvm(runner: &mut Runner<'_>, role: &Role, image: &str, files: &Files) -> Result<()> {
    let role = role.name;
    runner.check_program(
        role,
        image,
        "java -version",
        &["java", "-version"],
        "version",
    )?;
    if !ca_aliases(files, role).is_empty() {
        runner.check_program(
            role,
            image,
            "the JVM reads the trust store with the corporate CA (JAVA_TOOL_OPTIONS)",
            &["java", "-XshowSettings:properties", "-version"],
            "javax.net.ssl.trustStore = ",
        )?;
    }
    Ok(())
}

fn sh(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

/// Distribution names the rendered Dockerfile pip-installs (not `-r` files).
fn pip_installed(dockerfile: &str) -> Vec<String> {
    let mut names = Vec::new();
    for instruction in crate::images::dockerfile::parse(dockerfile)
        .iter()
        .filter(|i| i.keyword == "RUN")
    {
        for step in instruction.text().split("&&") {
            let words: Vec<&str> = step.split_whitespace().collect();
            if words.len() < 2
                || words[0] != "pip"
                || words[1] != "install"
                || words.contains(&"-r")
            {
                continue;
            }
            for word in &words[2..] {
                let word = word.trim_matches('\'');
                if word.starts_with('-') || word == "\\" {
                    continue;
                }
                let name: String = word
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
                    .collect();
                if !name.is_empty() {
                    names.push(name);
                }
            }
        }
    }
    names
}

/// The layered Kerberos runtime install, from the compose override's `sh -c` command.
fn runtime_install(files: &Files, service: &str) -> Option<String> {
    let file = files.get("docker-compose.override.yml")?;
    let yaml: serde_yaml::Value = serde_yaml::from_slice(&file.contents).ok()?;
    let command = yaml
        .get("services")?
        .get(service)?
        .get("command")?
        .as_sequence()?;
    let script = command.get(2)?.as_str()?;
    script
        .strip_suffix(" && python /app/test.py")
        .map(str::to_string)
}

pub fn run(
    engine: &mut dyn Containers,
    profile: &Profile,
    files: &Files,
    images: &Images,
    log: &mut dyn FnMut(&str),
) -> Result<Tally> {
    let mut runner = Runner {
        engine,
        log,
        tally: Tally::default(),
    };
    for (role, image) in images {
        for probe in role.probes {
            if INTERRUPTED.load(Ordering::SeqCst) {
                break;
            }
            match *probe {
                Probe::Shell => {
                    runner.check(role.name, image, "shell", &sh("echo 'Shell works'"))?;
                }
                Probe::Python => python(&mut runner, role, image, profile, files)?,
                Probe::KerberosTools => {
                    kerberos(&mut runner, role, image, profile, files)?;
                }
                Probe::PostgresServer => postgres(&mut runner, role, image, profile, files)?,
                Probe::Jvm => jvm(&mut runner, role, image, files)?,
                Probe::CaTrusted { name, script } => {
                    let aliases = ca_aliases(files, role.name);
                    if !aliases.is_empty() {
                        let mut command = sh(script);
                        command.push("ca-trusted".into());
                        command.extend(aliases);
                        runner.check(role.name, image, name, &command)?;
                    }
                }
            }
        }
    }
    Ok(runner.tally)
}

/// `imggen-<stem>` for each CA certificate in the role's build context (`<role>/certs/*.crt`):
/// the aliases its Dockerfile imports them under.
fn ca_aliases(files: &Files, folder: &str) -> Vec<String> {
    let prefix = format!("{folder}/certs/");
    files
        .keys()
        .filter_map(|path| path.strip_prefix(&prefix)?.strip_suffix(".crt"))
        .map(|stem| format!("imggen-{stem}"))
        .collect()
}

/// Imports every top-level module of the distribution named in `argv[1]` (module names differ
/// from distribution names: `scikit-learn` → `sklearn`); fails when it is not installed.
const IMPORT_CHECK: &str = "import importlib, importlib.metadata as m, re, sys
norm = lambda n: re.sub(r'[-_.]+', '-', n).lower()
m.distribution(sys.argv[1])
mods = sorted(k for k, v in m.packages_distributions().items()
              if not k.startswith('_') and any(norm(d) == norm(sys.argv[1]) for d in v))
for mod in mods:
    importlib.import_module(mod)
print(sys.argv[1], 'imports', ', '.join(mods) or '(no modules)')";

fn python(
    runner: &mut Runner<'_>,
    role: &Role,
    image: &str,
    profile: &Profile,
    files: &Files,
) -> Result<()> {
    let role = role.name;
    if profile.mode == Mode::Layered {
        let script = "pip install requests && python -c 'import requests'";
        return runner.check(role, image, "pip install (layered)", &sh(script));
    }
    let dockerfile = files
        .get(&format!("{role}/Dockerfile"))
        .map(|f| String::from_utf8_lossy(&f.contents).into_owned())
        .unwrap_or_default();
    for name in pip_installed(&dockerfile) {
        let command = ["python", "-c", IMPORT_CHECK, &name]
            .map(String::from)
            .to_vec();
        runner.check(
            role,
            image,
            &format!("pre-installed and importable: {name}"),
            &command,
        )?;
    }
    Ok(())
}

fn kerberos(
    runner: &mut Runner<'_>,
    role: &Role,
    image: &str,
    profile: &Profile,
    files: &Files,
) -> Result<()> {
    let role = role.name;
    if profile.mode == Mode::Prebuilt {
        return runner.check(
            role,
            image,
            "klist -V (prebuilt)",
            &["klist".into(), "-V".into()],
        );
    }
    let install = runtime_install(files, &profile.compose.kerberos_test_service)
        .unwrap_or_else(|| "false # no runtime install command in the compose override".into());
    runner.check(
        role,
        image,
        "klist -V after the runtime install (layered)",
        &sh(&format!("{install} && klist -V")),
    )
}

/// The `HEALTHCHECK` command of a rendered Dockerfile as an argument list: `CMD [...]` as it
/// is, `CMD text` under `sh -c`; `None` without one (or with `HEALTHCHECK NONE`).
fn healthcheck(files: &Files, folder: &str) -> Option<Vec<String>> {
    let file = files.get(&format!("{folder}/Dockerfile"))?;
    let text = String::from_utf8_lossy(&file.contents);
    let instruction = crate::images::dockerfile::parse(&text)
        .into_iter()
        .rfind(|i| i.keyword == "HEALTHCHECK")?;
    let words = instruction.words().join(" ");
    let command = words.strip_prefix("CMD")?.trim();
    if command.starts_with('[') {
        serde_json::from_str(command).ok()
    } else {
        Some(sh(command))
    }
}

fn postgres(
    runner: &mut Runner<'_>,
    role: &Role,
    image: &str,
    profile: &Profile,
    files: &Files,
) -> Result<()> {
    let health = healthcheck(files, role.name);
    let role = role.name;
    runner.check(
        role,
        image,
        "postgres --version",
        &["postgres".into(), "--version".into()],
    )?;
    let server = Server::start(runner, image, profile)?;
    let ready = server.wait_ready(runner)?;
    let name = "starts and accepts connections (pg_isready)";
    runner.record(role, name, &server.shown, ready, "");
    if ready {
        if let Some(command) = &health {
            server.healthcheck(runner, role, command)?;
        }
        for db in &profile.postgres.databases {
            server.check_database(runner, role, db)?;
        }
        if let Some(method) = profile.postgres.auth_method {
            server.check_auth_method(runner, role, method)?;
        }
    }
    runner.engine.stop(&server.handle)
}

/// A PostgreSQL server of the image under test, listening on 127.0.0.1:`port` in its container.
struct Server {
    handle: String,
    port: u16,
    /// How it was started, as a user would run it.
    shown: String,
}

impl Server {
    /// Started with the superuser's password and each owner's password variable set.
    fn start(runner: &mut Runner<'_>, image: &str, profile: &Profile) -> Result<Self> {
        let port = free_port();
        let mut env = vec![("POSTGRES_PASSWORD".to_string(), "imggen-test".to_string())];
        for db in &profile.postgres.databases {
            if let (Some(password_env), Some(owner)) = (&db.password_env, &db.owner) {
                env.push((password_env.clone(), format!("imggen-test-{owner}")));
            }
        }
        let command: Vec<String> = [
            "postgres",
            "-c",
            &format!("port={port}"),
            "-c",
            "listen_addresses=127.0.0.1",
        ]
        .map(String::from)
        .to_vec();
        let handle = runner.engine.start(image, &command, &env)?;
        let shown = format!(
            "{} (with POSTGRES_PASSWORD set)",
            runner.engine.shown(image, &command)
        );
        Ok(Self {
            handle,
            port,
            shown,
        })
    }

    /// Whether `pg_isready` answers within a minute (or until Ctrl-C).
    fn wait_ready(&self, runner: &mut Runner<'_>) -> Result<bool> {
        let ready_cmd: Vec<String> = [
            "pg_isready",
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
        ]
        .map(String::from)
        .to_vec();
        for _ in 0..120 {
            if INTERRUPTED.load(Ordering::SeqCst) {
                return Ok(false);
            }
            if runner.engine.exec(&self.handle, &ready_cmd, &[])?.ok {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Ok(false)
    }

    /// `psql` as the superuser against database `db`, running `sql`.
    fn psql(&self, db: &str, sql: &str) -> Vec<String> {
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            "-d",
            db,
            "-tAc",
            sql,
        ]
        .map(String::from)
        .to_vec()
    }

    /// Runs `sql` in `db` and records whether its output is what `ok` accepts.
    fn query(
        &self,
        runner: &mut Runner<'_>,
        role: &str,
        name: &str,
        (db, sql): (&str, &str),
        ok: impl Fn(&str) -> bool,
    ) -> Result<()> {
        let password = [("PGPASSWORD".to_string(), "imggen-test".to_string())];
        let command = self.psql(db, sql);
        let ran = runner.engine.exec(&self.handle, &command, &password)?;
        let passed = ran.ok && ok(&ran.output);
        runner.record(role, name, &command.join(" "), passed, &ran.output);
        Ok(())
    }

    /// The Dockerfile's HEALTHCHECK command, unchanged, inside the container. The server listens
    /// on 127.0.0.1:`port` (each engine run may get its own /run, so not on the socket).
    fn healthcheck(&self, runner: &mut Runner<'_>, role: &str, command: &[String]) -> Result<()> {
        let env = [
            ("PGHOST".to_string(), "127.0.0.1".to_string()),
            ("PGPORT".to_string(), self.port.to_string()),
        ];
        let ran = runner.engine.exec(&self.handle, command, &env)?;
        let name = "the image's HEALTHCHECK reports healthy";
        runner.record(role, name, &command.join(" "), ran.ok, &ran.output);
        Ok(())
    }

    /// A database the profile lists: its owner, and each of its extensions.
    fn check_database(
        &self,
        runner: &mut Runner<'_>,
        role: &str,
        db: &crate::profile::model::Database,
    ) -> Result<()> {
        let sql = format!(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{}'",
            db.name
        );
        // Without an owner, the user the init scripts ran as (the test's POSTGRES_USER).
        let owner = db.owner.as_deref().unwrap_or("postgres");
        let name = format!("database {} owned by {owner}", db.name);
        self.query(runner, role, &name, ("postgres", &sql), |out| {
            out.trim() == owner
        })?;
        for ext in &db.extensions {
            let sql = format!("SELECT extname FROM pg_extension WHERE extname = '{ext}'");
            let name = format!("extension {ext} in {}", db.name);
            self.query(runner, role, &name, (&db.name, &sql), |out| {
                out.trim() == ext
            })?;
        }
        Ok(())
    }

    /// The auth method of the server's host rules is the profile's.
    fn check_auth_method(
        &self,
        runner: &mut Runner<'_>,
        role: &str,
        method: crate::profile::model::AuthMethod,
    ) -> Result<()> {
        let method = serde_json::to_value(method)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let sql = "SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE type = 'host'";
        let name = format!("host auth method is {method}");
        self.query(runner, role, &name, ("postgres", sql), |out| {
            out.lines().any(|l| l.trim() == method)
        })
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(55432)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::engine::Ran;
    use std::collections::BTreeMap;

    /// Answers every command with `ok`, except those containing one of `fail`.
    #[derive(Default)]
    struct Fake {
        calls: Vec<String>,
        fail: Vec<&'static str>,
        stopped: Vec<String>,
        answers: BTreeMap<&'static str, &'static str>,
    }

    impl Containers for Fake {
        fn run(&mut self, image: &str, command: &[String], _: &[(String, String)]) -> Result<Ran> {
            let call = format!("run {image} {}", command.join(" "));
            let ok = !self.fail.iter().any(|f| call.contains(f));
            self.calls.push(call);
            Ok(Ran {
                ok,
                output: String::new(),
            })
        }
        fn start(&mut self, image: &str, _: &[String], env: &[(String, String)]) -> Result<String> {
            let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
            self.calls
                .push(format!("start {image} env {}", names.join(",")));
            Ok("c1".into())
        }
        fn exec(
            &mut self,
            handle: &str,
            command: &[String],
            _: &[(String, String)],
        ) -> Result<Ran> {
            let call = command.join(" ");
            self.calls.push(format!("exec {handle} {call}"));
            let output = self
                .answers
                .iter()
                .find(|(k, _)| call.contains(*k))
                .map(|(_, v)| v.to_string());
            Ok(Ran {
                ok: !self.fail.iter().any(|f| call.contains(f)),
                output: output.unwrap_or_default(),
            })
        }
        fn stop(&mut self, handle: &str) -> Result<()> {
            self.stopped.push(handle.into());
            Ok(())
        }
        fn shown(&self, image: &str, command: &[String]) -> String {
            format!("fake run {image} {}", command.join(" "))
        }
    }

    fn rendered(profile: &str) -> (Profile, Files) {
        let stack = crate::profile::load(&crate::profile::Selection::of(profile)).expect("loads");
        let packs = crate::pipeline::pack::Packs::builtin().expect("packs");
        let files = crate::pipeline::run::render(&packs, &stack).expect("renders");
        (stack.profile, files)
    }

    fn images(pairs: &[(&str, &str)]) -> Images {
        pairs
            .iter()
            .map(|(k, v)| (crate::role::find(k).expect("a role"), v.to_string()))
            .collect()
    }

    #[test]
    fn layered_kerberos_runs_the_overrides_runtime_install_then_klist() {
        let (profile, files) = rendered("debian-layered");
        let mut engine = Fake::default();
        let tally = run(
            &mut engine,
            &profile,
            &files,
            &images(&[("kerberos-test", "k")]),
            &mut |_| {},
        )
        .expect("runs");
        assert_eq!(
            tally,
            Tally {
                passed: 2,
                failed: 0
            }
        );
        assert_eq!(
            engine.calls[1],
            "run k sh -c apt-get update && apt-get install -y krb5-user && klist -V"
        );
    }

    #[test]
    fn prebuilt_python_imports_what_the_dockerfile_installs() {
        let (mut profile, _) = rendered("debian-prebuilt");
        profile.python.pip_packages = vec!["httpx>=0.27".into()];
        let dockerfile = "FROM x\nRUN apt-get install -y gcc \\\n    && pip install --no-cache-dir pandas 'httpx>=0.27' \\\n    && pip install --no-cache-dir -r /tmp/requirements.txt\n";
        assert_eq!(pip_installed(dockerfile), ["pandas", "httpx"]);
    }

    #[test]
    fn postgres_checks_databases_extensions_and_auth_then_stops_even_on_failure() {
        let (profile, files) = rendered("corporate-hardened");
        let mut engine = Fake {
            fail: vec!["airflow_db -tAc SELECT extname"],
            answers: BTreeMap::from([
                ("datname = 'openmetadata_db'", "openmetadata_user\n"),
                ("datname = 'airflow_db'", "airflow_user\n"),
                ("pg_hba_file_rules", "scram-sha-256\n"),
            ]),
            ..Fake::default()
        };
        let mut log = String::new();
        let tally = run(
            &mut engine,
            &profile,
            &files,
            &images(&[("postgres", "pg")]),
            &mut |l| log.push_str(l),
        )
        .expect("runs");
        assert_eq!(
            tally,
            Tally {
                passed: 7,
                failed: 1
            },
            "{log}"
        );
        assert!(engine.calls.contains(
            &"start pg env POSTGRES_PASSWORD,OPENMETADATA_DB_PASSWORD,AIRFLOW_DB_PASSWORD".into()
        ));
        // corporate-hardened asks for healthchecks: the Dockerfile's own command runs.
        assert!(
            engine
                .calls
                .contains(&"exec c1 sh -c pg_isready -U postgres || exit 1".into()),
            "{:?}",
            engine.calls
        );
        assert!(
            log.contains("ok    postgres        the image's HEALTHCHECK reports healthy"),
            "{log}"
        );
        assert_eq!(engine.stopped, ["c1"], "the server is stopped and removed");
        assert!(
            log.contains("FAIL  postgres        extension uuid-ossp in airflow_db\n"),
            "{log}"
        );
    }

    #[test]
    fn service_images_check_the_ca_in_the_trust_store_under_the_dockerfiles_alias() {
        let (profile, files) = rendered("corporate-hardened");
        let mut engine = Fake::default();
        let tally = run(
            &mut engine,
            &profile,
            &files,
            &images(&[("opensearch", "os"), ("alpine", "al")]),
            &mut |_| {},
        )
        .expect("runs");
        assert_eq!(
            tally,
            Tally {
                passed: 4,
                failed: 0
            }
        );
        assert!(
            engine.calls[1].starts_with("run os sh -c found=0"),
            "{:?}",
            engine.calls
        );
        assert!(
            engine.calls[1].ends_with("ca-trusted imggen-example-corporate-ca"),
            "{:?}",
            engine.calls
        );
        assert!(engine.calls[3].ends_with("ca-trusted imggen-example-corporate-ca"));
    }

    #[test]
    fn without_ca_certificates_there_is_no_trust_check() {
        let (profile, files) = rendered("debian-prebuilt");
        let mut engine = Fake::default();
        run(
            &mut engine,
            &profile,
            &files,
            &images(&[("opensearch", "os")]),
            &mut |_| {},
        )
        .expect("runs");
        assert_eq!(engine.calls, ["run os sh -c echo 'Shell works'"]);
    }

    #[test]
    fn the_healthcheck_is_read_from_the_rendered_dockerfile() {
        let (_, files) = rendered("corporate-hardened");
        assert_eq!(
            healthcheck(&files, "postgres"),
            Some(sh("pg_isready -U postgres || exit 1"))
        );
        let (_, files) = rendered("debian-prebuilt");
        assert_eq!(
            healthcheck(&files, "postgres"),
            None,
            "no healthchecks asked for"
        );
    }
}
