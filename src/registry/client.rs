//! Asking a registry what a tag points at, over the OCI distribution API: a manifest `HEAD`
//! (a `GET` when the registry names no digest) with the manifest types the platform's images
//! come in, token or basic authentication as the registry's challenge asks, credentials from the
//! Docker config file. HTTP goes through [`Transport`], so the client is tested against
//! recorded responses and `ureq` is used only by [`Http`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::error::{Error, Problem, Result};
use crate::pipeline::validate::Rule;
use crate::registry::reference::Reference;

/// Every manifest type an image tag may point at: multi-platform indexes first.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Header names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first message of a registry's JSON error body (`{"errors": [{"message": ...}]}`).
    fn message(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["errors"][0]["message"].as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// Sends one request; `Err` is why the server could not be reached (connection, TLS).
pub trait Transport {
    fn send(&self, request: &Request) -> std::result::Result<Response, String>;
}

/// A user name and password for one registry, or for one namespace in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// What the login is for, as a login file keys it: a registry (`quay.io`, `docker.io` for
    /// Docker Hub under any of its names) or a namespace in one (`quay.io/team`).
    pub scope: String,
    pub user: String,
    pub password: String,
    /// The credential helper that gave it (`None`: the login file itself).
    pub helper: Option<String>,
    /// The login file that holds it, or names its helper (`None`: not read from disk).
    pub file: Option<PathBuf>,
}

impl Login {
    /// `user:password` in base64: a login file's `auth`, and HTTP basic credentials.
    fn auth(&self) -> String {
        BASE64.encode(format!("{}:{}", self.user, self.password))
    }

    fn basic(&self) -> String {
        format!("Basic {}", self.auth())
    }
}

/// Logins as one login file (`auths` only, keyed by their scopes: the format Docker and the
/// containers tools share): what another program is handed to log in as imggen does.
pub fn login_file<'a>(logins: impl IntoIterator<Item = &'a Login>) -> String {
    let auths: serde_json::Map<String, serde_json::Value> = logins
        .into_iter()
        .map(|login| {
            (
                login.scope.clone(),
                serde_json::json!({ "auth": login.auth() }),
            )
        })
        .collect();
    serde_json::json!({ "auths": auths }).to_string()
}

/// [`login_file`] written to `path`, readable by this user only (it holds passwords): what
/// skopeo (`mirror`) and buildah or podman (`build`) are handed.
pub fn write_login_file<'a>(
    path: &Path,
    logins: impl IntoIterator<Item = &'a Login>,
) -> Result<()> {
    crate::output::files::write_unsynced(path, login_file(logins).as_bytes(), 0o600).map_err(
        |source| Error::Write {
            path: path.to_path_buf(),
            source,
        },
    )
}

/// How long a credential helper may take to answer (one waiting for a keychain to be unlocked
/// would otherwise hang a CI job).
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// The name Docker's credential helpers know Docker Hub by.
const HUB_SERVER: &str = "https://index.docker.io/v1/";

/// Logins by registry, as Docker and the containers tools (Podman, Buildah, Skopeo) keep them:
/// in a login file itself (`auths`), or behind a credential helper the file names
/// (`credHelpers` per registry, `credsStore` for the others). Several files may hold them; a
/// registry's login comes from the first that has one.
#[derive(Debug, Default)]
pub struct Credentials {
    /// The login files found, in the order they are searched.
    files: Vec<LoginFile>,
    /// Where helper programs are; `None` is `PATH`.
    helper_dir: Option<PathBuf>,
    /// What helpers answered, by helper and server: each is asked once.
    asked: Mutex<BTreeMap<(String, String), Option<Login>>>,
}

/// One login file: a Docker `config.json` or a containers `auth.json` (the same format).
#[derive(Debug, Default)]
struct LoginFile {
    path: Option<PathBuf>,
    logins: BTreeMap<String, Login>,
    /// `credHelpers`: registry host → helper name (`docker-credential-NAME`).
    helpers: BTreeMap<String, String>,
    /// `credsStore`: the helper for every registry `credHelpers` does not name.
    store: Option<String>,
}

impl LoginFile {
    /// A login file's logins: `{"auths": {"host": {"auth": base64(user:pass)}},
    /// "credHelpers": {"host": "NAME"}, "credsStore": "NAME"}`; `path` is where it was read.
    fn parse(bytes: &[u8], path: Option<&Path>) -> std::result::Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let mut logins = BTreeMap::new();
        let empty = serde_json::Map::new();
        let auths = value
            .get("auths")
            .and_then(|a| a.as_object())
            .unwrap_or(&empty);
        for (key, entry) in auths {
            let login = if let Some(auth) = entry.get("auth").and_then(|a| a.as_str()) {
                let decoded = BASE64
                    .decode(auth)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| {
                        format!("the `auth` of `{key}` is not base64 of user:password")
                    })?;
                let (user, password) = decoded
                    .split_once(':')
                    .ok_or_else(|| format!("the `auth` of `{key}` has no `:`"))?;
                Login {
                    scope: scope_of(key),
                    user: user.to_string(),
                    password: password.to_string(),
                    helper: None,
                    file: path.map(Path::to_path_buf),
                }
            } else {
                match (entry.get("username"), entry.get("password")) {
                    (Some(user), Some(password)) => Login {
                        scope: scope_of(key),
                        user: user.as_str().unwrap_or_default().to_string(),
                        password: password.as_str().unwrap_or_default().to_string(),
                        helper: None,
                        file: path.map(Path::to_path_buf),
                    },
                    _ => continue,
                }
            };
            logins.insert(login.scope.clone(), login);
        }
        let mut helpers = BTreeMap::new();
        if let Some(named) = value.get("credHelpers").and_then(|h| h.as_object()) {
            for (key, helper) in named {
                let helper = helper
                    .as_str()
                    .ok_or_else(|| format!("the `credHelpers` entry of `{key}` is not a name"))?;
                // Helpers are per registry: a key's path, if any, is not a namespace here.
                let scope = scope_of(key);
                let registry = scope.split('/').next().unwrap_or_default();
                helpers.insert(registry.to_string(), helper.to_string());
            }
        }
        let store = match value.get("credsStore") {
            None => None,
            Some(serde_json::Value::String(name)) if name.is_empty() => None,
            Some(serde_json::Value::String(name)) => Some(name.clone()),
            Some(_) => return Err("`credsStore` is not a name".to_string()),
        };
        Ok(Self {
            path: path.map(Path::to_path_buf),
            logins,
            helpers,
            store,
        })
    }

    /// The credential helper this file names for `reference`'s registry, and the server name
    /// the helper knows the registry by.
    fn helper_for<'a>(&'a self, reference: &'a Reference) -> Option<(&'a str, &'a str)> {
        let helper = self
            .helpers
            .get(registry_scope(reference))
            .or(self.store.as_ref())?;
        let server = if reference.is_docker_hub() {
            HUB_SERVER
        } else {
            reference.registry.as_str()
        };
        Some((helper, server))
    }
}

impl Credentials {
    /// Every login file that exists, searched in the order the containers tools search them
    /// (containers-auth.json(5)), which ends with Docker's own: `$REGISTRY_AUTH_FILE`,
    /// `$XDG_RUNTIME_DIR/containers/auth.json` (where `podman login` writes; without that
    /// variable, `/run/containers/UID/auth.json`),
    /// `$XDG_CONFIG_HOME/containers/auth.json` (`~/.config/…` by default), then
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (where `docker login`
    /// writes). None found is no logins.
    pub fn from_environment() -> Result<Self> {
        #[cfg(unix)]
        let uid = Some(rustix::process::getuid().as_raw());
        #[cfg(not(unix))]
        let uid = None;
        Self::from_files(login_files(|name| std::env::var_os(name), uid))
    }

    /// The logins of those of `paths` that exist, searched in that order.
    pub(crate) fn from_files(paths: Vec<PathBuf>) -> Result<Self> {
        let mut files: Vec<LoginFile> = Vec::new();
        for path in paths {
            if let Some(bytes) = crate::output::files::read_optional(&path)? {
                let file =
                    LoginFile::parse(&bytes, Some(&path)).map_err(|message| Error::Toml {
                        location: path.display().to_string(),
                        message,
                    })?;
                files.push(file);
            }
        }
        Ok(Self {
            files,
            ..Self::default()
        })
    }

    /// The logins of one login file's text (not read from disk).
    #[cfg(test)]
    pub fn parse(bytes: &[u8]) -> std::result::Result<Self, String> {
        Ok(Self {
            files: vec![LoginFile::parse(bytes, None)?],
            ..Self::default()
        })
    }

    /// The login files read, in the order they are searched (for messages).
    pub fn files(&self) -> Vec<PathBuf> {
        self.files.iter().filter_map(|f| f.path.clone()).collect()
    }

    /// These credentials, with helper programs looked for in `dir` instead of `PATH`.
    #[cfg(test)]
    pub fn with_helper_dir(mut self, dir: &Path) -> Self {
        self.helper_dir = Some(dir.to_path_buf());
        self
    }

    /// The login for `reference`'s registry (Docker Hub's under any of its names): from the
    /// first login file that has one, itself or through the credential helper it names for
    /// the registry (asked first; one that knows nothing of it falls back to `auths`).
    pub fn for_registry(
        &self,
        reference: &Reference,
    ) -> std::result::Result<Option<Login>, Problem> {
        let scopes = scopes(reference);
        for file in &self.files {
            if let Some((helper, server)) = file.helper_for(reference)
                && let Some(login) = self.ask(helper, server)?
            {
                return Ok(Some(Login {
                    file: file.path.clone(),
                    ..login
                }));
            }
            if let Some(login) = scopes.iter().find_map(|s| file.logins.get(s)) {
                return Ok(Some(login.clone()));
            }
        }
        Ok(None)
    }

    /// `helper`'s login for `server`, asked once.
    fn ask(&self, helper: &str, server: &str) -> std::result::Result<Option<Login>, Problem> {
        let key = (helper.to_string(), server.to_string());
        let mut asked = self
            .asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(answer) = asked.get(&key) {
            return Ok(answer.clone());
        }
        let answer = run_helper(helper, server, self.helper_dir.as_deref(), HELPER_TIMEOUT)?;
        asked.insert(key, answer.clone());
        Ok(answer)
    }
}

/// Where the login files are, in search order, given the environment (`var`); see
/// [`Credentials::from_environment`]. Each path once.
/// `uid` is the user's: without `XDG_RUNTIME_DIR` (root in a CI container, a cron job) the
/// containers tools keep their logins in `/run/containers/UID/auth.json`.
fn login_files(var: impl Fn(&str) -> Option<std::ffi::OsString>, uid: Option<u32>) -> Vec<PathBuf> {
    let var = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let home = var("HOME");
    let config_home = var("XDG_CONFIG_HOME").or_else(|| home.as_ref().map(|h| h.join(".config")));
    let runtime = match var("XDG_RUNTIME_DIR") {
        Some(dir) => Some(dir.join("containers/auth.json")),
        None => uid.map(|uid| PathBuf::from(format!("/run/containers/{uid}/auth.json"))),
    };
    let candidates = [
        var("REGISTRY_AUTH_FILE"),
        runtime,
        config_home.map(|d| d.join("containers/auth.json")),
        docker_config(&var),
    ];
    let mut paths: Vec<PathBuf> = Vec::new();
    for path in candidates.into_iter().flatten() {
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    paths
}

/// The login file docker itself reads, given the environment (`var`, empty values unset):
/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
fn docker_config(var: &impl Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    let folder = var("DOCKER_CONFIG").or_else(|| var("HOME").map(|h| h.join(".docker")))?;
    Some(folder.join("config.json"))
}

/// [`docker_config`] in this process's environment.
pub fn docker_config_file() -> Option<PathBuf> {
    docker_config(&|name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

/// The registry as login files key it: Docker Hub is `docker.io` under any of its names.
fn registry_scope(reference: &Reference) -> &str {
    if reference.is_docker_hub() {
        crate::registry::reference::DOCKER_HUB
    } else {
        &reference.registry
    }
}

/// The scopes a login for `reference` may be kept under, most specific first, as the containers
/// tools match them (containers-auth.json(5)): `reg/a/b/image`, `reg/a/b`, `reg/a`, `reg`.
fn scopes(reference: &Reference) -> Vec<String> {
    let registry = registry_scope(reference);
    let mut scopes = Vec::new();
    let mut path = reference.repository.as_str();
    loop {
        scopes.push(format!("{registry}/{path}"));
        match path.rsplit_once('/') {
            Some((parent, _)) => path = parent,
            None => break,
        }
    }
    scopes.push(registry.to_string());
    scopes
}

/// A login file's key as the scope it stands for. A key with a scheme is Docker's
/// (`https://index.docker.io/v1/`) and names a whole registry; any other is a registry or a
/// namespace in one (`quay.io/team`). Docker Hub's names are all `docker.io`.
fn scope_of(key: &str) -> String {
    let (key, whole_registry) = match key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
    {
        Some(rest) => (rest, true),
        None => (key, false),
    };
    let key = key.trim_end_matches('/');
    let (host, namespace) = match key.split_once('/') {
        Some((host, namespace)) if !whole_registry => (host, Some(namespace)),
        Some((host, _)) => (host, None),
        None => (key, None),
    };
    let host: &str = match crate::registry::reference::DOCKER_HUB_ALIASES.contains(&host) {
        true => crate::registry::reference::DOCKER_HUB,
        false => host,
    };
    match namespace {
        Some(namespace) => format!("{host}/{namespace}"),
        None => host.to_string(),
    }
}

/// Asks the credential helper `docker-credential-NAME` for `server`'s login, by Docker's
/// protocol: `get`, the server on standard input, `{"Username": …, "Secret": …}` on standard
/// output. `None` when it has none for `server`.
fn run_helper(
    name: &str,
    server: &str,
    dir: Option<&Path>,
    timeout: Duration,
) -> std::result::Result<Option<Login>, Problem> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let fail = |message: String| Problem::CredentialHelper {
        helper: name.to_string(),
        message,
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || !name.chars().all(plain) || name.starts_with('.') {
        return Err(fail(
            "that is not a helper name (letters, digits, `.`, `_` and `-`)".to_string(),
        ));
    }
    let program = format!("docker-credential-{name}");
    let program = dir.map_or_else(|| PathBuf::from(&program), |d| d.join(&program));
    let spawn = || {
        let mut command = Command::new(&program);
        command
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Its own process group, so that at the timeout whatever it started goes with it (a
        // child it left running held the output pipe open, and imggen waited on it for ever).
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        command.spawn()
    };
    // "Text file busy": the helper is being written (installed, updated) this very moment.
    let mut attempt = spawn();
    for _ in 0..3 {
        match &attempt {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(Duration::from_millis(20));
                attempt = spawn();
            }
            _ => break,
        }
    }
    let mut child = attempt.map_err(|e| {
        fail(format!(
            "it cannot be run ({})",
            crate::error::io_reason(&e)
        ))
    })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading says why on its output.
        let _ = stdin.write_all(server.as_bytes());
    }
    let (status, stdout, stderr) = wait_for_helper(&mut child, timeout)
        .ok_or_else(|| fail(format!("it did not answer in {} s", timeout.as_secs())))?;
    if !status.success() {
        let said = format!("{} {}", stdout.trim(), stderr.trim());
        // What Docker's helpers say when they hold nothing for the server.
        if said.contains("credentials not found") {
            return Ok(None);
        }
        return Err(fail(format!("it failed ({status}): {}", said.trim())));
    }
    let answer: serde_json::Value = serde_json::from_str(&stdout)
        .map_err(|_| fail("its answer is not the JSON Docker's helpers give".to_string()))?;
    let field = |key: &str| answer.get(key).and_then(|v| v.as_str()).unwrap_or_default();
    let (user, secret) = (field("Username"), field("Secret"));
    if user == "<token>" {
        return Err(fail(
            "it holds an identity token, which imggen cannot use; log in with a user name and \
             password"
                .to_string(),
        ));
    }
    if user.is_empty() && secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(Login {
        scope: scope_of(server),
        user: user.to_string(),
        password: secret.to_string(),
        helper: Some(name.to_string()),
        // The login file naming the helper is filled in by the caller.
        file: None,
    }))
}

/// Waits, `timeout` at most, for a helper to close its output and exit: its status and what it
/// printed. `None` at the timeout, after its whole process group was killed. The helper is not
/// reaped before that decision, so its group id cannot have passed to another process.
fn wait_for_helper(
    child: &mut std::process::Child,
    timeout: Duration,
) -> Option<(std::process::ExitStatus, String, String)> {
    fn reader(
        pipe: Option<impl std::io::Read + Send + 'static>,
    ) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    }
    let out = reader(child.stdout.take());
    let err = reader(child.stderr.take());
    let deadline = std::time::Instant::now() + timeout;
    let mut status = None;
    while std::time::Instant::now() < deadline {
        if out.is_finished() && err.is_finished() {
            match child.try_wait() {
                Ok(Some(exited)) => {
                    status = Some(exited);
                    break;
                }
                Ok(None) => {}
                Err(_) => break,
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    if status.is_none() {
        #[cfg(unix)]
        if let Some(group) = rustix::process::Pid::from_raw(child.id().cast_signed()) {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = child.kill();
        let _ = child.wait();
        // A process that left the group (a new session) may hold the pipes still: its readers
        // are left behind, never waited on.
        return None;
    }
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    status.map(|status| (status, stdout, stderr))
}

/// How a registry asked to be authenticated (`WWW-Authenticate`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Challenge {
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Basic,
}

impl Challenge {
    fn parse(header: &str) -> Option<Self> {
        let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Self::Basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let mut params = BTreeMap::new();
        let mut rest = rest.trim();
        while let Some((key, after)) = rest.split_once('=') {
            let key = key
                .trim()
                .trim_start_matches(',')
                .trim()
                .to_ascii_lowercase();
            let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            } else {
                let end = after.find(',').unwrap_or(after.len());
                (&after[..end], &after[end..])
            };
            params.insert(key, value.to_string());
            rest = remaining.trim_start_matches(',').trim();
        }
        Some(Self::Bearer {
            realm: params.remove("realm")?,
            service: params.remove("service"),
            scope: params.remove("scope"),
        })
    }
}

/// Asks registries for digests; remembers the scheme and authorization that worked per host.
pub struct Client<T: Transport> {
    transport: T,
    credentials: Credentials,
    /// Per API host: the scheme that answered and the `Authorization` to send.
    hosts: Mutex<BTreeMap<String, (&'static str, Option<String>)>>,
}

impl<T: Transport> Client<T> {
    pub fn new(transport: T, credentials: Credentials) -> Self {
        Self {
            transport,
            credentials,
            hosts: Mutex::new(BTreeMap::new()),
        }
    }

    /// The digest `reference`'s tag points at now (of the index, for a multi-platform image).
    pub fn digest(&self, reference: &Reference) -> Result<String> {
        let fail = |problem| Error::Registry {
            reference: reference.to_string(),
            problem: Box::new(problem),
        };
        let head = self.manifest(reference, "HEAD").map_err(fail)?;
        if let Some(digest) = head.header("docker-content-digest") {
            return checked_digest(digest).map_err(fail);
        }
        // No digest in the answer: fetch the manifest and hash it.
        let get = self.manifest(reference, "GET").map_err(fail)?;
        let actual = sha256_digest(&get.body);
        if let Some(claimed) = get.header("docker-content-digest")
            && claimed != actual
        {
            return Err(fail(Problem::DigestMismatch {
                claimed: claimed.to_string(),
                actual,
            }));
        }
        Ok(actual)
    }

    /// Whether `reference`'s registry speaks TLS (a plain one is allowed only on this machine).
    pub fn speaks_tls(&self, reference: &Reference) -> Result<bool> {
        let known = self.hosts_lock().get(reference.api_host()).map(|(s, _)| *s);
        let scheme = match known {
            Some(scheme) => scheme,
            None => self.scheme(reference).map_err(|problem| Error::Registry {
                reference: reference.to_string(),
                problem: Box::new(problem),
            })?,
        };
        Ok(scheme == "https")
    }

    /// The login the client uses for `reference`'s registry, if it has one: what another
    /// program (skopeo) must be handed to act as the same user, since not every program reads
    /// the same login files or runs every helper (skopeo runs `credHelpers`, not `credsStore`).
    pub fn login_for(&self, reference: &Reference) -> Result<Option<Login>> {
        self.credentials
            .for_registry(reference)
            .map_err(|problem| Error::Registry {
                reference: reference.to_string(),
                problem: Box::new(problem),
            })
    }

    /// One manifest request, authenticated as the registry asks; only a 200 is returned.
    fn manifest(
        &self,
        reference: &Reference,
        method: &'static str,
    ) -> std::result::Result<Response, Problem> {
        let host = reference.api_host().to_string();
        let path = format!(
            "/v2/{}/manifests/{}",
            reference.repository,
            reference.manifest_ref()
        );
        let known = self.hosts_lock().get(&host).cloned();
        let (scheme, mut authorization) = match known {
            Some(known) => known,
            None => (self.scheme(reference)?, None),
        };
        let request = |authorization: &Option<String>| {
            let mut headers = vec![("accept", ACCEPT.to_string())];
            if let Some(a) = authorization {
                headers.push(("authorization", a.clone()));
            }
            Request {
                method,
                url: format!("{scheme}://{host}{path}"),
                headers,
            }
        };
        let mut response = self.send(&request(&authorization))?;
        if response.status == 401 {
            authorization = Some(self.authorize(reference, &response)?);
            response = self.send(&request(&authorization))?;
            if response.status == 401 {
                return Err(self.refused(reference));
            }
        }
        self.hosts_lock().insert(host, (scheme, authorization));
        match response.status {
            200 => Ok(response),
            404 => Err(Problem::NotFound {
                message: response.message(),
            }),
            403 => Err(Problem::Denied {
                message: response.message(),
            }),
            status => Err(Problem::Status {
                status,
                message: response.message(),
            }),
        }
    }

    fn hosts_lock(
        &self,
    ) -> std::sync::MutexGuard<'_, BTreeMap<String, (&'static str, Option<String>)>> {
        self.hosts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `https`, or for a registry on this machine that does not speak TLS, `http` (as Docker
    /// treats `127.0.0.0/8` as an insecure registry).
    fn scheme(&self, reference: &Reference) -> std::result::Result<&'static str, Problem> {
        let probe = |scheme: &str| Request {
            method: "GET",
            url: format!("{scheme}://{}/v2/", reference.api_host()),
            headers: Vec::new(),
        };
        match self.transport.send(&probe("https")) {
            Ok(_) => Ok("https"),
            Err(cause) if reference.is_loopback() => match self.transport.send(&probe("http")) {
                // A registry answers its API root with 200, or 401 to ask for a login; a TLS
                // server asked in plain HTTP answers 400, and then the TLS error is the news.
                Ok(r) if r.status == 200 || r.status == 401 => Ok("http"),
                _ => Err(Problem::Unreachable { cause }),
            },
            Err(cause) => Err(Problem::Unreachable { cause }),
        }
    }

    fn send(&self, request: &Request) -> std::result::Result<Response, Problem> {
        self.transport
            .send(request)
            .map_err(|cause| Problem::Unreachable { cause })
    }

    /// The `Authorization` header the registry's challenge asks for.
    fn authorize(
        &self,
        reference: &Reference,
        challenge: &Response,
    ) -> std::result::Result<String, Problem> {
        let login = self.credentials.for_registry(reference)?;
        let header = challenge.header("www-authenticate").unwrap_or_default();
        match Challenge::parse(header) {
            Some(Challenge::Basic) => login
                .as_ref()
                .map(Login::basic)
                .ok_or_else(|| self.refused(reference)),
            Some(Challenge::Bearer {
                realm,
                service,
                scope,
            }) => {
                let scope =
                    scope.unwrap_or_else(|| format!("repository:{}:pull", reference.repository));
                let mut url = format!("{realm}?scope={}", query_escape(&scope));
                if let Some(service) = service {
                    url.push_str(&format!("&service={}", query_escape(&service)));
                }
                let mut headers = Vec::new();
                if let Some(login) = &login {
                    headers.push(("authorization", login.basic()));
                }
                let response = self.send(&Request {
                    method: "GET",
                    url,
                    headers,
                })?;
                if response.status != 200 {
                    return Err(self.refused(reference));
                }
                let body: serde_json::Value =
                    serde_json::from_slice(&response.body).unwrap_or_default();
                body.get("token")
                    .or_else(|| body.get("access_token"))
                    .and_then(|t| t.as_str())
                    .map(|t| format!("Bearer {t}"))
                    .ok_or(Problem::BadChallenge {
                        header: "a token response without `token`".into(),
                    })
            }
            None => Err(Problem::BadChallenge {
                header: header.to_string(),
            }),
        }
    }

    /// The registry refused us: with a login, it is a bad one; without, one is missing.
    fn refused(&self, reference: &Reference) -> Problem {
        match self.credentials.for_registry(reference) {
            Ok(Some(login)) => Problem::BadCredentials {
                user: login.user,
                file: login.file,
                helper: login.helper,
            },
            Ok(None) => Problem::NoCredentials {
                registry: reference.registry.clone(),
                files: self.credentials.files(),
            },
            Err(problem) => problem,
        }
    }
}

/// A digest the registry sent, if it is one.
fn checked_digest(digest: &str) -> std::result::Result<String, Problem> {
    match Rule::Digest.check(digest) {
        None => Ok(digest.to_string()),
        Some(_) => Err(Problem::BadDigest {
            digest: digest.to_string(),
        }),
    }
}

/// `sha256:` and the hex of the content's hash: a manifest's digest (the same as imggen's file
/// hashes).
pub fn sha256_digest(bytes: &[u8]) -> String {
    crate::digest::hash(bytes)
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn query_escape(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The real transport: `ureq` over rustls, trusting the system's certificates plus `extra_ca`
/// (the profile's corporate CA certificates, PEM).
pub struct Http {
    agent: ureq::Agent,
}

/// Where Linux distributions keep the system's trusted certificates (Debian, Fedora, Alpine
/// share the first).
const SYSTEM_BUNDLES: [&str; 2] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

impl Http {
    pub fn new(extra_ca: &[Vec<u8>]) -> Self {
        use ureq::tls::{PemItem, RootCerts, TlsConfig};
        let mut bundles: Vec<Vec<u8>> = std::env::var_os("SSL_CERT_FILE")
            .map(PathBuf::from)
            .into_iter()
            .chain(SYSTEM_BUNDLES.iter().map(PathBuf::from))
            .filter_map(|p| std::fs::read(p).ok())
            .take(1)
            .collect();
        let system = !bundles.is_empty();
        bundles.extend(extra_ca.iter().cloned());
        let certs: Vec<_> = bundles
            .iter()
            .flat_map(|pem| ureq::tls::parse_pem(pem))
            .filter_map(|item| match item {
                Ok(PemItem::Certificate(c)) => Some(c.to_owned()),
                _ => None,
            })
            .collect();
        let roots = if !system && extra_ca.is_empty() {
            RootCerts::WebPki
        } else {
            RootCerts::new_with_certs(&certs)
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(60)))
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .build()
            .new_agent();
        Self { agent }
    }
}

impl Transport for Http {
    fn send(&self, request: &Request) -> std::result::Result<Response, String> {
        let mut builder = ureq::http::Request::builder()
            .method(request.method)
            .uri(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        let built = builder.body(()).map_err(|e| e.to_string())?;
        let mut response = self.agent.run(built).map_err(|e| e.to_string())?;
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    v.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let status = response.status().as_u16();
        let body = if request.method == "HEAD" {
            Vec::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(4 * 1024 * 1024)
                .read_to_vec()
                .map_err(|e| e.to_string())?
        };
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers with recorded responses in order, and keeps what it was asked.
    struct Recorded {
        answers: Mutex<Vec<std::result::Result<Response, String>>>,
        asked: Mutex<Vec<Request>>,
    }

    impl Recorded {
        fn new(answers: Vec<std::result::Result<Response, String>>) -> Self {
            Self {
                answers: Mutex::new(answers.into_iter().rev().collect()),
                asked: Mutex::new(Vec::new()),
            }
        }

        fn asked(&self) -> Vec<String> {
            let asked = self.asked.lock().expect("not poisoned");
            asked
                .iter()
                .map(|r| {
                    let auth = r
                        .headers
                        .iter()
                        .find(|(n, _)| *n == "authorization")
                        .map_or(String::new(), |(_, v)| format!(" [{v}]"));
                    format!("{} {}{auth}", r.method, r.url)
                })
                .collect()
        }
    }

    impl Transport for &Recorded {
        fn send(&self, request: &Request) -> std::result::Result<Response, String> {
            self.asked
                .lock()
                .expect("not poisoned")
                .push(request.clone());
            self.answers
                .lock()
                .expect("not poisoned")
                .pop()
                .expect("a recorded answer for every request")
        }
    }

    /// What Debian's `docker-registry` (distribution 2.8) answered here, headers trimmed.
    const DIGEST: &str = "sha256:6be11a290ab85fda48487af9beaaccf59b88c5cab1aad1857da11a4b20d913c4";

    fn answer(
        status: u16,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::result::Result<Response, String> {
        Ok(Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        })
    }

    fn found() -> std::result::Result<Response, String> {
        answer(
            200,
            &[
                ("content-type", "application/vnd.oci.image.manifest.v1+json"),
                ("docker-content-digest", DIGEST),
            ],
            "",
        )
    }

    fn unauthorized(challenge: &str) -> std::result::Result<Response, String> {
        answer(
            401,
            &[("www-authenticate", challenge)],
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
        )
    }

    fn login(user: &str, password: &str) -> Credentials {
        let auth = BASE64.encode(format!("{user}:{password}"));
        Credentials::parse(
            format!(r#"{{"auths":{{"127.0.0.1:5902":{{"auth":"{auth}"}}}}}}"#).as_bytes(),
        )
        .expect("parses")
    }

    #[test]
    fn a_plain_registry_on_this_machine_is_asked_over_http() {
        let recorded = Recorded::new(vec![
            Err("tls handshake: received corrupt message".into()),
            answer(200, &[], "{}"),
            found(),
        ]);
        let client = Client::new(&recorded, Credentials::default());
        let digest = client
            .digest(&Reference::parse("127.0.0.1:5901/library/debian:bookworm"))
            .expect("a digest");
        assert_eq!(digest, DIGEST);
        assert_eq!(
            recorded.asked(),
            [
                "GET https://127.0.0.1:5901/v2/",
                "GET http://127.0.0.1:5901/v2/",
                "HEAD http://127.0.0.1:5901/v2/library/debian/manifests/bookworm",
            ]
        );
        let accept = &recorded.asked.lock().expect("not poisoned")[2].headers[0];
        assert_eq!(accept.0, "accept");
        assert!(
            accept
                .1
                .starts_with("application/vnd.oci.image.index.v1+json")
        );
    }

    #[test]
    fn a_tls_registry_on_this_machine_is_not_asked_over_http_when_its_certificate_fails() {
        let recorded = Recorded::new(vec![
            Err("invalid peer certificate: UnknownIssuer".into()),
            answer(400, &[], "Client sent an HTTP request to an HTTPS server."),
        ]);
        let error = Client::new(&recorded, Credentials::default())
            .digest(&Reference::parse("127.0.0.1:5902/library/debian:bookworm"))
            .expect_err("untrusted")
            .to_string();
        assert!(
            error.contains(
                "UnknownIssuer; check its address and the network; a registry whose \
                            certificate a corporate CA signed needs that CA"
            ),
            "{error}"
        );
    }

    #[test]
    fn a_remote_registry_is_never_asked_over_http() {
        let recorded = Recorded::new(vec![Err("connection refused".into())]);
        let client = Client::new(&recorded, Credentials::default());
        let error = client
            .digest(&Reference::parse(
                "registry.corp.example/library/python:3.11",
            ))
            .expect_err("unreachable")
            .to_string();
        assert_eq!(
            error,
            "`registry.corp.example/library/python:3.11`: cannot reach the registry: connection \
             refused; check its address and the network"
        );
        assert_eq!(recorded.asked().len(), 1);
    }

    #[test]
    fn basic_authentication_with_the_docker_config_login() {
        let recorded = Recorded::new(vec![
            unauthorized(r#"Basic realm="imggen-e2e""#),
            unauthorized(r#"Basic realm="imggen-e2e""#),
            found(),
            found(),
        ]);
        let client = Client::new(&recorded, login("e2e-user", "e2e-pass"));
        let reference = Reference::parse("127.0.0.1:5902/library/debian:bookworm");
        assert_eq!(client.digest(&reference).expect("a digest"), DIGEST);
        // The second image on the same registry reuses the scheme and the login.
        assert_eq!(client.digest(&reference).expect("a digest"), DIGEST);
        let basic = format!("Basic {}", BASE64.encode("e2e-user:e2e-pass"));
        assert_eq!(
            recorded.asked(),
            [
                "GET https://127.0.0.1:5902/v2/".to_string(),
                "HEAD https://127.0.0.1:5902/v2/library/debian/manifests/bookworm".into(),
                format!(
                    "HEAD https://127.0.0.1:5902/v2/library/debian/manifests/bookworm [{basic}]"
                ),
                format!(
                    "HEAD https://127.0.0.1:5902/v2/library/debian/manifests/bookworm [{basic}]"
                ),
            ]
        );
    }

    #[test]
    fn a_missing_or_refused_login_says_which() {
        let reference = Reference::parse("127.0.0.1:5902/library/debian:bookworm");
        let recorded = Recorded::new(vec![
            answer(200, &[], ""),
            unauthorized("Basic realm=\"r\""),
        ]);
        let error = Client::new(&recorded, Credentials::default())
            .digest(&reference)
            .expect_err("no login")
            .to_string();
        assert!(
            error.contains("no login file was found")
                && error.contains("run `docker login 127.0.0.1:5902` or `podman login"),
            "{error}"
        );
        // Login files that hold nothing for it are named.
        let dir = tempfile::tempdir().expect("temp dir");
        let files = ["auth.json", "config.json"].map(|name| dir.path().join(name));
        for file in &files {
            std::fs::write(file, r#"{"auths":{}}"#).expect("write");
        }
        let recorded = Recorded::new(vec![
            answer(200, &[], ""),
            unauthorized("Basic realm=\"r\""),
        ]);
        let credentials = Credentials::from_files(files.to_vec()).expect("reads");
        let error = Client::new(&recorded, credentials)
            .digest(&reference)
            .expect_err("no login")
            .to_string();
        let named = format!(
            "none of the login files {}, {} has one for `127.0.0.1:5902`",
            files[0].display(),
            files[1].display()
        );
        assert!(error.contains(&named), "{error}");

        let recorded = Recorded::new(vec![
            answer(200, &[], ""),
            unauthorized("Basic realm=\"r\""),
            unauthorized("Basic realm=\"r\""),
        ]);
        let error = Client::new(&recorded, login("e2e-user", "wrong"))
            .digest(&reference)
            .expect_err("bad login")
            .to_string();
        assert!(error.contains("refused the login of `e2e-user`"), "{error}");
    }

    #[test]
    fn token_authentication_as_docker_hub_asks_for_it() {
        let recorded = Recorded::new(vec![
            answer(401, &[], ""),
            unauthorized(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/python:pull""#,
            ),
            answer(200, &[], r#"{"token":"t0k3n","expires_in":300}"#),
            found(),
        ]);
        let client = Client::new(&recorded, Credentials::default());
        let digest = client
            .digest(&Reference::parse("python:3.11-slim-bookworm"))
            .expect("a digest");
        assert_eq!(digest, DIGEST);
        assert_eq!(
            recorded.asked(),
            [
                "GET https://registry-1.docker.io/v2/",
                "HEAD https://registry-1.docker.io/v2/library/python/manifests/3.11-slim-bookworm",
                "GET https://auth.docker.io/token?scope=repository%3Alibrary%2Fpython%3Apull&service=registry.docker.io",
                "HEAD https://registry-1.docker.io/v2/library/python/manifests/3.11-slim-bookworm [Bearer t0k3n]",
            ]
        );
    }

    #[test]
    fn a_missing_tag_is_named_with_the_registry_message() {
        let recorded = Recorded::new(vec![
            answer(200, &[], "{}"),
            answer(
                404,
                &[],
                r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"nope"}}]}"#,
            ),
        ]);
        let error = Client::new(&recorded, Credentials::default())
            .digest(&Reference::parse("127.0.0.1:5901/library/debian:nope"))
            .expect_err("missing")
            .to_string();
        assert!(
            error.starts_with("`127.0.0.1:5901/library/debian:nope`: the registry has no such image or tag (manifest unknown)"),
            "{error}"
        );
    }

    #[test]
    fn without_a_digest_header_the_manifest_is_hashed_and_checked() {
        let manifest = r#"{"schemaVersion":2}"#;
        let recorded = Recorded::new(vec![
            answer(200, &[], "{}"),
            answer(200, &[], ""),
            answer(200, &[], manifest),
        ]);
        let digest = Client::new(&recorded, Credentials::default())
            .digest(&Reference::parse("127.0.0.1:5901/x:1"))
            .expect("a digest");
        assert_eq!(digest, sha256_digest(manifest.as_bytes()));
        // sha256sum of the same bytes.
        assert_eq!(
            digest,
            "sha256:bafebd36189ad3688b7b3915ea55d461e0bfcfbdde11e54b0a123999fb6be50f"
        );
        // The HEAD named no digest; the GET names one its content does not hash to.
        let recorded = Recorded::new(vec![
            answer(200, &[], "{}"),
            answer(200, &[], ""),
            answer(200, &[("docker-content-digest", DIGEST)], manifest),
        ]);
        let error = Client::new(&recorded, Credentials::default())
            .digest(&Reference::parse("127.0.0.1:5901/x:1"))
            .expect_err("mismatch")
            .to_string();
        assert!(error.contains("digest mismatch"), "{error}");
    }

    #[test]
    fn a_digest_header_that_is_no_digest_is_refused() {
        let recorded = Recorded::new(vec![
            answer(200, &[], "{}"),
            answer(200, &[("docker-content-digest", "sha256:$(reboot)")], ""),
        ]);
        let error = Client::new(&recorded, Credentials::default())
            .digest(&Reference::parse("127.0.0.1:5901/x:1"))
            .expect_err("refused")
            .to_string();
        assert!(
            error.contains("named `sha256:$(reboot)` as the digest"),
            "{error}"
        );
    }

    #[test]
    fn reads_logins_as_docker_login_stores_them() {
        let auth = BASE64.encode("me:pa:ss");
        let config = format!(
            r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}},"reg.example:5000":{{"username":"u","password":"p"}},"empty.example":{{}}}}}}"#
        );
        let credentials = Credentials::parse(config.as_bytes()).expect("parses");
        let login = |reference: &str| login_for(&credentials, reference);
        let hub = login("python:3.11").expect("Docker Hub's login");
        assert_eq!((hub.user.as_str(), hub.password.as_str()), ("me", "pa:ss"));
        assert_eq!(login("reg.example:5000/x:1").expect("a login").user, "u");
        assert!(login("empty.example/x:1").is_none());
        assert!(Credentials::parse(br#"{"auths":{"x":{"auth":"%%%"}}}"#).is_err());
        assert!(Credentials::parse(br#"{"credsStore":7}"#).is_err());
    }

    /// A login may be for a namespace: the most specific one that holds the image wins, as in
    /// the containers tools; Docker's URL keys and Docker Hub's other names are whole registries.
    #[test]
    fn a_namespace_login_is_for_the_images_under_it() {
        let login = |user: &str| format!(r#"{{"auth":"{}"}}"#, BASE64.encode(format!("{user}:pw")));
        let config = format!(
            r#"{{"auths":{{"quay.io":{},"quay.io/team-a/":{},"quay.io/team-a/app":{},
            "docker.io/myorg":{},"https://index.docker.io/v1/":{}}}}}"#,
            login("everyone"),
            login("team-a"),
            login("app"),
            login("myorg"),
            login("hub")
        );
        let credentials = Credentials::parse(config.as_bytes()).expect("parses");
        let user = |image: &str| login_for(&credentials, image).map(|l| (l.user, l.scope));
        let found = |user: &str, scope: &str| Some((user.to_string(), scope.to_string()));
        assert_eq!(
            user("quay.io/team-a/app:1"),
            found("app", "quay.io/team-a/app")
        );
        assert_eq!(
            user("quay.io/team-a/other:1"),
            found("team-a", "quay.io/team-a")
        );
        assert_eq!(user("quay.io/team-b/x:1"), found("everyone", "quay.io"));
        assert_eq!(user("myorg/tool:1"), found("myorg", "docker.io/myorg"));
        assert_eq!(
            user("index.docker.io/myorg/tool:1"),
            found("myorg", "docker.io/myorg")
        );
        assert_eq!(user("python:3.11"), found("hub", "docker.io"));
        for (key, scope) in [
            ("https://index.docker.io/v1/", "docker.io"),
            ("registry-1.docker.io/library", "docker.io/library"),
            ("http://reg.example:5000/v2/", "reg.example:5000"),
            ("quay.io/team/", "quay.io/team"),
            ("registry", "registry"),
        ] {
            assert_eq!(scope_of(key), scope, "{key}");
        }
    }

    /// A credential helper as Docker runs one, in a folder of its own: it records every server
    /// it is asked about, knows two, and says "credentials not found" for the others.
    fn fake_helper(name: &str, script: &str) -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(format!("docker-credential-{name}"));
        std::fs::write(&path, script).expect("write the helper");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        dir
    }

    /// Credentials from `config`, with the fake [`HELPER`] as `docker-credential-fake`.
    fn with_fake_helper(config: &str) -> (tempfile::TempDir, Credentials) {
        let dir = fake_helper("fake", HELPER);
        let credentials = Credentials::parse(config.as_bytes())
            .expect("parses")
            .with_helper_dir(dir.path());
        (dir, credentials)
    }

    /// The login `credentials` have for `reference`, when nothing fails.
    fn login_for(credentials: &Credentials, reference: &str) -> Option<Login> {
        credentials
            .for_registry(&Reference::parse(reference))
            .expect("no helper fails")
    }

    const HELPER: &str = r#"#!/bin/sh
[ "$1" = get ] || exit 3
read -r server
echo "$server" >>"$(dirname "$0")/asked"
case "$server" in
reg.example:5000) printf '{"ServerURL":"%s","Username":"helper-user","Secret":"s3:cret"}\n' "$server" ;;
https://index.docker.io/v1/) printf '{"Username":"hub-user","Secret":"h"}' ;;
*) echo "credentials not found in native keychain"; exit 1 ;;
esac
"#;

    #[test]
    fn a_credential_helper_is_asked_first_and_once_per_registry() {
        let auth = BASE64.encode("file-user:pw");
        let (dir, credentials) = with_fake_helper(&format!(
            r#"{{"auths":{{"reg.example:5000":{{"auth":"{auth}"}},"other.example":{{"auth":"{auth}"}}}},"credsStore":"fake"}}"#
        ));
        let login = |reference: &str| login_for(&credentials, reference);
        let helped = login("reg.example:5000/x:1").expect("the helper's login");
        assert_eq!(
            (helped.user.as_str(), helped.password.as_str()),
            ("helper-user", "s3:cret")
        );
        assert_eq!(helped.helper.as_deref(), Some("fake"));
        assert_eq!(login("reg.example:5000/y:2"), Some(helped));
        // The helper has none for this registry: the config file's own login.
        let fallback = login("other.example/x:1").expect("the file's login");
        assert_eq!(
            (fallback.user.as_str(), fallback.helper),
            ("file-user", None)
        );
        assert_eq!(login("python:3.11").expect("hub").user, "hub-user");
        assert!(login("nowhere.example/x:1").is_none());
        let asked = std::fs::read_to_string(dir.path().join("asked")).expect("asked");
        assert_eq!(
            asked,
            "reg.example:5000\nother.example\nhttps://index.docker.io/v1/\nnowhere.example\n",
            "each server once, Docker Hub by its helper name"
        );
    }

    /// What `mirror` hands skopeo: the login imggen uses, from a helper or from the file, as a
    /// login file of its own that a reader of login files (here imggen's own) reads back as
    /// that one login; nothing for a registry imggen has no login for.
    #[test]
    fn the_login_in_use_is_handed_on_as_a_login_file_of_its_own() {
        let auth = BASE64.encode("file-user:pw");
        let (dir, credentials) = with_fake_helper(&format!(
            r#"{{"auths":{{"other.example":{{"auth":"{auth}"}}}},"credHelpers":{{"reg.example:5000":"fake"}}}}"#
        ));
        let recorded = Recorded::new(Vec::new());
        let client = Client::new(&recorded, credentials);
        let handed_on = |reference: &str, scope: &str| {
            let login = client
                .login_for(&Reference::parse(reference))
                .expect("no helper fails")?;
            assert_eq!(login.scope, scope);
            let file = Credentials::parse(login_file([&login]).as_bytes()).expect("a login file");
            assert!(login_for(&file, "elsewhere.example/x:1").is_none());
            login_for(&file, reference)
        };
        let helped = handed_on("reg.example:5000/x:1", "reg.example:5000").expect("a login");
        assert_eq!(
            (
                helped.user.as_str(),
                helped.password.as_str(),
                helped.helper
            ),
            ("helper-user", "s3:cret", None)
        );
        let filed = handed_on("other.example/x:1", "other.example").expect("a login");
        assert_eq!(
            (filed.user.as_str(), filed.password.as_str()),
            ("file-user", "pw")
        );
        assert!(handed_on("nologin.example/x:1", "nologin.example").is_none());
        let asked = std::fs::read_to_string(dir.path().join("asked")).expect("asked");
        assert_eq!(
            asked, "reg.example:5000\n",
            "only the registry with a helper"
        );
    }

    /// The containers tools' order (containers-auth.json(5)), then Docker's file; empty
    /// variables are unset ones, and a path named twice is read once.
    #[test]
    fn login_files_are_searched_in_the_containers_tools_order() {
        let env = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            login_files(
                move |name| {
                    pairs
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| std::ffi::OsString::from(v))
                },
                None,
            )
        };
        let paths = |list: &[&str]| list.iter().map(PathBuf::from).collect::<Vec<_>>();
        assert_eq!(
            env(&[("HOME", "/h")]),
            paths(&["/h/.config/containers/auth.json", "/h/.docker/config.json"])
        );
        assert_eq!(
            env(&[
                ("HOME", "/h"),
                ("REGISTRY_AUTH_FILE", "/a.json"),
                ("XDG_RUNTIME_DIR", "/run/user/1"),
                ("XDG_CONFIG_HOME", "/cfg"),
                ("DOCKER_CONFIG", "/d"),
            ]),
            paths(&[
                "/a.json",
                "/run/user/1/containers/auth.json",
                "/cfg/containers/auth.json",
                "/d/config.json",
            ])
        );
        assert_eq!(
            env(&[
                ("HOME", "/h"),
                ("DOCKER_CONFIG", ""),
                ("REGISTRY_AUTH_FILE", "/h/.docker/config.json")
            ]),
            paths(&["/h/.docker/config.json", "/h/.config/containers/auth.json"])
        );
        assert!(env(&[]).is_empty());
        // Without XDG_RUNTIME_DIR, where the containers tools keep the user's logins instead.
        let root =
            |xdg: &str| login_files(|n| (n == "XDG_RUNTIME_DIR").then(|| xdg.into()), Some(0));
        assert_eq!(root(""), paths(&["/run/containers/0/auth.json"]));
        assert_eq!(
            root("/run/user/0"),
            paths(&["/run/user/0/containers/auth.json"])
        );
    }

    /// A registry's login comes from the first file that has one; the others' logins stay
    /// theirs, and a refused login names the file it came from.
    #[test]
    fn each_registry_takes_its_login_from_the_first_file_that_has_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, logins: &[(&str, &str)]| {
            let auths: serde_json::Map<String, serde_json::Value> = logins
                .iter()
                .map(|(registry, user)| {
                    let auth = BASE64.encode(format!("{user}:pw"));
                    (registry.to_string(), serde_json::json!({ "auth": auth }))
                })
                .collect();
            let path = dir.path().join(name);
            std::fs::write(&path, serde_json::json!({ "auths": auths }).to_string())
                .expect("write");
            path
        };
        let podman = write("auth.json", &[("a.example", "podman-user")]);
        let docker = write(
            "config.json",
            &[("a.example", "docker-user"), ("b.example", "docker-b")],
        );
        let missing = dir.path().join("none.json");
        let credentials =
            Credentials::from_files(vec![missing, podman.clone(), docker.clone()]).expect("reads");
        assert_eq!(credentials.files(), [podman.clone(), docker.clone()]);
        let a = login_for(&credentials, "a.example/x:1").expect("a login");
        assert_eq!((a.user.as_str(), a.file), ("podman-user", Some(podman)));
        let b = login_for(&credentials, "b.example/x:1").expect("a login");
        assert_eq!(
            (b.user.as_str(), b.file),
            ("docker-b", Some(docker.clone()))
        );
        assert!(login_for(&credentials, "c.example/x:1").is_none());
        std::fs::write(&docker, "{").expect("write");
        let error = Credentials::from_files(vec![docker.clone()]).expect_err("not JSON");
        assert!(
            error.to_string().contains(&docker.display().to_string()),
            "{error}"
        );
    }

    #[test]
    fn cred_helpers_name_a_helper_for_one_registry_only() {
        let (dir, credentials) =
            with_fake_helper(r#"{"credHelpers":{"https://reg.example:5000":"fake"}}"#);
        let login = |reference: &str| login_for(&credentials, reference);
        assert_eq!(
            login("reg.example:5000/x:1").expect("a login").user,
            "helper-user"
        );
        assert!(login("other.example/x:1").is_none());
        let asked = std::fs::read_to_string(dir.path().join("asked")).expect("asked");
        assert_eq!(asked, "reg.example:5000\n", "no helper for other.example");
    }

    #[test]
    fn a_failing_credential_helper_is_an_error_that_names_it() {
        let failing = |name: &str, script: &str, config: &str| {
            let dir = fake_helper(name, script);
            Credentials::parse(config.as_bytes())
                .expect("parses")
                .with_helper_dir(dir.path())
                .for_registry(&Reference::parse("reg.example:5000/x:1"))
                .expect_err("the helper fails")
                .to_string()
        };
        let store = |name: &str| format!(r#"{{"credsStore":"{name}"}}"#);
        let boom = failing("boom", "#!/bin/sh\necho boom >&2\nexit 2\n", &store("boom"));
        assert!(
            boom.contains("`docker-credential-boom`") && boom.contains("boom"),
            "{boom}"
        );
        let token = "#!/bin/sh\nprintf '{\"Username\":\"<token>\",\"Secret\":\"t\"}'\n";
        let token = failing("tok", token, &store("tok"));
        assert!(token.contains("identity token"), "{token}");
        let junk = failing("junk", "#!/bin/sh\necho hello\n", &store("junk"));
        assert!(junk.contains("not the JSON"), "{junk}");
        let missing = failing("present", HELPER, &store("absent"));
        assert!(
            missing.contains("`docker-credential-absent`") && missing.contains("cannot be run"),
            "{missing}"
        );
        // A name that is a path is refused before anything runs.
        let path = failing("x", HELPER, &store("../../bin/sh"));
        assert!(path.contains("not a helper name"), "{path}");
    }

    #[cfg(unix)]
    #[test]
    fn a_helper_that_leaves_a_child_holding_its_output_is_killed_with_it_at_the_timeout() {
        // The helper answers, but a child it started keeps the output pipe open: before, imggen
        // waited for the pipe as long as the child lived (hung at 100 s with `sleep 3000 &`).
        let dir = fake_helper(
            "lingers",
            "#!/bin/sh\nsleep 3000 &\necho $! > \"$(dirname \"$0\")/child.pid\"\n\
             printf '{\"Username\":\"u\",\"Secret\":\"p\"}'\n",
        );
        let started = std::time::Instant::now();
        let answer = run_helper(
            "lingers",
            "reg.example",
            Some(dir.path()),
            Duration::from_millis(800),
        );
        let took = started.elapsed();
        let message = answer.expect_err("no answer in time").to_string();
        assert!(message.contains("did not answer in"), "{message}");
        assert!(took < Duration::from_secs(10), "waited {took:?}");
        let pid = std::fs::read_to_string(dir.path().join("child.pid")).expect("the child's pid");
        let alive = |pid: &str| {
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
                .is_ok_and(|stat| !stat.contains(") Z "))
        };
        let gone = (0..200).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            !alive(&pid)
        });
        assert!(gone, "the helper's child {pid} outlived it");
    }

    #[test]
    fn challenges_parse_with_quotes_and_commas() {
        assert_eq!(
            Challenge::parse(
                r#"Bearer realm="https://a/token",service="reg,istry",scope="repository:x:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://a/token".into(),
                service: Some("reg,istry".into()),
                scope: Some("repository:x:pull,push".into()),
            })
        );
        assert_eq!(
            Challenge::parse("Basic realm=\"x\""),
            Some(Challenge::Basic)
        );
        assert_eq!(Challenge::parse("Negotiate"), None);
    }
}
