//! `imggen init`: the setup wizard. Every question has a flag; in a terminal the missing ones
//! are asked (with the default in brackets), elsewhere a missing answer is an error naming its
//! flag. The result is a minimal profile: `extends` plus the answers that differ from the base,
//! written (or edited in place, comments kept) only at the very end.

use std::collections::BTreeMap;
use std::path::PathBuf;

use toml_edit::Value;

use crate::cli::edit::Edit;
use crate::error::{Error, Reason, Result};
use crate::profile::model::{AuthMethod, Distro, Mode, Profile};
use crate::profile::{Selection, load};
use crate::role::{ROLES, Role, Upstream};

/// Answers given as flags; `None` means "ask" (or fail without a terminal).
#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub from: Option<String>,
    pub custom_images: Option<bool>,
    /// Role key (`python`, `kerberos_test`, …) → the image the platform runs (for a role the
    /// profile builds, the name imggen builds it as).
    pub images: BTreeMap<String, String>,
    /// Role key → the base image a built role starts `FROM`.
    pub bases: BTreeMap<String, String>,
    pub mode: Option<Mode>,
    pub distro: Option<Distro>,
    pub corporate: Option<bool>,
    pub ca_certs: Option<Vec<String>>,
    pub registry: Option<String>,
    pub pip_index_url: Option<String>,
    pub pip_trusted_host: Option<String>,
    pub http_proxy: Option<String>,
    pub https_proxy: Option<String>,
    pub no_proxy: Option<String>,
    pub development: Option<bool>,
    pub trust_auth: Option<bool>,
    /// The profile file to write (or edit, when it exists).
    pub profile: Option<PathBuf>,
    pub render: Option<bool>,
    /// Write without asking for confirmation.
    pub yes: bool,
}

impl Answers {
    /// `--image` or `--base` given: they answer the image questions as a whole.
    fn image_flags_given(&self) -> bool {
        !self.images.is_empty() || !self.bases.is_empty()
    }
}

/// How questions get answered: a terminal, a script (tests), or nobody (no TTY).
pub trait Prompter {
    /// Picks one of `options` (`(value, one-line explanation)`).
    fn select(
        &mut self,
        flag: &str,
        question: &str,
        options: &[(String, String)],
        default: usize,
    ) -> Result<usize>;
    /// Free text; `check` returns why an answer is refused, and the question is asked again.
    fn input(
        &mut self,
        flag: &str,
        question: &str,
        default: &str,
        check: &dyn Fn(&str) -> Option<Reason>,
    ) -> Result<String>;
    fn confirm(&mut self, flag: &str, question: &str, default: bool) -> Result<bool>;
    /// After the last question: an error when answers were missing (no terminal).
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// No terminal: records every question no flag answered and goes on with its default, so
/// [`Prompter::finish`] can list them all in one error. Never waits for input.
#[derive(Default)]
pub struct NoTty {
    missing: Vec<(String, String)>,
}

impl NoTty {
    fn note(&mut self, flag: &str, question: &str) {
        self.missing.push((flag.to_string(), question.to_string()));
    }
}

impl Prompter for NoTty {
    fn select(
        &mut self,
        flag: &str,
        question: &str,
        _: &[(String, String)],
        default: usize,
    ) -> Result<usize> {
        self.note(flag, question);
        Ok(default)
    }
    fn input(
        &mut self,
        flag: &str,
        question: &str,
        default: &str,
        _: &dyn Fn(&str) -> Option<Reason>,
    ) -> Result<String> {
        self.note(flag, question);
        Ok(default.to_string())
    }
    fn confirm(&mut self, flag: &str, question: &str, default: bool) -> Result<bool> {
        self.note(flag, question);
        Ok(default)
    }
    fn finish(&mut self) -> Result<()> {
        if self.missing.is_empty() {
            Ok(())
        } else {
            Err(Error::MissingAnswers {
                answers: std::mem::take(&mut self.missing),
            })
        }
    }
}

/// `--yes`: every question no flag answered takes its default, without asking.
pub struct Defaults;

impl Prompter for Defaults {
    fn select(
        &mut self,
        _: &str,
        _: &str,
        _: &[(String, String)],
        default: usize,
    ) -> Result<usize> {
        Ok(default)
    }
    fn input(
        &mut self,
        _: &str,
        _: &str,
        default: &str,
        _: &dyn Fn(&str) -> Option<Reason>,
    ) -> Result<String> {
        Ok(default.to_string())
    }
    fn confirm(&mut self, _: &str, _: &str, default: bool) -> Result<bool> {
        Ok(default)
    }
}

/// A real terminal, through dialoguer. Ctrl-C ends the process before anything is written.
pub struct Terminal;

fn interrupted(e: dialoguer::Error) -> Error {
    // A menu hides the cursor; a read cut short by Ctrl-C leaves it hidden.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), b"\x1b[?25h");
    Error::Interrupted {
        cause: e.to_string(),
    }
}

impl Prompter for Terminal {
    fn select(
        &mut self,
        _: &str,
        question: &str,
        options: &[(String, String)],
        default: usize,
    ) -> Result<usize> {
        let items: Vec<String> = options
            .iter()
            .map(|(v, why)| format!("{v:<20} {why}"))
            .collect();
        dialoguer::Select::new()
            .with_prompt(question)
            .items(&items)
            .default(default)
            .interact()
            .map_err(interrupted)
    }
    fn input(
        &mut self,
        _: &str,
        question: &str,
        default: &str,
        check: &dyn Fn(&str) -> Option<Reason>,
    ) -> Result<String> {
        dialoguer::Input::<String>::new()
            .with_prompt(question)
            .default(default.to_string())
            .allow_empty(true)
            .validate_with(|answer: &String| match check(answer) {
                Some(reason) => Err(reason.to_string()),
                None => Ok(()),
            })
            .interact_text()
            .map_err(interrupted)
    }
    fn confirm(&mut self, _: &str, question: &str, default: bool) -> Result<bool> {
        // Like every other prompt, a y/N answer ends with Enter (Enter alone takes the
        // default): the Enter typed after `y` must not answer the next question.
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(default)
            .wait_for_newline(true)
            .interact()
            .map_err(interrupted)
    }
}

/// One image question of the wizard.
struct ImageQuestion<'a> {
    /// The flag that answers it (`--image python-runtime=IMAGE`).
    flag: String,
    question: String,
    /// The profile key the answer goes to (for messages).
    key: String,
    /// The flag's answer, if given.
    given: Option<&'a String>,
    default: &'a str,
    /// Empty means "the platform's default" (a role that runs in another role's image).
    empty_ok: bool,
}

/// The wizard's question for the image the platform runs in a role it does not build.
fn run_question(role: &Role) -> String {
    format!("{}: image the platform runs ({})", role.title, role.env)
}

/// For a role the profile can build: build it, or have the platform run an image as is.
fn build_question(role: &Role) -> (String, [(String, String); 2]) {
    (
        format!(
            "{} ({}): build it with imggen, or run an image as is?",
            role.title, role.env
        ),
        [
            (
                "build".to_string(),
                format!(
                    "imggen renders {}/Dockerfile (corporate CA, mirrors, ...), `imggen build` \
                     builds it, {} names it",
                    role.name, role.env
                ),
            ),
            (
                "as is".to_string(),
                format!(
                    "{} names an image, unchanged; {}/Dockerfile is rendered but not used",
                    role.env, role.name
                ),
            ),
        ],
    )
}

/// The name a role's image is offered to be built as: `platform/<repository>:<tag>` of the
/// image it starts from (`postgres:17.5-bookworm` → `platform/postgres:17.5-bookworm`).
fn suggested_name(upstream: &str) -> String {
    let reference = crate::registry::reference::Reference::parse(upstream);
    let repository = reference.repository.rsplit('/').next().unwrap_or_default();
    match reference.tag {
        Some(tag) => format!("platform/{repository}:{tag}"),
        None => format!("platform/{repository}"),
    }
}

/// The question for the base a built role's image starts `FROM`.
fn base_question(role: &Role) -> String {
    match role.upstream {
        Upstream::SameAs(other) => format!(
            "{}: base image it is built from (FROM; empty: the {} base)",
            role.title,
            crate::role::by_key(other).map_or(other, |r| r.title)
        ),
        Upstream::Image(_) => format!("{}: base image it is built from (FROM)", role.title),
    }
}

fn image_check(answer: &str) -> Option<Reason> {
    crate::pipeline::validate::image_problem(answer.trim())
}

fn pem_check(answer: &str) -> Option<Reason> {
    for path in answer.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match std::fs::read_to_string(path) {
            Err(e) => {
                return Some(Reason::CertificateUnreadable {
                    path: path.to_string(),
                    cause: crate::error::io_reason(&e),
                });
            }
            Ok(text) if !text.contains("-----BEGIN CERTIFICATE-----") => {
                return Some(Reason::CertificateNotPem {
                    path: path.to_string(),
                });
            }
            Ok(_) => {}
        }
    }
    None
}

/// One change to the profile, relative to its base.
type Change = (Vec<String>, Value);

fn key(path: &str) -> Vec<String> {
    path.split('.').map(str::to_string).collect()
}

/// Asks what is missing, then returns the profile file and its new text (not yet written).
pub fn plan(answers: &Answers, prompter: &mut dyn Prompter) -> Result<Edit> {
    // The file first: an existing one is edited in place, and its values are the defaults.
    let path = match &answers.profile {
        Some(path) => path.clone(),
        None => PathBuf::from(prompter.input(
            "--profile",
            "Profile file to write (an existing one is edited in place)",
            "profiles/custom.toml",
            &|a| (!a.ends_with(".toml")).then_some(Reason::NotToml),
        )?),
    };
    let mut edit = Edit::open(&path)?;
    let exists = path.exists();
    let extends = edit.string(&key("extends"));
    let from = match (&answers.from, exists) {
        (Some(from), _) => from.clone(),
        (None, true) => extends
            .clone()
            .unwrap_or_else(|| crate::profile::DEFAULT_PROFILE.into()),
        (None, false) => ask_from(prompter)?,
    };
    // A new file, or `--from` naming another parent: the file extends it from now on, and its
    // other values are shown over that parent's.
    if extends.as_deref() != Some(from.as_str()) {
        edit.set_value(&key("extends"), Value::from(from.as_str()), "extends")?;
    }
    // A new file says what it is, so `imggen list profiles` tells it from its parent.
    if !exists {
        let description = format!("{from}, customized with `imggen init`");
        edit.set_value(&key("description"), Value::from(description), "description")?;
    }
    let base = load(&Selection::of(&from))?.profile;
    let shown = if exists {
        crate::profile::load_edited(&path, &edit.text())?.profile
    } else {
        base.clone()
    };
    // Only the sections the wizard adds get its explanatory comment; the user's stay as they are.
    let sections = [
        (
            "images",
            "Images the platform's compose files use (.env IMAGE_*).",
        ),
        (
            "corporate",
            "Corporate network: trusted CAs, private registry and pip index, build proxy.",
        ),
        ("postgres", "PostgreSQL settings."),
    ];
    let new_sections: Vec<(&str, &str)> = sections
        .into_iter()
        .filter(|(table, _)| !edit.has(&key(table)))
        .collect();
    let mut wizard = Wizard {
        answers,
        prompter,
        base,
        shown,
        changes: Vec::new(),
        removals: Vec::new(),
    };
    wizard.images()?;
    wizard.mode()?;
    wizard.distro()?;
    wizard.corporate()?;
    wizard.development()?;
    for (path, value) in wizard.changes {
        edit.set_value(&path, value, &path.join("."))?;
    }
    for path in wizard.removals {
        edit.unset(&path);
    }
    for (table, comment) in new_sections {
        edit.comment_table(table, comment);
    }
    Ok(edit)
}

/// The choice the answers made that a reader may not see: corporate settings (a CA, mirrors,
/// a pip index) reach only the images imggen builds, and a role the profile renders but does
/// not build runs its image as it is. `None` when every rendered image is built, or nothing
/// corporate is set.
pub fn unbuilt_note(edit: &Edit) -> Result<Option<crate::error::Warning>> {
    let profile = crate::profile::load_edited(&edit.path, &edit.text())?.profile;
    let corporate = &profile.corporate;
    let settings: Vec<&'static str> = [
        (!corporate.ca_certificates.is_empty(), "corporate CA"),
        (corporate.apt_mirror.is_some(), "apt mirror"),
        (!corporate.apk_repositories.is_empty(), "apk repositories"),
        (corporate.pip_index_url.is_some(), "pip index"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect();
    let unbuilt: Vec<&Role> = ROLES
        .iter()
        .filter(|role| role.builds && profile.packs.iter().any(|p| p == role.name))
        .filter(|role| profile.tag(role).is_none())
        .collect();
    let Some(first) = unbuilt.first() else {
        return Ok(None);
    };
    if settings.is_empty() {
        return Ok(None);
    }
    Ok(Some(crate::error::Warning::RenderedNotBuilt {
        roles: unbuilt.iter().map(|r| r.name).collect(),
        settings,
        example: format!("{}=NAME", profile.tag_key(first).join(".")),
    }))
}

/// The built-in profile a new file starts from, asked with each one's description.
fn ask_from(prompter: &mut dyn Prompter) -> Result<String> {
    let builtins = crate::profile::source::builtin_names();
    let options: Vec<(String, String)> = builtins
        .iter()
        .map(|n| {
            let description = load(&Selection::of(n))
                .map(|s| s.profile.description)
                .unwrap_or_default();
            (n.clone(), description)
        })
        .collect();
    let default = builtins
        .iter()
        .position(|n| n == crate::profile::DEFAULT_PROFILE)
        .unwrap_or(0);
    let chosen = prompter.select(
        "--from",
        "Start from which built-in profile?",
        &options,
        default,
    )?;
    Ok(builtins[chosen].clone())
}

/// The questions after the base profile, each adding the answers that differ from it.
struct Wizard<'a> {
    answers: &'a Answers,
    prompter: &'a mut dyn Prompter,
    base: Profile,
    /// The values shown as defaults: the existing file's, else the base's.
    shown: Profile,
    changes: Vec<Change>,
    /// Keys the file sets that the answers take away (a built role's name, when it is now run
    /// as is).
    removals: Vec<Vec<String>>,
}

impl Wizard<'_> {
    /// For each role, the image the platform runs (what `.env` points at; for a role the
    /// profile builds, the name imggen builds it as) and, for a built one, the base it is built
    /// from. Each answer is checked as an image reference.
    fn images(&mut self) -> Result<()> {
        let given = self.answers.image_flags_given();
        let custom = match self.answers.custom_images {
            Some(yes) => yes,
            None if given => true,
            None => self.prompter.confirm(
                "--no-custom-images",
                "Are you using custom or corporate images?",
                false,
            )?,
        };
        if !custom {
            return Ok(());
        }
        let shown = crate::pipeline::resolve::images(
            &self.shown,
            &crate::registry::lock::Lockfile::default(),
        );
        let base = crate::pipeline::resolve::images(
            &self.base,
            &crate::registry::lock::Lockfile::default(),
        );
        for role in &ROLES {
            let builds = role.builds && self.shown.packs.iter().any(|p| p == role.name);
            let image_key = vec!["images".to_string(), role.key.to_string()];
            if !builds {
                let question = ImageQuestion {
                    flag: format!("--image {}=IMAGE", role.name),
                    question: run_question(role),
                    key: image_key.join("."),
                    given: self.answers.images.get(role.key),
                    default: &shown[role.key].env,
                    empty_ok: false,
                };
                self.change_image(question, image_key, &base[role.key].env)?;
                continue;
            }
            if self.builds(role)? {
                self.built_image(role, &shown)?;
            } else {
                // The platform runs `images.<key>` as is: what a built one would start FROM.
                let question = ImageQuestion {
                    flag: format!("--base {}=IMAGE", role.name),
                    question: format!(
                        "{}: image the platform runs as is ({})",
                        role.title, role.env
                    ),
                    key: image_key.join("."),
                    given: self.answers.bases.get(role.key),
                    default: &shown[role.key].upstream,
                    empty_ok: false,
                };
                self.change_image(question, image_key, &base[role.key].upstream)?;
                // The file's own name for it goes: nothing builds it now.
                let tag_key = self.shown.tag_key(role).map(str::to_string).to_vec();
                if self.shown.tag(role).is_some() {
                    self.removals.push(tag_key);
                }
            }
        }
        Ok(())
    }

    /// Asks `question`; an answer other than the parent's (`parent`) goes to `key`.
    fn change_image(
        &mut self,
        question: ImageQuestion<'_>,
        key: Vec<String>,
        parent: &str,
    ) -> Result<()> {
        let image = self.answer(question)?;
        if image != parent {
            self.changes.push((key, Value::from(image.as_str())));
        }
        Ok(())
    }

    /// Whether a role the profile can build is built. Asked only when it is a choice: a role
    /// the parent profile already builds stays built; with image flags, a role is built when
    /// `--image` names it or the profile already builds it.
    fn builds(&mut self, role: &Role) -> Result<bool> {
        let tagged = self.shown.tag(role).is_some();
        if self.base.tag(role).is_some() {
            return Ok(true);
        }
        if self.answers.image_flags_given() {
            return Ok(tagged || self.answers.images.contains_key(role.key));
        }
        let (question, options) = build_question(role);
        let chosen = self.prompter.select(
            &format!("--image {}=NAME", role.name),
            &question,
            &options,
            usize::from(!tagged),
        )?;
        Ok(chosen == 0)
    }

    /// A built role: the name imggen builds it as (what its `.env` variable names), then the
    /// base it is built from.
    fn built_image(
        &mut self,
        role: &Role,
        shown: &BTreeMap<&'static str, crate::pipeline::resolve::Image>,
    ) -> Result<()> {
        let tag_key: Vec<String> = self
            .shown
            .tag_key(role)
            .iter()
            .map(|k| k.to_string())
            .collect();
        let suggested = match self.shown.tag(role) {
            Some(tag) => tag.to_string(),
            None => suggested_name(&shown[role.key].upstream),
        };
        let name = self.answer(ImageQuestion {
            flag: format!("--image {}=IMAGE", role.name),
            question: format!(
                "{}: name to build it as ({} points at it)",
                role.title, role.env
            ),
            key: tag_key.join("."),
            given: self.answers.images.get(role.key),
            default: &suggested,
            empty_ok: false,
        })?;
        if self.base.tag(role) != Some(name.as_str()) {
            self.changes.push((tag_key, Value::from(name.as_str())));
        }
        let same_as = matches!(role.upstream, Upstream::SameAs(_));
        let current = self.shown.images.get(role.key).cloned().unwrap_or_default();
        let from = self.answer(ImageQuestion {
            flag: format!("--base {}=IMAGE", role.name),
            question: base_question(role),
            key: format!("images.{}", role.key),
            given: self.answers.bases.get(role.key),
            default: &current,
            empty_ok: same_as,
        })?;
        let before = self.base.images.get(role.key).cloned().unwrap_or_default();
        if !from.is_empty() && from != before {
            self.changes
                .push((vec!["images".into(), role.key.into()], Value::from(from)));
        }
        Ok(())
    }

    /// One image answer: the flag's, else the default when other image flags were given (they
    /// answer the image questions as a whole), else asked.
    fn answer(&mut self, q: ImageQuestion<'_>) -> Result<String> {
        let flags_given = self.answers.image_flags_given();
        let (flag, key, empty_ok) = (q.flag.as_str(), q.key.as_str(), q.empty_ok);
        let answer = match q.given {
            Some(image) => image.clone(),
            None if flags_given => q.default.to_string(),
            None => self.prompter.input(flag, &q.question, q.default, &|a| {
                if empty_ok && a.trim().is_empty() {
                    None
                } else {
                    image_check(a)
                }
            })?,
        };
        let answer = answer.trim().to_string();
        if answer.is_empty() && empty_ok {
            return Ok(answer);
        }
        match image_check(&answer) {
            None => Ok(answer),
            Some(problem) => Err(Error::invalid(
                flag.split(' ').next().unwrap_or(flag),
                key,
                answer,
                problem,
            )),
        }
    }

    /// Layered or prebuilt.
    fn mode(&mut self) -> Result<()> {
        // Mode.
        let mode = match self.answers.mode {
            Some(mode) => mode,
            // `--from` names a profile, and with it a mode.
            None if self.answers.from.is_some() => self.shown.mode,
            None => {
                let options = [
                    (
                        "layered".to_string(),
                        "generic images; the platform installs packages when a container starts"
                            .to_string(),
                    ),
                    (
                        "prebuilt".to_string(),
                        "everything baked into the images; nothing installed at start".to_string(),
                    ),
                ];
                let default = usize::from(self.shown.mode == Mode::Prebuilt);
                if self
                    .prompter
                    .select("--mode", "Layered or prebuilt mode?", &options, default)?
                    == 0
                {
                    Mode::Layered
                } else {
                    Mode::Prebuilt
                }
            }
        };
        if mode != self.base.mode {
            self.changes.push((
                key("mode"),
                Value::from(if mode == Mode::Prebuilt {
                    "prebuilt"
                } else {
                    "layered"
                }),
            ));
        }
        Ok(())
    }

    /// The base family, asked only when the Python image name does not say it.
    fn distro(&mut self) -> Result<()> {
        // Distro: skipped when the Python image's name says it.
        let python = self
            .changes
            .iter()
            .find(|(k, _)| k == &key("images.python"))
            .and_then(|(_, v)| v.as_str().map(str::to_string))
            .or_else(|| self.shown.images.get("python").cloned())
            .unwrap_or_default();
        let distro = match self.answers.distro {
            Some(distro) => distro,
            None if python.contains("alpine") => Distro::Alpine,
            None if ["bookworm", "bullseye", "slim", "debian", "ubuntu"]
                .iter()
                .any(|w| python.contains(w)) =>
            {
                Distro::Debian
            }
            None if self.answers.from.is_some() => self.shown.distro,
            None => {
                let options = [
                    ("alpine".to_string(), "apk".to_string()),
                    (
                        "debian".to_string(),
                        "apt (Debian and Ubuntu bases)".to_string(),
                    ),
                ];
                let default = usize::from(self.shown.distro == Distro::Debian);
                if self
                    .prompter
                    .select("--distro", "Base family?", &options, default)?
                    == 0
                {
                    Distro::Alpine
                } else {
                    Distro::Debian
                }
            }
        };
        if distro != self.base.distro {
            self.changes.push((
                key("distro"),
                Value::from(if distro == Distro::Debian {
                    "debian"
                } else {
                    "alpine"
                }),
            ));
        }
        Ok(())
    }

    /// CA files, registry, pip index, proxies.
    fn corporate(&mut self) -> Result<()> {
        let any_corporate_flag = self.answers.ca_certs.is_some()
            || self.answers.registry.is_some()
            || self.answers.pip_index_url.is_some()
            || self.answers.http_proxy.is_some()
            || self.answers.https_proxy.is_some();
        let corporate = match self.answers.corporate {
            Some(yes) => yes,
            None if any_corporate_flag => true,
            None => self.prompter.confirm(
                "--corporate|--no-corporate",
                "Behind a corporate network (CA, registry, pip index, proxy)?",
                false,
            )?,
        };
        if corporate {
            self.ca_certificates(any_corporate_flag)?;
            self.corporate_values(any_corporate_flag)?;
        }
        Ok(())
    }

    /// The corporate CA files, as paths relative to the profile file; asked for unless a
    /// corporate flag was given.
    fn ca_certificates(&mut self, any_corporate_flag: bool) -> Result<()> {
        let c = &self.shown.corporate;
        let certs = match &self.answers.ca_certs {
            Some(certs) => certs.join(","),
            None if any_corporate_flag => c.ca_certificates.join(","),
            None => self.prompter.input(
                "--ca-cert",
                "CA certificate files (comma-separated, PEM)",
                &c.ca_certificates.join(","),
                &pem_check,
            )?,
        };
        if let Some(problem) = pem_check(&certs) {
            return Err(Error::invalid(
                "--ca-cert",
                "corporate.ca_certificates",
                certs,
                problem,
            ));
        }
        // Answers are paths from here; a profile's paths are relative to the profile file.
        let profile_dir = self
            .answers
            .profile
            .as_ref()
            .and_then(|p| p.parent())
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("profiles"));
        let certs: Vec<String> = certs
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|cert| relative_to(std::path::Path::new(cert), &profile_dir))
            .collect();
        if certs != self.base.corporate.ca_certificates {
            let mut array = toml_edit::Array::new();
            for cert in &certs {
                array.push(cert.as_str());
            }
            self.changes
                .push((key("corporate.ca_certificates"), Value::Array(array)));
        }
        Ok(())
    }

    /// Registry, pip index and proxies: each kept when it is the base profile's.
    fn corporate_values(&mut self, any_corporate_flag: bool) -> Result<()> {
        let c = &self.shown.corporate;
        for (flag, name, given, current, question) in [
            (
                "--registry",
                "registry",
                &self.answers.registry,
                &c.registry,
                "Private registry prefix (host[:port][/path]; empty: none)",
            ),
            (
                "--pip-index-url",
                "pip_index_url",
                &self.answers.pip_index_url,
                &c.pip_index_url,
                "pip index URL (empty: PyPI)",
            ),
            (
                "--pip-trusted-host",
                "pip_trusted_host",
                &self.answers.pip_trusted_host,
                &c.pip_trusted_host,
                "pip trusted host (empty: none)",
            ),
            (
                "--http-proxy",
                "http_proxy",
                &self.answers.http_proxy,
                &c.http_proxy,
                "HTTP proxy for builds (empty: none)",
            ),
            (
                "--https-proxy",
                "https_proxy",
                &self.answers.https_proxy,
                &c.https_proxy,
                "HTTPS proxy for builds (empty: none)",
            ),
            (
                "--no-proxy",
                "no_proxy",
                &self.answers.no_proxy,
                &c.no_proxy,
                "Hosts that bypass the proxy (empty: none)",
            ),
        ] {
            let default = current.clone().unwrap_or_default();
            let answer = match given {
                Some(value) => value.clone(),
                None if any_corporate_flag => default,
                None => self.prompter.input(flag, question, &default, &|_| None)?,
            };
            let answer = answer.trim().to_string();
            let base_value = base_corporate(&self.base, name);
            if !answer.is_empty() && Some(&answer) != base_value.as_ref() {
                self.changes
                    .push((vec!["corporate".into(), name.into()], Value::from(answer)));
            }
        }
        Ok(())
    }

    /// Development-only, and then password-less PostgreSQL.
    fn development(&mut self) -> Result<()> {
        // Password-less PostgreSQL: only for a development profile.
        let development = match self.answers.development {
            Some(yes) => yes,
            None if self.answers.trust_auth == Some(true) => true,
            None => self.prompter.confirm(
                "--development|--no-development",
                "Is this profile for local development only?",
                self.shown.development,
            )?,
        };
        if development != self.base.development {
            self.changes
                .push((key("development"), Value::from(development)));
        }
        if development {
            let trust = match self.answers.trust_auth {
                Some(yes) => yes,
                None => self.prompter.confirm(
                    "--trust-auth|--no-trust-auth",
                    "Password-less PostgreSQL (trust)? Anyone who reaches the port gets in: local use only",
                    self.shown.postgres.auth_method == Some(AuthMethod::Trust),
                )?,
            };
            if trust && self.base.postgres.auth_method != Some(AuthMethod::Trust) {
                self.changes
                    .push((key("postgres.auth_method"), Value::from("trust")));
            }
        }
        Ok(())
    }
}

/// `path` (relative to the working directory) as seen from `dir`.
fn relative_to(path: &std::path::Path, dir: &std::path::Path) -> String {
    let absolute = |p: &std::path::Path| {
        let p = if p.as_os_str().is_empty() {
            std::path::Path::new(".")
        } else {
            p
        };
        std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
    };
    let (target, from) = (absolute(path), absolute(dir));
    let target: Vec<_> = target.components().collect();
    let from: Vec<_> = from.components().collect();
    let common = target.iter().zip(&from).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        target[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

fn base_corporate(base: &Profile, name: &str) -> Option<String> {
    let c = &base.corporate;
    match name {
        "registry" => c.registry.clone(),
        "pip_index_url" => c.pip_index_url.clone(),
        "pip_trusted_host" => c.pip_trusted_host.clone(),
        "http_proxy" => c.http_proxy.clone(),
        "https_proxy" => c.https_proxy.clone(),
        _ => c.no_proxy.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// Scripted answers, in order; each is checked like a terminal would, and a refused one is
    /// recorded and the question asked again. `None` stands for Ctrl-C.
    struct Script {
        answers: VecDeque<Option<&'static str>>,
        refused: Vec<String>,
    }

    impl Script {
        fn new(answers: &[Option<&'static str>]) -> Self {
            Self {
                answers: answers.iter().copied().collect(),
                refused: Vec::new(),
            }
        }
        fn next(&mut self) -> Result<&'static str> {
            match self.answers.pop_front() {
                Some(Some(answer)) => Ok(answer),
                _ => Err(Error::Interrupted {
                    cause: "Ctrl-C".into(),
                }),
            }
        }
    }

    impl Prompter for Script {
        fn select(
            &mut self,
            _: &str,
            _: &str,
            options: &[(String, String)],
            default: usize,
        ) -> Result<usize> {
            let answer = self.next()?;
            Ok(if answer.is_empty() {
                default
            } else {
                options
                    .iter()
                    .position(|(v, _)| v == answer)
                    .expect("a listed option")
            })
        }
        fn input(
            &mut self,
            _: &str,
            _: &str,
            default: &str,
            check: &dyn Fn(&str) -> Option<Reason>,
        ) -> Result<String> {
            loop {
                let answer = self.next()?;
                let answer = if answer.is_empty() {
                    default.to_string()
                } else {
                    answer.to_string()
                };
                match check(&answer) {
                    Some(reason) => self.refused.push(reason.to_string()),
                    None => return Ok(answer),
                }
            }
        }
        fn confirm(&mut self, _: &str, _: &str, default: bool) -> Result<bool> {
            let answer = self.next()?;
            Ok(if answer.is_empty() {
                default
            } else {
                answer == "y"
            })
        }
    }

    fn in_temp(f: impl FnOnce(&std::path::Path)) {
        let dir = tempfile::tempdir().expect("temp dir");
        f(dir.path());
    }

    #[test]
    fn a_full_interactive_run_writes_a_minimal_profile() {
        in_temp(|dir| {
            let cert = dir.join("corp.crt");
            std::fs::write(
                &cert,
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            )
            .expect("cert");
            let file = dir.join("org.toml");
            let cert_answer: &'static str = Box::leak(cert.display().to_string().into_boxed_str());
            let mut script = Script::new(&[
                Some("debian-prebuilt"), // from
                Some("y"),               // custom images
                Some("Not An Image"),    // python: refused, asked again
                Some("myorg/python:3.11-custom"),
                Some(""), // python: built from the profile's base
                Some(""), // kerberos: the profile's tag
                Some(""), // kerberos: built from the Python base
                Some(""), // postgres: built or run as is? the default, as is (no tag)
                Some(""), // postgres: the image run as is, the default
                Some(""), // openmetadata server: default
                Some(""), // opensearch: default
                Some(""), // alpine: default
                Some(""), // postgres-test: default
                Some(""), // sqlcmd-test: default
                Some(""), // pagila-test: default
                Some(""), // mockserver: default
                Some(""), // astronomer: default
                Some(""), // mode: default (prebuilt)
                // distro: not asked, the base image's name says Debian
                Some("y"), // corporate
                Some(cert_answer),
                Some("registry.corp.example/hub"),
                Some("https://pypi.corp.example/simple"),
                Some(""),
                Some(""),
                Some(""),
                Some(""),
                Some("n"), // development
            ]);
            let answers = Answers {
                profile: Some(file.clone()),
                ..Answers::default()
            };
            let edit = plan(&answers, &mut script).expect("plans");
            assert_eq!(
                script.refused.len(),
                1,
                "the bad image name is refused once"
            );
            let text = edit.text();
            assert!(
                text.starts_with("extends = \"debian-prebuilt\"\n"),
                "{text}"
            );
            assert!(
                text.contains("[python]\ntag = \"myorg/python:3.11-custom\""),
                "the image the platform runs is the one imggen builds: {text}"
            );
            assert!(!text.contains("[images]"), "the bases stay: {text}");
            assert!(text.contains("# Corporate network"), "{text}");
            assert!(
                text.contains("registry = \"registry.corp.example/hub\""),
                "{text}"
            );
            assert!(
                !text.contains("mode ="),
                "unchanged answers are not written: {text}"
            );
            assert!(!text.contains("postgres ="), "{text}");
        });
    }

    #[test]
    fn paths_are_made_relative_to_the_profile_file() {
        let here = std::path::Path::new("certs/corp.crt");
        assert_eq!(
            relative_to(here, std::path::Path::new("profiles")),
            "../certs/corp.crt"
        );
        assert_eq!(
            relative_to(here, std::path::Path::new("")),
            "certs/corp.crt"
        );
        assert_eq!(
            relative_to(
                std::path::Path::new("profiles/a.crt"),
                std::path::Path::new("profiles")
            ),
            "a.crt"
        );
    }

    #[test]
    fn ctrl_c_stops_before_anything_is_written() {
        in_temp(|dir| {
            let file = dir.join("org.toml");
            let answers = Answers {
                profile: Some(file.clone()),
                ..Answers::default()
            };
            let mut script = Script::new(&[Some("debian-prebuilt"), None]);
            assert!(matches!(
                plan(&answers, &mut script),
                Err(Error::Interrupted { .. })
            ));
            assert!(!file.exists());
        });
    }

    #[test]
    fn without_a_terminal_every_missing_answer_is_listed_with_its_flag() {
        let mut no_tty = NoTty::default();
        plan(&Answers::default(), &mut no_tty).expect("goes on with the defaults");
        let error = no_tty.finish().expect_err("answers were missing");
        let text = error.to_string();
        for flag in [
            "--from",
            "--no-custom-images",
            "--mode",
            "--corporate|--no-corporate",
            "--development|--no-development",
            "--profile",
        ] {
            assert!(
                text.contains(&format!("\n  {flag} ")),
                "{flag} missing from: {text}"
            );
        }
        assert!(
            text.starts_with("`imggen init` has no terminal to ask in"),
            "{text}"
        );
    }
}
