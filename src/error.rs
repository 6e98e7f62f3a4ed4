//! The one error type, and all of imggen's error wording.
//!
//! Messages are lowercase without a trailing period, and put user values in backticks.
//! Every variant that comes from a file carries its path and, where there is one, its line.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why Compose refuses a `.env` (read by `dotenv`; the wording is below).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// A quoted value opens on the line and never closes.
    UnclosedQuote,
    /// A key holds a character Compose does not allow in a variable name.
    KeyCharacter(char),
    /// A key holds a space.
    KeySpace,
}

/// Where a value came from: a file and line, `--set`, or the built-in defaults.
pub type Location = String;

/// The location of a value no profile file or `--set` gave: imggen's own default.
pub const DEFAULTS: &str = "built-in defaults";

#[derive(Debug)]
pub enum Error {
    /// Reading a file or folder failed.
    Read {
        path: PathBuf,
        source: io::Error,
    },
    /// Writing into the output folder failed; earlier files of this render may be written.
    Write {
        path: PathBuf,
        source: io::Error,
    },
    /// A TOML file (profile or `pack.toml`) that does not parse or does not fit its schema.
    Toml {
        location: Location,
        message: String,
    },
    UnknownProfile {
        name: String,
        available: Vec<String>,
    },
    ExtendsCycle {
        /// The file and line of the `extends` that closes the circle.
        at: String,
        chain: Vec<String>,
    },
    BadSet {
        arg: String,
        reason: Box<Reason>,
    },
    /// A value that parses but is not allowed (bad image reference, unsafe name, ...).
    Invalid {
        location: Location,
        key: String,
        value: String,
        reason: Box<Reason>,
    },
    /// A key of a free-form table (`labels`, `python.env`, `postgres.settings`) that is not allowed.
    InvalidKey {
        location: Location,
        table: String,
        key: String,
        reason: Box<Reason>,
    },
    /// A file the profile names (CA certificate, krb5.conf, requirements) that cannot be used.
    ProfileFile {
        location: Location,
        key: String,
        path: PathBuf,
        reason: Box<Reason>,
    },
    UnknownPack {
        name: String,
        available: Vec<String>,
    },
    /// A pack folder or `pack.toml` that is not usable.
    Pack {
        pack: String,
        reason: Box<Reason>,
    },
    /// Tera's own report (it already names the template file, line and column).
    Template(tera::Error),
    /// Rendering one template went past a bound (`budget`): `template` as Tera names it, for
    /// `profile`.
    RenderBound {
        template: String,
        profile: String,
        bound: Bound,
    },
    /// An environment variable that sets a bound of `budget` holds no whole number from 1.
    BadBoundVar {
        var: &'static str,
        value: String,
    },
    /// The thread that watches renders of packs on disk could not start.
    Watchdog(io::Error),
    /// An output path that is a name imggen keeps for itself in an output folder
    /// (`manifest::is_reserved`), produced by pack `pack`.
    ReservedOutput {
        path: String,
        pack: String,
    },
    /// Output `path` of pack `pack` and output `other` of `other_pack`, one a folder the other
    /// needs to be a file.
    OutputInsideOutput {
        path: String,
        pack: String,
        other: String,
        other_pack: String,
    },
    /// An output path that two packs produce (`first` and `second` name the packs).
    DuplicateOutput {
        path: String,
        first: String,
        second: String,
    },
    /// Generated files edited by hand since imggen wrote them, which a render would overwrite.
    HandEdited {
        paths: Vec<PathBuf>,
    },
    /// A file in the output folder that imggen did not write.
    NotOurs {
        path: PathBuf,
    },
    /// A rendered file that fails imggen's in-memory check (a template bug).
    BadOutput {
        path: String,
        pack: String,
        reason: Box<Reason>,
    },
    /// `lint --explain` of a rule that does not exist.
    UnknownRule {
        id: String,
        known: Vec<String>,
    },
    /// No container engine that can build here.
    NoEngine {
        asked: Option<&'static str>,
    },
    /// Running the engine's program failed (not the build: starting it); `output` is what the
    /// program (or the OS) said.
    Engine {
        program: String,
        output: String,
    },
    /// `init` without a terminal and without the flag for a question.
    /// `init` without a terminal and without `--yes`: every question no flag answered, as
    /// `(flag, question)`.
    MissingAnswers {
        answers: Vec<(String, String)>,
    },
    /// Something failed after a file was written: the file stays, and the exit status is 1.
    AfterWrite {
        wrote: PathBuf,
        cause: Box<Error>,
    },
    /// The user pressed Ctrl-C (or the terminal went away) during `init`; `cause` is what the
    /// terminal library said.
    Interrupted {
        cause: String,
    },
    /// `--image` that is not `ROLE=IMAGE` (`role: None`), or names no known role.
    BadImageArg {
        role: Option<String>,
        roles: Vec<String>,
    },
    /// `build` found a rendered folder that is not what the profile renders.
    Stale {
        dir: PathBuf,
    },
    /// `apply --platform` names a folder without the platform's project folders.
    NotAPlatform {
        dir: PathBuf,
        missing: Vec<String>,
    },
    /// Two `.env` files of the checkout hold different values a user set for one key since
    /// imggen set it: `apply` cannot tell which the platform should run.
    KeptValuesDiffer {
        key: String,
        first: (String, String),
        second: (String, String),
    },
    /// The platform wizard's `platform-config.yaml` is not a YAML mapping.
    WizardConfig {
        path: PathBuf,
        reason: String,
    },
    /// `apply` with a profile that renders no `.env` (no compose pack).
    NoEnvRendered,
    /// In layered mode the platform would pick `picks` for the Kerberos test image by its name,
    /// but the image needs `wanted`.
    WrongInstaller {
        image: String,
        picks: &'static str,
        wanted: &'static str,
    },
    /// A `.env` Compose cannot read: it stops at `line`.
    EnvUnreadable {
        path: PathBuf,
        line: usize,
        why: Why,
    },
    /// A file of the platform checkout that `apply` reads is a link to outside the checkout.
    OutsideCheckout {
        path: PathBuf,
        target: PathBuf,
    },
    /// A file of imggen's own in the project (`imggen.toml`, `imggen.lock`, a record) that is
    /// not a small regular file inside the project.
    ProjectFile {
        path: PathBuf,
        reason: Box<Reason>,
    },
    /// A file of the platform checkout that `apply` reads is not a small regular file.
    CheckoutFile {
        path: PathBuf,
        reason: Box<Reason>,
    },
    /// A file of the user's that imggen edits in place (a checkout's `.env`, a profile, the
    /// project file) is a symbolic link.
    LinkNotWritten {
        path: PathBuf,
    },
    /// Another override file in the project: Compose reads one, and `ours_first` says whether
    /// that would be imggen's (hiding the user's) or theirs (hiding imggen's).
    OverrideNotRead {
        ours: PathBuf,
        other: PathBuf,
        ours_first: bool,
    },
    /// The project's `.env` lists its compose files in `COMPOSE_FILE`, without imggen's override.
    OverrideNotListed {
        ours: PathBuf,
        env: PathBuf,
    },
    /// The rendered `.env` sets `key` to a value Compose would not read as written.
    EnvNotPlain {
        key: String,
        value: String,
    },
    /// The output folder is a symbolic link, or lies below one on the part of its path a pull
    /// request could have committed.
    OutputIsLink {
        dir: PathBuf,
        link: PathBuf,
    },
    /// A profile name (a file name in `./profiles/`) holds a control character.
    ControlInProfileName {
        name: String,
    },
    /// An output folder's manifest lists a path that leaves the folder.
    ManifestPath {
        manifest: PathBuf,
        line: usize,
        path: String,
    },
    /// A vendored pack's record lists a path that leaves the pack's folder.
    VendorRecordPath {
        record: PathBuf,
        path: String,
    },
    /// An output folder's manifest remembers a profile path outside the project.
    RememberedOutside {
        manifest: PathBuf,
        reference: String,
    },
    /// A symbolic link inside the output folder, where imggen would write through it.
    LinkInOutput {
        path: PathBuf,
    },
    /// Output `path` needs a folder where the output folder holds the file `file`, or (`None`)
    /// is a file where the output folder holds a folder: left by an earlier render, or a user.
    InTheWay {
        path: PathBuf,
        file: Option<PathBuf>,
    },
    /// `build` found, in the folder it hands the engine as an image's build context, something
    /// the profile does not render (a file, a folder, a link): the engine is sent all of it.
    StrayInContext {
        paths: Vec<PathBuf>,
    },
    /// `--out` points at a file, not a folder.
    OutNotDir {
        path: PathBuf,
    },
    /// `lock --update NAME` where NAME is no base image of the profile (nor a role using one).
    NotABase {
        name: String,
        bases: Vec<String>,
    },
    /// skopeo could not copy an image; `output` is what it said.
    CopyFailed {
        source: String,
        destination: String,
        output: String,
    },
    /// `mirror` without `--to` for a profile without `corporate.registry`.
    NoMirrorTarget,
    /// A `--to` or `--from` that is no registry.
    BadRegistryArg {
        flag: &'static str,
        value: String,
        reason: Box<Reason>,
    },
    /// Asking a registry about `reference` failed.
    Registry {
        reference: String,
        problem: Box<Problem>,
    },
}

/// Why a registry could not tell imggen what it asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No connection (refused, DNS, TLS); `cause` is what the HTTP library said.
    Unreachable { cause: String },
    /// The registry wants a login and the credentials file has none for it.
    NoCredentials {
        registry: String,
        /// The login files read (none: none was found).
        files: Vec<PathBuf>,
    },
    /// The registry refused the login the credentials file (or its `helper`) gave.
    BadCredentials {
        user: String,
        file: Option<PathBuf>,
        helper: Option<String>,
    },
    /// The credential helper a login file names for the registry failed.
    CredentialHelper { helper: String, message: String },
    /// 404: no such repository or tag.
    NotFound { message: String },
    /// 403.
    Denied { message: String },
    /// Any other answer.
    Status { status: u16, message: String },
    /// A `Docker-Content-Digest` that is not a sha256 digest.
    BadDigest { digest: String },
    /// The content does not hash to the digest the registry named for it.
    DigestMismatch { claimed: String, actual: String },
    /// A `WWW-Authenticate` imggen cannot answer.
    BadChallenge { header: String },
    /// After a copy, the destination serves another digest than the one copied.
    CopiedDifferently { expected: String, served: String },
}

/// What a registry said, in parentheses, when it said something.
fn said(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = |file: &Option<PathBuf>| {
            file.as_ref().map_or_else(
                || "the Docker config file (~/.docker/config.json)".to_string(),
                |p| p.display().to_string(),
            )
        };
        match self {
            Self::Unreachable { cause } => {
                write!(
                    f,
                    "cannot reach the registry: {cause}; check its address and the network"
                )?;
                if cause.contains("certificate") || cause.contains("UnknownIssuer") {
                    f.write_str(
                        "; a registry whose certificate a corporate CA signed needs that CA in \
                         the profile's `corporate.ca_certificates`",
                    )?;
                }
                Ok(())
            }
            Self::NoCredentials { registry, files } => {
                let read = match files.as_slice() {
                    [] => "no login file was found (~/.docker/config.json, \
                           $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json)"
                        .to_string(),
                    [one] => format!("{} has none for `{registry}`", one.display()),
                    files => {
                        let names: Vec<String> =
                            files.iter().map(|p| p.display().to_string()).collect();
                        format!(
                            "none of the login files {} has one for `{registry}`",
                            names.join(", ")
                        )
                    }
                };
                write!(
                    f,
                    "the registry asks for a login, and {read}; run `docker login {registry}` \
                     or `podman login {registry}` (imggen reads the logins they store: \
                     `auths`, `credHelpers`, `credsStore`)"
                )
            }
            Self::BadCredentials {
                user,
                file: from,
                helper,
            } => {
                let source = helper.as_ref().map_or_else(
                    || file(from),
                    |h| format!("the credential helper `docker-credential-{h}`"),
                );
                write!(
                    f,
                    "the registry refused the login of `{user}` from {source}; run `docker \
                     login` again"
                )
            }
            Self::CredentialHelper { helper, message } => write!(
                f,
                "the credential helper `docker-credential-{helper}` that the login file names \
                 did not give a login: {message}; install it on PATH, or change `credsStore` / \
                 `credHelpers` in that file (a Docker config.json or containers auth.json)"
            ),
            Self::NotFound { message } => write!(
                f,
                "the registry has no such image or tag{}; check the name and tag, or copy it \
                 there first (`imggen mirror --to REGISTRY`)",
                said(message)
            ),
            Self::Denied { message } => write!(f, "the registry denied access{}", said(message)),
            Self::Status { status, message } => {
                write!(f, "the registry answered HTTP {status}{}", said(message))
            }
            Self::BadDigest { digest } => write!(
                f,
                "the registry named `{digest}` as the digest, which is not `sha256:` and 64 hex \
                 digits"
            ),
            Self::DigestMismatch { claimed, actual } => write!(
                f,
                "digest mismatch: the registry says `{claimed}`, but the content hashes to \
                 `{actual}`; something between imggen and the registry changes what it sends"
            ),
            Self::CopiedDifferently { expected, served } => write!(
                f,
                "digest mismatch after the copy: `{expected}` was copied, the registry serves \
                 `{served}`; another copy may have raced this one, run `imggen mirror` again"
            ),
            Self::BadChallenge { header } => write!(
                f,
                "the registry asks for an authentication imggen does not speak: `{header}`"
            ),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn read(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Read {
            path: path.into(),
            source,
        }
    }

    pub fn invalid(
        location: impl Into<String>,
        key: impl Into<String>,
        value: impl Into<String>,
        reason: Reason,
    ) -> Self {
        Self::Invalid {
            location: location.into(),
            key: key.into(),
            value: value.into(),
            reason: Box::new(reason),
        }
    }

    pub fn pack(pack: impl Into<String>, reason: Reason) -> Self {
        Self::Pack {
            pack: pack.into(),
            reason: Box::new(reason),
        }
    }
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, source } => {
                write!(f, "cannot read `{}`: {}", path.display(), io_reason(source))
            }
            Self::Write { path, source } => write!(
                f,
                "cannot write `{}`: {} (files written before it are complete; files after it \
                 are unchanged)",
                path.display(),
                io_reason(source)
            ),
            Self::Toml { location, message } => write!(f, "{location}: {message}"),
            Self::Registry { reference, problem } => write!(f, "`{reference}`: {problem}"),
            Self::CopyFailed {
                source,
                destination,
                output,
            } => write!(
                f,
                "copying `{source}` to `{destination}` failed; skopeo said:\n{output}"
            ),
            Self::NoMirrorTarget => f.write_str(
                "the profile names no `corporate.registry` to mirror into; give `--to REGISTRY`",
            ),
            Self::BadRegistryArg {
                flag,
                value,
                reason,
            } => write!(f, "bad `{flag} {value}`: {reason}"),
            Self::NotABase { name, bases } => write!(
                f,
                "`{name}` is no base image of the profile; name an image or a role using one \
                 ({})",
                list(bases)
            ),
            Self::UnknownProfile { name, available } => write!(
                f,
                "unknown profile `{name}` (available: {}; or give a path to a `.toml` file)",
                list(available)
            ),
            Self::ExtendsCycle { at, chain } => write!(
                f,
                "{at}: `extends` forms a cycle: {}; remove this `extends` or point it at a \
                 profile outside the circle",
                chain.join(" -> ")
            ),
            Self::BadSet { arg, reason } => write!(f, "bad `--set {arg}`: {reason}"),
            Self::Invalid {
                location,
                key,
                value,
                reason,
            } => {
                write!(
                    f,
                    "{location}: `{key}` = `{}` is not allowed: {reason}",
                    value.escape_debug()
                )
            }
            Self::InvalidKey {
                location,
                table,
                key,
                reason,
            } => write!(
                f,
                "{location}: key `{}` in `[{table}]` is not allowed: {reason}",
                key.escape_debug()
            ),
            Self::ProfileFile {
                location,
                key,
                path,
                reason,
            } => {
                write!(
                    f,
                    "{location}: `{key}` names `{}`, which {reason}",
                    path.display()
                )
            }
            Self::UnknownPack { name, available } => {
                write!(
                    f,
                    "unknown template pack `{name}` (available: {})",
                    list(available)
                )
            }
            Self::Pack { pack, reason } => write!(f, "template pack `{pack}`: {reason}"),
            Self::Template(error) => write!(f, "{error}"),
            Self::RenderBound {
                template,
                profile,
                bound,
            } => {
                let (what, fix) = match bound {
                    Bound::Seconds(n) => (
                        format!("ran for more than {n} s"),
                        format!(
                            "a loop in it may never end (nested `range` loops multiply); fix \
                             the template, or set {} to allow longer",
                            crate::names::RENDER_SECONDS_VAR
                        ),
                    ),
                    Bound::Megabytes(n) => (
                        format!("took imggen past {n} MB of memory"),
                        format!(
                            "a loop in it may grow a string or a list without end; fix the \
                             template, or set {} to allow more",
                            crate::names::RENDER_MEGABYTES_VAR
                        ),
                    ),
                    Bound::Output(n) => (
                        format!("produced more than {n} bytes"),
                        String::from(
                            "imggen writes no generated file larger than that; look for a loop \
                             or a repeated value in the template, or a value in the profile that \
                             is far longer than it should be",
                        ),
                    ),
                };
                write!(
                    f,
                    "template `{template}` (profile `{profile}`) {what}: {fix}; nothing was \
                     written"
                )
            }
            Self::BadBoundVar { var, value } => write!(
                f,
                "{var} is `{value}`; it takes a whole number from 1 (unset it for the default)"
            ),
            Self::Watchdog(source) => write!(
                f,
                "cannot start the thread that bounds a render of a pack on disk: {source}; \
                 nothing was written"
            ),
            Self::ReservedOutput { path, pack } => write!(
                f,
                "pack `{pack}` would write `{path}`, a name imggen keeps for itself in an output \
                 folder (its manifest `{}`, or a temporary file `.NAME{}…`, which the next \
                 render removes); give that output, or the file it copies, another name",
                crate::names::MANIFEST_FILE,
                crate::names::TEMPORARY_MARK
            ),
            Self::OutputInsideOutput {
                path,
                pack,
                other,
                other_pack,
            } => write!(
                f,
                "output `{path}` of pack `{pack}` and output `{other}` of pack `{other_pack}` \
                 cannot both be written: one would be a folder holding the other, which is a \
                 file; rename one of them"
            ),
            Self::DuplicateOutput {
                path,
                first,
                second,
            } => {
                write!(
                    f,
                    "output `{path}` is produced twice, by pack `{first}` and by pack `{second}`"
                )
            }
            Self::HandEdited { paths } => {
                let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                write!(
                    f,
                    "{} edited by hand since imggen wrote it: {}; refusing to overwrite (keep \
                     your change in the profile or a vendored pack, then pass `--force`); nothing \
                     was written",
                    if shown.len() == 1 {
                        "a generated file was"
                    } else {
                        "generated files were"
                    },
                    list(&shown)
                )
            }
            Self::NotOurs { path } => write!(
                f,
                "`{}` was not generated by imggen; refusing to overwrite it (move it away, or \
                 pass `--force`)",
                path.display()
            ),
            Self::NoEngine {
                asked: Some(program),
            } => write!(
                f,
                "`{program}` cannot build here (not installed, or its daemon does not answer)"
            ),
            Self::NoEngine { asked: None } => write!(
                f,
                "no container engine found: install docker (with a running daemon), podman or \
                 buildah, or pass `--engine`"
            ),
            Self::MissingAnswers { answers } => {
                write!(
                    f,
                    "`imggen init` has no terminal to ask in; answer with flags, or pass `--yes` \
                     to take the default of every question no flag answers:"
                )?;
                let width = answers
                    .iter()
                    .map(|(flag, _)| flag.len())
                    .max()
                    .unwrap_or(0);
                for (flag, question) in answers {
                    write!(f, "\n  {flag:width$}  {question}")?;
                }
                Ok(())
            }
            Self::AfterWrite { wrote, cause } => {
                write!(f, "wrote {}, but then: {cause}", wrote.display())
            }
            Self::Interrupted { cause } => write!(f, "stopped ({cause}); nothing was written"),
            Self::BadImageArg {
                role: Some(role),
                roles,
            } => write!(f, "unknown role `{role}` (roles: {})", list(roles)),
            Self::BadImageArg { role: None, roles } => {
                write!(f, "expected `ROLE=IMAGE` (roles: {})", list(roles))
            }
            Self::Engine { program, output } => write!(f, "cannot run `{program}`: {output}"),
            Self::Stale { dir } => write!(
                f,
                "`{}` is not what the profile renders; run `imggen render` first (`imggen check` \
                 shows the difference)",
                dir.display()
            ),
            Self::UnknownRule { id, known } => {
                write!(f, "unknown lint rule `{id}` (rules: {})", list(known))
            }
            Self::BadOutput { path, pack, reason } => write!(
                f,
                "rendered `{path}` (template pack `{pack}`) is not valid: {reason}; nothing was \
                 written"
            ),
            Self::NotAPlatform { dir, missing } => write!(
                f,
                "`{}` is not a platform checkout: it lacks {} (point `--platform` at the root of \
                 the platform's repository, the folder that holds platform-infrastructure/, \
                 openmetadata/, kerberos/ and platform-bootstrap/); nothing was written",
                dir.display(),
                list(missing)
            ),
            Self::KeptValuesDiffer { key, first, second } => write!(
                f,
                "`{key}` was changed since imggen set it, to `{}` in `{}` and to `{}` in `{}`: \
                 the platform's entry points would run different images; set the same value in \
                 both (or pass `--force` to set the profile's), then apply again; nothing was \
                 written",
                first.1.escape_debug(),
                first.0,
                second.1.escape_debug(),
                second.0
            ),
            Self::WizardConfig { path, reason } => write!(
                f,
                "`{}` cannot be read as the platform wizard's configuration ({reason}); fix it, \
                 or remove it (`./platform setup` makes it again), then apply again; nothing was \
                 written",
                path.display()
            ),
            Self::NoEnvRendered => f.write_str(
                "the profile renders no `.env`, so there is nothing to apply; add the `compose` \
                 pack to its `packs`",
            ),
            Self::WrongInstaller {
                image,
                picks,
                wanted,
            } => {
                let hint = if *wanted == "apk" {
                    "name it with `alpine` in it (e.g. `myorg/kerberos-test:3.11-alpine-custom`)"
                } else {
                    "name it with `debian` in it (e.g. `myorg/kerberos-test:3.11-debian-custom`)"
                };
                write!(
                    f,
                    "in layered mode the platform picks the Kerberos test's install command from \
                     the image name, and for `{image}` it picks {picks}, but the image needs \
                     {wanted}: the platform's Kerberos test would fail; {hint}, or use prebuilt \
                     mode; nothing was written"
                )
            }
            Self::StrayInContext { paths } => {
                let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                write!(
                    f,
                    "{} {}: the engine is sent the whole folder, so it could reach an image \
                     (remove it, or keep it outside the output folder); nothing was built",
                    if shown.len() == 1 {
                        "a build context holds what imggen did not render:"
                    } else {
                        "build contexts hold what imggen did not render:"
                    },
                    list(&shown)
                )
            }
            Self::EnvUnreadable { path, line, why } => {
                let (what, fix) = match why {
                    Why::UnclosedQuote => (
                        "a quoted value opens here and never closes".to_string(),
                        "close the quote",
                    ),
                    Why::KeyCharacter(c) => (
                        format!(
                            "the key holds {c:?}, which Compose refuses in a variable name \
                             (letters, digits and `_.-[]`)"
                        ),
                        "fix the key (or comment the line out with `#`)",
                    ),
                    Why::KeySpace => (
                        "the key holds a space, which Compose refuses".to_string(),
                        "fix the key (or comment the line out with `#`)",
                    ),
                };
                write!(
                    f,
                    "`{}` line {line}: {what}, so `docker compose` cannot read this file either; \
                     {fix}, then run imggen again; nothing was written",
                    path.display()
                )
            }
            Self::OutsideCheckout { path, target } => write!(
                f,
                "`{}` is a link to `{}`, outside the platform checkout: `imggen apply` reads only \
                 the checkout's own files (in a pull request, a link could show any file of the \
                 machine in the diff); replace the link with what it points at, then apply \
                 again; nothing was written",
                path.display(),
                target.display()
            ),
            Self::ProjectFile { path, reason } => {
                let what = match **reason {
                    Reason::OutsideProject => {
                        String::from("leads outside the project (links are followed)")
                    }
                    ref other => other.to_string(),
                };
                write!(
                    f,
                    "`{}` {what}: imggen reads its project file, lockfile and records only as \
                     small regular files inside the project (a pull request could link one to any \
                     file of the machine); replace it with such a file, or delete it, then run \
                     imggen again; nothing was written",
                    path.display()
                )
            }
            Self::CheckoutFile { path, reason } => write!(
                f,
                "`{}` {reason}; `imggen apply` reads the checkout's `.env`, `.env.example` and \
                 compose files as regular files; nothing was written",
                path.display()
            ),
            Self::LinkNotWritten { path } => write!(
                f,
                "`{}` is a symbolic link, and imggen does not write through one (what it points \
                 at may be shared, or outside the project): replace the link with a copy of what \
                 it points at, or name the real path; nothing was written",
                path.display()
            ),
            Self::OverrideNotRead {
                ours,
                other,
                ours_first,
            } => write!(
                f,
                "`{}` is an override file too, and Compose reads one per project (the first of \
                 compose.override.yml, compose.override.yaml, docker-compose.override.yml, \
                 docker-compose.override.yaml): {}; move what it holds into a file the project's \
                 `COMPOSE_FILE` lists, or remove it, then apply again; nothing was written",
                other.display(),
                if *ours_first {
                    format!(
                        "once imggen writes `{}`, yours would be ignored",
                        ours.display()
                    )
                } else {
                    format!(
                        "the images and builds imggen writes into `{}` would be ignored",
                        ours.display()
                    )
                }
            ),
            Self::OverrideNotListed { ours, env } => write!(
                f,
                "`{}` sets `COMPOSE_FILE` without `docker-compose.override.yml`, so Compose would \
                 not read the override imggen writes (`{}`, the images and builds imggen makes); \
                 add it to the list (e.g. \
                 `COMPOSE_FILE=docker-compose.yml:docker-compose.override.yml`), then apply \
                 again; nothing was written",
                env.display(),
                ours.display()
            ),
            Self::EnvNotPlain { key, value } => write!(
                f,
                "the rendered `.env` sets `{key}` to `{}`, which `docker compose` would not read \
                 as written; a pack's `.env` template must pass every value through the `env` \
                 filter; nothing was written",
                value.escape_debug()
            ),
            Self::OutputIsLink { dir, link } => {
                let which = if dir == link {
                    String::from("is a symbolic link")
                } else {
                    format!("lies below a symbolic link, `{}`", link.display())
                };
                write!(
                    f,
                    "output folder `{}` {which}; imggen never reads or writes an output folder \
                     through a link (committed in a pull request, one could point anywhere on \
                     the machine): remove the link, or pass the folder it points at as --out",
                    dir.display()
                )
            }
            Self::ControlInProfileName { name } => write!(
                f,
                "profile `{name}` holds a control character in its name (the file \
                 `profiles/{name}.toml`); a profile's name names its folder under `render --all` \
                 and is printed, so rename the file"
            ),
            Self::ManifestPath {
                manifest,
                line,
                path,
            } => write!(
                f,
                "`{}` line {line}: lists `{}`, which is not a file inside the output folder (a \
                 relative path without `..`, `.` or empty parts), and imggen replaces and \
                 removes by these paths; restore the manifest from your history, or delete it \
                 (imggen then treats every file there as yours); nothing was written or removed",
                manifest.display(),
                path.escape_debug()
            ),
            Self::VendorRecordPath { record, path } => write!(
                f,
                "`{}` lists `{path}`, which is not a file inside the pack (a relative path \
                 without `..`, `.` or empty parts), and `vendor --update` writes and removes by \
                 these paths; restore the record from the vendoring commit, or vendor the pack \
                 again into a new folder",
                record.display()
            ),
            Self::RememberedOutside {
                manifest,
                reference,
            } => write!(
                f,
                "`{}` says its folder was rendered from `{reference}`, which is outside this \
                 project (the manifest comes with the folder, so it could name any file on the \
                 machine); name the profile with -p",
                manifest.display()
            ),
            Self::InTheWay { path, file } => {
                let (what, remove) = match file {
                    Some(file) => (
                        format!(
                            "`{}` needs `{}` to be a folder, but it is a file",
                            path.display(),
                            file.display()
                        ),
                        file,
                    ),
                    None => (
                        format!(
                            "`{}` is a folder where imggen writes a file",
                            path.display()
                        ),
                        path,
                    ),
                };
                write!(
                    f,
                    "{what}; imggen turns one into the other only when all of it is imggen's \
                     own, unchanged since it wrote it, and this is not: remove `{}` (after \
                     keeping anything you added to it) and run imggen again; nothing was written",
                    remove.display()
                )
            }
            Self::LinkInOutput { path } => write!(
                f,
                "`{}` is a symbolic link inside the output folder; imggen never reads or writes \
                 through a link there (it could reach outside the folder): remove the link, or \
                 render into another --out",
                path.display()
            ),
            Self::OutNotDir { path } => {
                write!(
                    f,
                    "output folder `{}` exists and is not a folder",
                    path.display()
                )
            }
        }
    }
}

/// What a value of a profile field may look like: the rule `validate` checks it against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Image,
    Registry,
    Digest,
    Url,
    /// A URL written into `.env`, where only plain characters read the same everywhere.
    EnvUrl,
    OsPackage,
    PipPackage,
    UserName,
    SqlName,
    Extension,
    EnvName,
    LabelKey,
    Text,
    /// A host path Compose binds into a container.
    BindPath,
    ComposeName,
    AbsPath,
    ConfKey,
    HbaToken,
    Platform,
    /// `YYYY-MM-DD`.
    Date,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Image | Self::Registry => "not a valid image reference",
            Self::Digest => "a digest is `sha256:` and 64 lowercase hex digits",
            Self::Url => {
                "expected an http:// or https:// URL with a host (and a port from 1 to 65535 \
                 when it names one), without spaces, quotes or `$`"
            }
            Self::EnvUrl => {
                "expected an http:// or https:// URL with a host (and a port from 1 to 65535 \
                 when it names one), of letters, digits and `_@%+=:,./-` only: \
                 it is written into `.env`, which `docker compose` and `docker run --env-file` \
                 read differently once it holds anything else (`?`, `&`, `#`, quotes)"
            }
            Self::OsPackage => "package names use lowercase letters, digits and `.+-_:=~`",
            Self::PipPackage => "pip requirements use letters, digits and `._-[],<>=!~`, no spaces",
            Self::UserName => {
                "user names are up to 32 lowercase letters, digits, `_` or `-`, starting with a \
                 letter or `_`"
            }
            Self::SqlName => {
                "names are up to 63 letters, digits or `_`, starting with a letter or `_`"
            }
            Self::Extension => {
                "extension names use lowercase letters, digits, `_` and `-`, starting with a letter"
            }
            Self::EnvName => {
                "variable names use letters, digits and `_`, not starting with a digit"
            }
            Self::LabelKey => "label keys use lowercase letters, digits, `.` and `-`",
            Self::Text => "it contains a line break or control character",
            Self::BindPath => {
                "a bind-mount path is relative to the compose override and stays inside the \
                 platform checkout: no leading `/` or `~` (`~` is the home folder of whoever runs \
                 Compose), no empty part, `..` only as its first part (the checkout), \
                 and no line break or control character"
            }
            Self::ComposeName => {
                "compose names use letters, digits and `_.-`, starting with a letter or digit"
            }
            Self::AbsPath => {
                "expected a normalised absolute path of letters, digits and `/_.-` (no `.` or \
                 `..` parts, no `//`, no trailing `/`)"
            }
            Self::ConfKey => "setting names use lowercase letters, digits, `_` and `.`",
            Self::HbaToken => "pg_hba fields use letters, digits and `_.-/:+@,`",
            Self::Platform => "platforms are `os/arch` or `os/arch/variant`, e.g. `linux/arm64`",
            Self::Date => "expected a date as `YYYY-MM-DD`",
        })
    }
}

/// Why a value, key, file, `--set`, pack or rendered file is refused: the sentence the variants
/// above end with. Data only; the words are in `Display` below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The value does not have its field's shape.
    Shape(Shape),
    MalformedDigest {
        digest: String,
    },
    EmptyTag,
    BadTag {
        tag: String,
    },
    BadRepositoryPart {
        part: String,
    },
    NotARegistry {
        value: String,
    },
    /// A literal secret (password, token, credentials) in a profile.
    Secret,
    /// A value shaped like a credential (a known token prefix, a private key).
    SecretLike {
        what: &'static str,
    },
    /// A URL query parameter whose name says it carries a credential.
    SecretQuery {
        parameter: String,
    },
    /// `uid`/`gid` 0 for the user a hardened image runs as.
    RootId,
    IdOutOfRange,
    PortOutOfRange,
    /// A hardened image's work folder that is `/` or a system folder (it is `chown`ed).
    SystemWorkdir,
    DuplicateDatabase,
    /// One owner with two different password variables.
    OwnerPasswordTwice {
        first: String,
    },
    ReservedRole,
    ReservedDatabase,
    /// The image's name says one distro, the profile another.
    DistroContradicts {
        named: &'static str,
        distro: &'static str,
    },
    /// A later layer's `distro` contradicts the name of an image an earlier layer set.
    DistroContradictsImage {
        key: &'static str,
        image: String,
        at: String,
        named: &'static str,
    },
    /// A digest pin for an image whose reference carries one already.
    DigestTwice {
        role: String,
    },
    NotFinite,
    /// A key the lockfile does not have.
    LockKey {
        expected: &'static str,
    },
    /// A lockfile entry that is not a table.
    LockNotTable,
    /// A lockfile entry without `digest` or `locked`.
    LockEntryIncomplete,
    /// A lockfile key that pins a digest itself.
    LockedWithDigest,
    /// A lockfile key without a tag.
    LockedWithoutTag,
    /// Two compose names that must differ are the same.
    DuplicateComposeName {
        other: String,
    },
    /// `tags.<key>` for an image imggen does not build (yet): nothing would be built under it.
    TagOfUnbuiltRole {
        key: String,
    },
    /// `tags.<key>` beside the role's own `<section>.tag`.
    TagSetTwice {
        section: &'static str,
    },
    TrustOutsideDevelopment,
    /// A database owner without `password_env` where logins need a password.
    OwnerWithoutPassword,
    /// `password_env` on a database without an owner (no role is created to have it).
    PasswordWithoutOwner,
    NonRootInLayeredMode,
    NoPostgresMajor,
    /// `--set` that is not `dotted.key=value`.
    SetSyntax,
    /// `--set a.b=x` where `a` holds a value.
    NotATable {
        key: String,
    },
    /// `--set` whose value fits no type the schema allows (the schema's own words).
    SetType {
        message: String,
    },
    NotPemCertificate,
    /// A CA file's PEM block that is not a certificate (a private key, a request).
    NotACertificateBlock {
        label: String,
    },
    BadPem {
        block: usize,
    },
    BadCertificate {
        block: usize,
    },
    /// `init --ca-cert` files, checked before they are named in a profile.
    CertificateUnreadable {
        path: String,
        cause: String,
    },
    CertificateNotPem {
        path: String,
    },
    /// A profile file name without `.toml`.
    NotToml,
    SameCertificateName,
    /// A copied file whose name is one imggen keeps for itself (`manifest::is_reserved`).
    ReservedFileName,
    NotShipped,
    Unreadable {
        cause: String,
    },
    /// A file a profile names that resolves outside the project.
    OutsideProject,
    NotARegularFile,
    /// A profile path (on the command line or in `extends`) that does not exist.
    NoSuchFile,
    /// `extends` naming no known profile.
    UnknownProfileName {
        suggestion: Option<String>,
        known: Vec<String>,
    },
    NotAFolder,
    NotUtf8,
    TooLarge {
        limit: u64,
    },
    /// Another pack: `pack.toml` problems.
    NoManifest,
    ManifestLacks {
        key: &'static str,
    },
    ExtendsNotBuiltin {
        extends: String,
    },
    ExtendsUnknown {
        name: String,
        known: Vec<String>,
    },
    BuiltinExtends,
    FolderName {
        name: String,
    },
    MissingTemplate {
        output: String,
        template: String,
    },
    OutputPathEscapes {
        path: String,
    },
    Symlink {
        path: String,
    },
    /// A file inside a pack (`path`, relative to the pack) that cannot be used as it is.
    PackFile {
        path: String,
        reason: Box<Reason>,
    },
    UnknownFileGroup {
        group: String,
        known: Vec<String>,
    },
    NothingToVendor,
    AlreadyVendored,
    NoVendorRecord {
        record: &'static str,
    },
    /// Rendered files that fail imggen's own checks.
    UnknownInstruction {
        line: usize,
        keyword: String,
    },
    BeforeFrom {
        line: usize,
        keyword: String,
    },
    NoFrom,
    ComposeShape {
        message: String,
    },
    EnvLine {
        line: usize,
        text: String,
    },
    Unbalanced {
        line: usize,
        quote: char,
    },
    OpenHeredoc {
        tag: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shape(shape) => write!(f, "{shape}"),
            Self::MalformedDigest { digest } => write!(
                f,
                "malformed digest `{digest}` (expected `sha256:` and 64 hex digits)"
            ),
            Self::EmptyTag => f.write_str("the tag after `:` is empty"),
            Self::BadTag { tag } => write!(
                f,
                "invalid tag `{tag}` (letters, digits, `_.-`, at most 128)"
            ),
            Self::BadRepositoryPart { part } => write!(
                f,
                "invalid repository name part `{part}` (lowercase letters and digits, separated \
                 by `.`, `_`, `__` or dashes)"
            ),
            Self::NotARegistry { value } => {
                write!(f, "`{value}` is not a registry `host[:port][/path]`")
            }
            Self::Secret => f.write_str(
                "a profile must not hold secrets: they would be baked into the image or \
                 committed; pass them at run time (`docker run -e`, compose `environment`) or \
                 name the variable that holds them (`password_env`)",
            ),
            Self::SecretLike { what } => write!(
                f,
                "it looks like {what}; a profile must not hold secrets: pass them at run time \
                 (`docker run -e`, compose `environment`) or name the variable that holds them"
            ),
            Self::SecretQuery { parameter } => write!(
                f,
                "its query parameter `{parameter}` carries a credential; a profile must not hold \
                 secrets: configure it outside the profile (pip.conf, a netrc, a build secret)"
            ),
            Self::RootId => f.write_str(
                "`hardening.non_root` runs this user, and id 0 is root; use an id from 1 to \
                 2147483647 (1000 is usual)",
            ),
            Self::IdOutOfRange => f.write_str(
                "user and group ids run from 1 to 2147483647 (larger ids break tools that \
                 store them as signed 32-bit numbers; 4294967295 means \"no id\")",
            ),
            Self::PortOutOfRange => f.write_str("ports run from 1 to 65535"),
            Self::SystemWorkdir => f.write_str(
                "a hardened image gives its user the work folder (`chown`), so it must not be \
                 `/` or a system folder; use a folder of its own such as `/app`",
            ),
            Self::DuplicateDatabase => {
                f.write_str("an earlier entry creates a database of the same name; merge the two")
            }
            Self::OwnerPasswordTwice { first } => write!(
                f,
                "an earlier database gives this owner its password from `{first}`; a role has \
                 one password, so use the same variable"
            ),
            Self::ReservedRole => f.write_str(
                "PostgreSQL reserves this role name (`public`, `none`, `current_user`, \
                 `current_role`, `session_user`, and names starting with `pg_`); choose another",
            ),
            Self::ReservedDatabase => f.write_str(
                "`template0` and `template1` exist in every cluster and are not created again; \
                 choose another name",
            ),
            Self::DistroContradicts { named, distro } => write!(
                f,
                "the image's name says {named}, but the profile's `distro` is `{distro}`, which \
                 picks the package manager its Dockerfile installs with; set \
                 `distro = \"{named}\"`, or choose an image whose name says {distro}"
            ),
            Self::DistroContradictsImage {
                key,
                image,
                at,
                named,
            } => write!(
                f,
                "`images.{key}` = `{image}` (set at {at}) names {named}, and `distro` picks the \
                 package manager its Dockerfile installs with; set `images.{key}` to an image of \
                 this distro too, or `distro = \"{named}\"`"
            ),
            Self::DigestTwice { role } => write!(
                f,
                "the image already names a digest; remove `digests.{role}` or the `@sha256:` part"
            ),
            Self::LockKey { expected } => write!(
                f,
                "imggen.lock has no such key (expected {expected}); fix it, or delete the entry \
                 and run `imggen lock`"
            ),
            Self::LockNotTable => {
                f.write_str("expected a table; fix it, or delete the entry and run `imggen lock`")
            }
            Self::LockEntryIncomplete => f.write_str(
                "an entry needs both `digest` and `locked`; delete it and run `imggen lock`",
            ),
            Self::LockedWithDigest => f.write_str(
                "an entry is keyed by the tag it locks, without a digest; delete it and run \
                 `imggen lock`",
            ),
            Self::LockedWithoutTag => f.write_str(
                "an entry is keyed by a reference with a tag (`name:tag`); delete it and run \
                 `imggen lock`",
            ),
            Self::NotFinite => {
                f.write_str("PostgreSQL reads no `nan` or `inf`; give a finite number")
            }
            Self::DuplicateComposeName { other } => write!(
                f,
                "`{other}` has the same name; compose would read one service, volume or network \
                 where the platform has two"
            ),
            Self::TagSetTwice { section } => write!(
                f,
                "`{section}.tag` names this image already; set one of the two"
            ),
            Self::TagOfUnbuiltRole { key } => write!(
                f,
                "imggen has no template pack for this image, so nothing would be built under \
                 that name; set `images.{key}` to the image the platform should pull instead"
            ),
            Self::TrustOutsideDevelopment => f.write_str(
                "password-less `trust` auth is only for development; add `development = true` \
                 to the profile, or use `scram-sha-256`",
            ),
            Self::OwnerWithoutPassword => f.write_str(
                "an owner without a password can only log in with `trust` auth; name the \
                 variable that holds its password, or use `postgres.auth_method = \"trust\"` in a \
                 development profile",
            ),
            Self::PasswordWithoutOwner => f.write_str(
                "a database without an `owner` belongs to the user the init scripts run as, and \
                 no role is created for the password; name the `owner` it is for, or remove \
                 `password_env`",
            ),
            Self::NonRootInLayeredMode => f.write_str(
                "in layered mode the platform installs packages when a container starts, which \
                 needs root; use `mode = \"prebuilt\"` with a non-root user",
            ),
            Self::NoPostgresMajor => f.write_str(
                "its tag does not start with the PostgreSQL major version; set `postgres.major`",
            ),
            Self::SetSyntax => f.write_str(
                "expected `dotted.key=value`, with dotted names such as `python.tag` (quote a \
                 name that has dots: `labels.\"org.opencontainers.image.title\"=x`)",
            ),
            Self::NotATable { key } => write!(f, "`{key}` holds a value, not a table"),
            Self::SetType { message } => f.write_str(message),
            Self::NotPemCertificate => {
                f.write_str("is not a PEM certificate (no `-----BEGIN CERTIFICATE-----`)")
            }
            Self::NotACertificateBlock { label } => write!(
                f,
                "holds a `{label}` block: a CA file must hold certificates only (it is copied \
                 into every image; a private key never belongs there)"
            ),
            Self::BadPem { block } => write!(f, "has a malformed PEM block (block {block})"),
            Self::BadCertificate { block } => write!(
                f,
                "has a `CERTIFICATE` block that is not an X.509 certificate (block {block})"
            ),
            Self::CertificateUnreadable { path, cause } => {
                write!(f, "cannot read `{path}`: {cause}")
            }
            Self::CertificateNotPem { path } => write!(f, "`{path}` is not a PEM certificate"),
            Self::NotToml => f.write_str("the file name must end in .toml"),
            Self::SameCertificateName => {
                f.write_str("has the same file name as another certificate")
            }
            Self::ReservedFileName => write!(
                f,
                "has a name imggen keeps for its temporary files (`.NAME{}…`, removed by the \
                 next render); rename the file",
                crate::names::TEMPORARY_MARK
            ),
            Self::NotShipped => f.write_str("is not shipped with imggen"),
            Self::Unreadable { cause } => write!(f, "cannot be read: {cause}"),
            Self::OutsideProject => f.write_str(
                "is outside the profile's project (a profile may only name files inside the git \
                 work tree that holds it, or else inside the working folder; links are followed)",
            ),
            Self::NotARegularFile => f.write_str("is not a regular file"),
            Self::NoSuchFile => f.write_str("does not exist (no such file)"),
            Self::UnknownProfileName { suggestion, known } => {
                f.write_str("no profile has that name")?;
                if let Some(suggestion) = suggestion {
                    write!(f, " (did you mean `{suggestion}`?)")?;
                }
                write!(f, "; available: {}", list(known))
            }
            Self::NotAFolder => f.write_str("is not a folder"),
            Self::NotUtf8 => f.write_str("is not UTF-8 text"),
            Self::TooLarge { limit } => write!(f, "is larger than {limit} bytes"),
            Self::NoManifest => f.write_str("has no `pack.toml`"),
            Self::ManifestLacks { key } => write!(
                f,
                "`pack.toml` lacks `{key}` (or `extends = \"builtin:NAME\"`)"
            ),
            Self::ExtendsNotBuiltin { extends } => write!(
                f,
                "`extends = \"{extends}\"`: a pack can only extend `builtin:NAME`"
            ),
            Self::ExtendsUnknown { name, known } => write!(
                f,
                "extends unknown built-in pack `{name}` (known: {})",
                list(known)
            ),
            Self::BuiltinExtends => f.write_str("a built-in pack cannot extend another"),
            Self::FolderName { name } => write!(
                f,
                "`pack.toml` names it `{name}`; name the folder after the pack"
            ),
            Self::MissingTemplate { output, template } => write!(
                f,
                "output `{output}` names template `{template}`, which the pack does not have"
            ),
            Self::OutputPathEscapes { path } => write!(
                f,
                "output path `{path}` must be a relative path inside the output folder, without \
                 `..`, `.` or empty parts"
            ),
            Self::Symlink { path } if path.is_empty() => f.write_str(
                "the pack folder is a symbolic link; a pack is a plain folder inside the project \
                 (replace the link with the folder it points at)",
            ),
            Self::Symlink { path } => write!(
                f,
                "`{path}` is a symbolic link; packs must hold plain files"
            ),
            Self::PackFile { path, reason } => write!(f, "`{path}` {reason}"),
            Self::UnknownFileGroup { group, known } => write!(
                f,
                "copies unknown file group `{group}` (known: {})",
                list(known)
            ),
            Self::NothingToVendor => {
                f.write_str("name the packs to vendor (`imggen list packs` shows them)")
            }
            Self::AlreadyVendored => {
                f.write_str("already exists; use `imggen vendor --update` to take upstream changes")
            }
            Self::NoVendorRecord { record } => write!(
                f,
                "has no `{record}`; it was not written by `imggen vendor`"
            ),
            Self::UnknownInstruction { line, keyword } => {
                write!(f, "line {line}: unknown instruction `{keyword}`")
            }
            Self::BeforeFrom { line, keyword } => {
                write!(f, "line {line}: `{keyword}` before the first `FROM`")
            }
            Self::NoFrom => f.write_str("no `FROM` instruction"),
            Self::ComposeShape { message } => {
                write!(f, "not the expected compose YAML: {message}")
            }
            Self::EnvLine { line, text } => write!(
                f,
                "line {line}: not `KEY=value` with a plain value: `{text}`"
            ),
            Self::Unbalanced { line, quote } => write!(f, "line {line}: unbalanced `{quote}`"),
            Self::OpenHeredoc { tag } => write!(f, "heredoc `{tag}` is never closed"),
        }
    }
}

/// The OS error without Rust's `(os error N)` suffix.
pub fn io_reason(error: &io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(end) => text[..end].to_lowercase(),
        None => text.to_lowercase(),
    }
}

impl Error {
    /// Prints the error on stderr, its control characters escaped: what it quotes may come
    /// from a pull request (a key, a file name, a line of a Dockerfile).
    pub fn print(&self) {
        let shown = |text: String| crate::output::diff::printable_lines(&text).into_owned();
        match self {
            // Tera's report already starts with `error:` and points at the template.
            Self::Template(e) => {
                eprintln!("{}", shown(e.to_string()));
                let mut source = std::error::Error::source(e);
                while let Some(cause) = source {
                    eprintln!("caused by: {}", shown(cause.to_string()));
                    source = cause.source();
                }
            }
            other => eprintln!("error: {}", shown(other.to_string())),
        }
    }

    /// The exit status: 2 when nothing was written, 1 when a file was written before the failure.
    pub fn exit_status(&self) -> u8 {
        match self {
            Self::AfterWrite { .. } => 1,
            _ => 2,
        }
    }
}

impl std::error::Error for Error {}

/// A bound on one template's render (`budget`), with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Wall time of one template, in seconds.
    Seconds(u64),
    /// The process's resident memory while a template renders, in megabytes.
    Megabytes(u64),
    /// The size of the file one template produces, in bytes.
    Output(u64),
}

/// Something a user should know that does not stop the command: printed to stderr, never
/// written into a generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A CA certificate past its `notAfter`: images built with it trust nothing it signs.
    CertificateExpired {
        location: String,
        path: PathBuf,
        block: usize,
        not_after: String,
    },
    /// Another imggen holds the output folder's lock; this one waits for it.
    WaitingForLock { dir: PathBuf },
    /// A new profile file in `./profiles/` named after a built-in: `--profile NAME` now finds
    /// it. `extended`: it extends that built-in (so it customizes it).
    ShadowsBuiltin {
        path: PathBuf,
        name: String,
        extended: bool,
    },
    /// The login for an image a build pushes is in a file the engine does not read.
    LoginNotRead {
        scope: String,
        file: PathBuf,
        engine: &'static str,
    },
    /// The login for a registry a build pulls from could not be had (its credential helper
    /// failed); the engine pulls with its own logins.
    LoginUnavailable { registry: String, reason: String },
    /// A role's own knobs (`postgres.settings`, ...) set in a profile that does not build its
    /// image: the platform runs `runs` as it is, without them. `location`: where the first is
    /// set; `tag_key`: where a name to build it as goes.
    KnobsNotBuilt {
        location: String,
        title: &'static str,
        knobs: Vec<String>,
        runs: String,
        tag_key: String,
    },
    /// `imggen lint FILE` without `--role`: the role read from the file's folder or its `FROM`
    /// image (`from` says which).
    LintRoleRead {
        file: String,
        role: &'static str,
        from: String,
    },
    /// `imggen init`: images the profile renders with its corporate settings but does not
    /// build, so the platform runs them without those settings. `example`: `postgres.tag=NAME`.
    RenderedNotBuilt {
        roles: Vec<&'static str>,
        settings: Vec<&'static str>,
        example: String,
    },
    /// `imggen lint FILE` without `--role`, and no role to read: the rules that were skipped.
    LintRoleUnknown {
        file: String,
        rules: Vec<&'static str>,
        roles: Vec<&'static str>,
    },
}

impl Warning {
    /// Prints warnings to stderr, one per line; they never change the exit status.
    pub fn print_all(warnings: &[Warning]) {
        use std::io::Write as _;
        for warning in warnings {
            let text = warning.to_string();
            let _ = writeln!(
                io::stderr(),
                "{}",
                crate::output::diff::printable_lines(&text)
            );
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CertificateExpired {
                location,
                path,
                block,
                not_after,
            } => write!(
                f,
                "warning: {location}: `corporate.ca_certificates`: {}: certificate {block} expired \
                 on {not_after}; TLS clients in the images reject servers it signs, so replace it",
                path.display()
            ),
            Self::WaitingForLock { dir } => write!(
                f,
                "note: another imggen is writing into {}; waiting for it to finish",
                dir.display()
            ),
            Self::ShadowsBuiltin {
                path,
                name,
                extended: true,
            } => write!(
                f,
                "note: {} is new and takes the place of the built-in `{name}` for `--profile \
                 {name}`; it extends that built-in, so only the values set here differ",
                path.display()
            ),
            Self::ShadowsBuiltin {
                path,
                name,
                extended: false,
            } => write!(
                f,
                "note: {} is new and takes the place of the built-in `{name}` for `--profile \
                 {name}` (the built-in is still `--profile builtin:{name}`)",
                path.display()
            ),
            Self::LoginNotRead {
                scope,
                file,
                engine,
            } => write!(
                f,
                "warning: the login for {scope} is in {}, which {engine} does not read, so the \
                 push may be refused; run `{engine} login {scope}`, or build with `--engine \
                 podman` or `--engine buildah`, which are handed the logins imggen finds",
                file.display()
            ),
            Self::LoginUnavailable { registry, reason } => write!(
                f,
                "warning: no login for {registry} handed to the engine: {reason}; it pulls from \
                 {registry} with the logins it finds itself"
            ),
            Self::RenderedNotBuilt {
                roles,
                settings,
                example,
            } => write!(
                f,
                "note: {} rendered with the profile's {} but not built (no name to build {} \
                 as): the platform runs the upstream {} as is, without those settings; to build \
                 one, name it: `imggen set {example}`, or run `imggen init` again and choose \
                 \"build\"",
                match roles.as_slice() {
                    [one] => format!("{one} is"),
                    many => format!("{} are", many.join(", ")),
                },
                settings.join(", "),
                if roles.len() == 1 { "it" } else { "them" },
                if roles.len() == 1 { "image" } else { "images" },
            ),
            Self::KnobsNotBuilt {
                location,
                title,
                knobs,
                runs,
                tag_key,
            } => write!(
                f,
                "warning: {location}: {} {} only the {title} image imggen builds, and this \
                 profile does not build it (no `{tag_key}`): the platform runs `{runs}` as it \
                 is, without {them}. Name the image to build in `{tag_key}`, or remove {them}",
                knobs
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if knobs.len() == 1 { "reaches" } else { "reach" },
                them = if knobs.len() == 1 { "it" } else { "them" },
            ),
            Self::LintRoleRead { file, role, from } => write!(
                f,
                "note: {file}: linted as the `{role}` image ({from}); `--role ROLE` says otherwise"
            ),
            Self::LintRoleUnknown { file, rules, roles } => write!(
                f,
                "note: {file}: its role is known neither from its folder nor from its FROM image, \
                 so {} (what a role needs) went unchecked; name it with `--role ROLE` (one of {})",
                rules.join(", "),
                roles.join(", ")
            ),
        }
    }
}

impl From<tera::Error> for Error {
    fn from(error: tera::Error) -> Self {
        Self::Template(error)
    }
}
