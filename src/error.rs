//! The one error type, and all of imggen's error wording.
//!
//! Messages are lowercase without a trailing period, and put user values in backticks.
//! Every variant that comes from a file carries its path and, where there is one, its line.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Where a value came from: a file and line, `--set`, or the built-in defaults.
pub type Location = String;

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
        chain: Vec<String>,
    },
    BadSet {
        arg: String,
        reason: String,
    },
    /// A value that parses but is not allowed (bad image reference, unsafe name, ...).
    Invalid {
        location: Location,
        key: String,
        value: String,
        reason: String,
    },
    /// A key of a free-form table (`labels`, `python.env`, `postgres.settings`) that is not allowed.
    InvalidKey {
        location: Location,
        table: String,
        key: String,
        reason: String,
    },
    /// A file the profile names (CA certificate, krb5.conf, requirements) that cannot be used.
    ProfileFile {
        location: Location,
        key: String,
        path: PathBuf,
        reason: String,
    },
    UnknownPack {
        name: String,
        available: Vec<String>,
    },
    /// A pack folder or `pack.toml` that is not usable.
    Pack {
        pack: String,
        reason: String,
    },
    /// Tera's own report (it already names the template file, line and column).
    Template(tera::Error),
    /// An output path that two packs, or a pack and a copied file, both produce.
    DuplicateOutput {
        path: String,
        first: String,
        second: String,
    },
    /// A file in the output folder that imggen did not write.
    NotOurs {
        path: PathBuf,
    },
    /// A rendered file that fails imggen's in-memory check (a template bug).
    BadOutput {
        path: String,
        pack: String,
        reason: String,
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
    /// Running the engine's program failed (not the build: starting it).
    Engine {
        program: String,
        reason: String,
    },
    /// `init` without a terminal and without the flag for a question.
    MissingAnswer {
        flag: String,
        question: String,
    },
    /// The user pressed Ctrl-C (or the terminal went away) during `init`.
    Interrupted {
        reason: String,
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
    /// `--out` points at a file, not a folder.
    OutNotDir {
        path: PathBuf,
    },
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
        reason: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            location: location.into(),
            key: key.into(),
            value: value.into(),
            reason: reason.into(),
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
            Self::UnknownProfile { name, available } => write!(
                f,
                "unknown profile `{name}` (available: {}; or give a path to a `.toml` file)",
                list(available)
            ),
            Self::ExtendsCycle { chain } => {
                write!(f, "`extends` forms a cycle: {}", chain.join(" -> "))
            }
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
            Self::DuplicateOutput {
                path,
                first,
                second,
            } => {
                write!(
                    f,
                    "output `{path}` is produced twice, by {first} and by {second}"
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
            Self::MissingAnswer { flag, question } => write!(
                f,
                "`imggen init` needs an answer to \"{question}\": pass `{flag}` (no terminal to ask in)"
            ),
            Self::Interrupted { reason } => write!(f, "stopped ({reason}); nothing was written"),
            Self::BadImageArg {
                role: Some(role),
                roles,
            } => write!(f, "unknown role `{role}` (roles: {})", list(roles)),
            Self::BadImageArg { role: None, roles } => {
                write!(f, "expected `ROLE=IMAGE` (roles: {})", list(roles))
            }
            Self::Engine { program, reason } => write!(f, "cannot run `{program}`: {reason}"),
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

/// The OS error without Rust's `(os error N)` suffix.
pub fn io_reason(error: &io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(end) => text[..end].to_lowercase(),
        None => text.to_lowercase(),
    }
}

impl std::error::Error for Error {}

impl From<tera::Error> for Error {
    fn from(error: tera::Error) -> Self {
        Self::Template(error)
    }
}
