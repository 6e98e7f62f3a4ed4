//! `imggen apply`: make a platform checkout use the profile's images. The build contexts go
//! under `--out` (as `render` writes them); each project folder's `.env` gets exactly the keys
//! that folder reads, line by line as the platform's wizard edits it; each project whose services
//! imggen builds gets a `docker-compose.override.yml` with their `image:` and `build:`. A record
//! beside the build contexts says what imggen set, so a later `apply` tells its own values from a
//! user's edit. Everything is planned in memory first; refusals write nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::digest::hash;
use crate::error::{Error, Result};
use crate::output::session::{Changes, Plan, Replacement, Session};
use crate::pipeline::run::Rendered;
use crate::platform::checkout::{
    OVERRIDE, OVERRIDES, PROJECTS, Project, UNTRACKED, installer_for, lists_override,
};
use crate::platform::dotenv::Earlier;
use crate::profile::Selection;
use crate::profile::model::Mode;
use crate::role::Requirement;

/// What `apply` keeps about its last run, under `--out`.
pub const RECORD: &str = ".imggen-apply.toml";

pub struct ApplyRequest {
    pub selection: Selection,
    pub platform: PathBuf,
    /// Build contexts; default `<platform>/imggen`.
    pub out: Option<PathBuf>,
    pub pack_dirs: Vec<PathBuf>,
    pub dry_run: bool,
    pub check: bool,
    /// With `check`: only what the platform's repository tracks ([`UNTRACKED`] left out).
    pub committed: bool,
    pub force: bool,
    pub json: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Record {
    profile: String,
    /// Project folder → key → the value imggen wrote.
    #[serde(default)]
    env: BTreeMap<String, BTreeMap<String, String>>,
    /// Files imggen wrote in the checkout (path relative to it) → hash of what it wrote.
    #[serde(default)]
    files: BTreeMap<String, String>,
    /// Entry of the wizard's `platform-config.yaml` → the value imggen wrote.
    #[serde(default)]
    config: BTreeMap<String, String>,
}

/// One file of the checkout as it is and as `apply` would leave it.
struct Change {
    /// Relative to the checkout.
    path: String,
    /// Bytes: a `.env` keeps its owner's encoding.
    before: Option<Vec<u8>>,
    after: Option<Vec<u8>>,
    /// `.env` keys set, for the report.
    keys: Vec<KeyChange>,
    /// A new `.env` made from the project's `.env.example`.
    from_example: bool,
}

/// What a run found and would do.
pub struct Outcome {
    pub report: String,
    /// The same, for tools (`--format json`).
    pub json: serde_json::Value,
    /// Whether the checkout or the build contexts differ from what `apply` writes.
    pub differs: bool,
}

pub fn apply(request: &ApplyRequest, color: bool) -> Result<Outcome> {
    let platform = &request.platform;
    // One apply at a time in a checkout, for its whole run: it reads the record and the `.env`
    // files, then writes them, the build contexts and the record (two runs interleaved left the
    // record naming one profile and the `.env` files the other's images). A check shares it.
    let checkout = open_checkout(platform, request.writes())?;
    let out = request
        .out
        .clone()
        .unwrap_or_else(|| platform.join("imggen"));
    let r = crate::pipeline::run::render_one(&request.selection, &out, &request.pack_dirs)?;
    crate::error::Warning::print_all(&r.warnings);
    let env = r.files.get(".env").ok_or(Error::NoEnvRendered)?;
    let env = Env {
        path: out.join(".env"),
        text: &env.contents,
    };
    check_installer(&r, &env)?;
    let record: Record = checkout
        .read_toml(&out.join(RECORD), "delete it and apply again")?
        .unwrap_or_default();
    let mut next = Record {
        profile: r.manifest.profile.clone(),
        ..Record::default()
    };
    let Planned {
        changes,
        kept,
        decisions,
        images,
    } = plan_checkout(&checkout, &r, &env, &out, &record, request.force, &mut next)?;
    let changes = to_write(request, &checkout, changes)?;
    let plan = contexts_plan(&checkout, request, &r, &out)?;
    let contexts_differ =
        !(plan.create.is_empty() && plan.update.is_empty() && plan.remove.is_empty());
    let differs = contexts_differ || !changes.is_empty();
    let mut report = String::new();
    // The notes are for a run that changes something: an applied checkout is not told again.
    let notes = if differs && !request.committed {
        notes(&checkout, &r, &changes, &decisions, &images)?
    } else {
        Vec::new()
    };
    for line in kept.iter().chain(&notes) {
        let _ = writeln!(report, "{line}");
    }
    let json = outcome_json(request, &out, differs, &changes, &kept, &notes, &plan);
    if request.check || request.dry_run {
        preview(&mut report, request, &out, &changes, &plan, differs, color);
        return Ok(Outcome {
            report,
            json,
            differs,
        });
    }
    commit(checkout, request, &out, &r, &changes, &next, &mut report)?;
    Ok(Outcome {
        report,
        json,
        differs,
    })
}

/// The checkout at `platform`, locked for the request, refused unless it holds each compose
/// project the platform has.
fn open_checkout(platform: &Path, writes: bool) -> Result<Checkout<'_>> {
    let missing: Vec<String> = PROJECTS
        .iter()
        .filter(|p| !platform.join(p.folder).join(p.marker).is_file())
        .map(|p| format!("{}/{}", p.folder, p.marker))
        .collect();
    if !missing.is_empty() {
        return Err(Error::NotAPlatform {
            dir: platform.to_path_buf(),
            missing,
        });
    }
    Session::open(platform, writes)
}

impl ApplyRequest {
    /// Whether the request writes (one at a time in a checkout); a check or a dry run reads.
    fn writes(&self) -> bool {
        !(self.check || self.dry_run)
    }
}

/// The checkout's changes worth writing: those that change something (with `--committed`,
/// only in files the platform's repository tracks), each refused before anything is written
/// when its path cannot be written safely.
fn to_write(
    request: &ApplyRequest,
    checkout: &Checkout,
    mut changes: Vec<Change>,
) -> Result<Vec<Change>> {
    changes.retain(|c| c.before != c.after);
    if request.committed {
        // A clone of the platform's repository has none of these: each machine's apply makes
        // them, and `--check` without `--committed` checks them there.
        changes.retain(|c| !untracked(&c.path));
    }
    // Refused before anything is written, and before a diff could show what a link reaches.
    for change in &changes {
        checkout.writable(&change.path)?;
    }
    Ok(changes)
}

/// What writing the build contexts into `out` would do (with `--committed`, to tracked files).
fn contexts_plan(
    checkout: &Checkout<'_>,
    request: &ApplyRequest,
    r: &Rendered,
    out: &Path,
) -> Result<Plan> {
    let mut plan = checkout.plan(&r.files, out, request.force)?;
    if request.committed {
        for paths in [&mut plan.create, &mut plan.update, &mut plan.remove] {
            paths.retain(|p| !untracked(p));
        }
    }
    Ok(plan)
}

/// The outcome for tools (`--format json`).
fn outcome_json(
    request: &ApplyRequest,
    out: &Path,
    differs: bool,
    changes: &[Change],
    kept: &[String],
    notes: &[String],
    plan: &Plan,
) -> serde_json::Value {
    let platform = &request.platform;
    serde_json::json!({
        "platform": platform.display().to_string(),
        "out": out.display().to_string(),
        "in_sync": !differs,
        "written": !(request.check || request.dry_run),
        "files": changes
            .iter()
            .map(|c| serde_json::json!({
                "path": c.path,
                "action": c.verb(),
                "keys": c.key_names(),
                "kept_as_comments": c.commented(),
            }))
            .collect::<Vec<_>>(),
        "kept": kept,
        "notes": notes,
        "contexts": { "create": plan.create, "update": plan.update, "remove": plan.remove },
    })
}

/// `--check` and `--dry-run`: each change shown, each build context file that would change.
fn preview(
    report: &mut String,
    request: &ApplyRequest,
    out: &Path,
    changes: &[Change],
    plan: &Plan,
    differs: bool,
    color: bool,
) {
    let platform = &request.platform;
    for change in changes {
        report.push_str(&change.shown(platform, color));
    }
    for (verb, paths) in [
        ("create", &plan.create),
        ("update", &plan.update),
        ("remove", &plan.remove),
    ] {
        for path in paths {
            let _ = writeln!(report, "would {verb} {}", out.join(path).display());
        }
    }
    if !differs {
        let _ = writeln!(report, "{}: already applied", platform.display());
    }
}

/// Writes the build contexts, then the checkout's files, then the record of what was applied:
/// one commit of the checkout's session.
fn commit(
    checkout: Checkout<'_>,
    request: &ApplyRequest,
    out: &Path,
    r: &Rendered,
    changes: &[Change],
    next: &Record,
    report: &mut String,
) -> Result<()> {
    let platform = &request.platform;
    let sweep: Vec<String> = PROJECTS
        .iter()
        .flat_map(|p| {
            [
                format!("{}/.env", p.folder),
                format!("{}/{OVERRIDE}", p.folder),
            ]
        })
        .chain([crate::platform::wizard_config::FILE.to_string()])
        .collect();
    let replace: Vec<Replacement<'_>> = changes
        .iter()
        .map(|change| Replacement {
            path: &change.path,
            contents: change.after.as_deref(),
            // A `.env` (or the wizard's file) holds secrets: a new one is the owner's only.
            mode: if change.holds_secrets() { 0o600 } else { 0o644 },
        })
        .collect();
    let record = out.join(RECORD);
    let text = toml_edit::ser::to_string_pretty(&next).expect("the record is plain data");
    checkout.commit(&Changes {
        files: &r.files,
        manifest: &r.manifest,
        out,
        force: request.force,
        replace: &replace,
        sweep: &sweep,
        record: (&record, text.as_bytes()),
    })?;
    for change in changes {
        let mut what = if change.keys.is_empty() {
            String::new()
        } else {
            format!(": {}", change.key_names().join(", "))
        };
        let commented = change.commented();
        if !commented.is_empty() {
            let _ = write!(
                what,
                "; the earlier values, which imggen had not set, stay above their lines as \
                 `{}KEY was …` comments: {}",
                crate::platform::dotenv::EARLIER,
                commented.join(", ")
            );
        }
        let _ = writeln!(
            report,
            "{} {}{what}",
            change.verb(),
            platform.join(&change.path).display()
        );
    }
    let _ = writeln!(
        report,
        "applied `{}` to {}: {} in the checkout changed; build contexts in {}",
        r.manifest.profile,
        platform.display(),
        crate::output::diff::count(changes.len(), "file", "files"),
        out.display()
    );
    Ok(())
}

/// What `apply` would change in the checkout, and why.
struct Planned {
    changes: Vec<Change>,
    /// One line per value a user changed since imggen set it (kept).
    kept: Vec<String>,
    decisions: BTreeMap<&'static str, Decision>,
    images: BTreeMap<&'static str, crate::pipeline::resolve::Image>,
}

/// Every file of the checkout as `apply` would leave it: each project's `.env` (one decision
/// per key over all of them), its override, and the wizard's configuration; `next` gets the
/// record of what imggen set.
fn plan_checkout(
    checkout: &Checkout<'_>,
    r: &Rendered,
    env: &Env<'_>,
    out: &Path,
    record: &Record,
    force: bool,
    next: &mut Record,
) -> Result<Planned> {
    let images = crate::pipeline::resolve::images(&r.profile, &r.lock);
    let mut envs = PROJECTS
        .iter()
        .map(|project| EnvFile::read(checkout, project))
        .collect::<Result<Vec<_>>>()?;
    let decisions = decide(&envs, env, record, force)?;
    let kept: Vec<String> = decisions
        .iter()
        .filter_map(|(key, d)| d.kept.as_ref().map(|k| k.line(key, &d.profile)))
        .collect();
    let inputs = OverrideInputs {
        checkout,
        r,
        images: &images,
        decisions: &decisions,
        out,
        record,
        force,
    };
    let mut changes = Vec::new();
    for (project, file) in PROJECTS.iter().zip(&mut envs) {
        let env_file = file.change(&decisions, record, next)?;
        let override_file = override_change(&inputs, project)?;
        if let Some(change) = &override_file
            && let Some(after) = &change.after
        {
            let env_text = env_file.after.as_ref().or(env_file.before.as_ref());
            override_is_read(checkout.dir(), project, env_text.map(Vec::as_slice))?;
            next.files.insert(change.path.clone(), hash(after));
        }
        changes.push(env_file);
        changes.extend(override_file);
    }
    let (wizard, wizard_kept) = wizard_config_change(checkout, &decisions, record, force, next)?;
    changes.extend(wizard);
    let kept: Vec<String> = kept.into_iter().chain(wizard_kept).collect();
    Ok(Planned {
        changes,
        kept,
        decisions,
        images,
    })
}

/// What the user should hear after a run that changes something: passwords nothing passes,
/// the example's placeholders, how the platform runs the Kerberos test, what to build.
fn notes(
    checkout: &Checkout<'_>,
    r: &Rendered,
    changes: &[Change],
    decisions: &BTreeMap<&'static str, Decision>,
    images: &BTreeMap<&'static str, crate::pipeline::resolve::Image>,
) -> Result<Vec<String>> {
    Ok(unreachable_passwords(checkout, r, changes)?
        .into_iter()
        .map(|variable| {
            format!(
                "note: the init script needs `{variable}` for an owner it creates, and nothing \
                 passes it to PostgreSQL: set it in platform-bootstrap/.env (the service's \
                 env_file); imggen never writes passwords"
            )
        })
        .chain(placeholder_warning(r, decisions))
        .chain(kerberos_test_note(checkout, r, decisions))
        .chain(to_build_note(r, images, decisions))
        .collect())
}

/// Whether the platform's `.gitignore` keeps `path` (relative, `/`-separated) out of its
/// repository.
fn untracked(path: &str) -> bool {
    UNTRACKED.contains(&path.rsplit('/').next().unwrap_or(path))
}

impl Change {
    fn key_names(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.key.as_str()).collect()
    }

    /// The keys whose replaced values stay in the file as comments.
    fn commented(&self) -> Vec<&str> {
        self.keys
            .iter()
            .filter(|k| k.commented)
            .map(|k| k.key.as_str())
            .collect()
    }

    /// A `.env` or the wizard's configuration (passwords, tokens), not imggen's own override.
    fn holds_secrets(&self) -> bool {
        !self.path.ends_with(OVERRIDE)
    }

    /// What `--check` and `--dry-run` print of the change. A `.env` holds secrets (passwords,
    /// tokens) that must not reach a CI log: of it, only the keys imggen sets are shown, with
    /// their values; an override file is imggen's own, shown as a diff.
    fn shown(&self, platform: &Path, color: bool) -> String {
        let path = platform.join(&self.path);
        if !self.holds_secrets() {
            let text = |text: &Option<Vec<u8>>| {
                String::from_utf8_lossy(text.as_deref().unwrap_or_default()).into_owned()
            };
            return crate::output::diff::unified_diff(
                &text(&self.before),
                &text(&self.after),
                &format!("{} (now)", path.display()),
                &format!("{} (after apply)", path.display()),
                color,
            );
        }
        let verb = match (&self.before, self.from_example) {
            (None, true) => "would create it from .env.example",
            (None, false) => "would create it",
            _ => "would update it",
        };
        let mut out = format!(
            "{}: {verb}; its other lines are not shown (they hold secrets)\n",
            path.display()
        );
        for change in &self.keys {
            let before = change.before.as_deref().map_or_else(
                || "unset".to_string(),
                |b| format!("`{}`", b.escape_debug()),
            );
            let kept = if change.commented {
                " (the value replaced stays as a comment above its line)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {}: {before} -> `{}`{kept}",
                change.key, change.after
            );
        }
        out
    }

    fn verb(&self) -> &'static str {
        match (&self.before, &self.after) {
            (None, _) => "created",
            (_, None) => "removed",
            _ => "updated",
        }
    }
}

/// The password variables of the profile's database owners that reach the PostgreSQL service
/// neither through its `env_file` (platform-bootstrap/.env) nor through its compose file.
fn unreachable_passwords(
    checkout: &Checkout<'_>,
    r: &Rendered,
    changes: &[Change],
) -> Result<Vec<String>> {
    let platform = checkout.dir();
    let bootstrap = "platform-bootstrap/.env";
    let text = match changes.iter().find(|c| c.path == bootstrap) {
        Some(change) => change.after.clone().unwrap_or_default(),
        None => checkout
            .read(&platform.join(bootstrap))?
            .unwrap_or_default(),
    };
    let env_file = Env {
        path: platform.join(bootstrap),
        text: &text,
    };
    let compose = checkout
        .read(&platform.join("platform-infrastructure/docker-compose.yml"))?
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    let mut unreachable = Vec::new();
    for variable in r
        .profile
        .postgres
        .databases
        .iter()
        .filter_map(|db| db.password_env.as_ref())
    {
        if env_file.value(variable)?.is_none() && !compose.contains(&format!("${{{variable}")) {
            unreachable.push(variable.clone());
        }
    }
    Ok(unreachable)
}

/// The example's placeholders about to reach a real checkout: values under a domain reserved
/// for examples (`registry.corp.example`, RFC 2606), and the bundled example CA (whose key was
/// thrown away), named so the user replaces them with their organisation's.
fn placeholder_warning(
    r: &Rendered,
    decisions: &BTreeMap<&'static str, Decision>,
) -> Option<String> {
    let keys: Vec<&str> = decisions
        .iter()
        .filter(|(_, d)| is_example_domain(&d.value))
        .map(|(key, _)| *key)
        .collect();
    let example_ca = crate::profile::source::example_ca();
    // Copied into each image's build context: named once, by file name.
    let certificates: BTreeSet<&str> = r
        .files
        .iter()
        .filter(|(_, file)| file.contents == example_ca)
        .map(|(path, _)| path.rsplit('/').next().unwrap_or(path))
        .collect();
    if keys.is_empty() && certificates.is_empty() {
        return None;
    }
    let mut what = Vec::new();
    if !keys.is_empty() {
        what.push(format!(
            "{} under `.example`, a domain reserved for examples ({})",
            crate::output::diff::count(keys.len(), "value", "values"),
            keys.join(", ")
        ));
    }
    if !certificates.is_empty() {
        let names: Vec<&str> = certificates.into_iter().collect();
        what.push(format!(
            "the example CA certificate, whose key was thrown away ({})",
            names.join(", ")
        ));
    }
    Some(format!(
        "warning: the profile's example placeholders go into the checkout: {}; put your \
         organisation's registry, index and CA in a profile of your own (`imggen init --from \
         {}`) and apply that",
        what.join("; and "),
        r.manifest.profile
    ))
}

/// Whether a value names a host under `.example` (`registry.corp.example/…`,
/// `https://pypi.corp.example/simple`).
fn is_example_domain(value: &str) -> bool {
    value.match_indices(".example").any(|(at, found)| {
        value[at + found.len()..]
            .chars()
            .next()
            .is_none_or(|c| matches!(c, '/' | ':' | '@'))
    })
}

/// The platform's `make kerberos-setup` (`platform-bootstrap/dev-tools/setup-kerberos.sh`) runs
/// its ticket test in `IMAGE_PYTHON` with a package install at start, whatever the mode; no key
/// makes it run the Kerberos test image. Said when the checkout has that script and the
/// profile's Kerberos test image is another image, or the mode is prebuilt (where nothing may
/// be installed at start).
fn kerberos_test_note(
    checkout: &Checkout<'_>,
    r: &Rendered,
    decisions: &BTreeMap<&'static str, Decision>,
) -> Option<String> {
    let script = "platform-bootstrap/dev-tools/setup-kerberos.sh";
    if !checkout.dir().join(script).is_file() {
        return None;
    }
    let value = |key: &str| decisions.get(key).map_or("", |d| d.value.as_str());
    let python = value("IMAGE_PYTHON");
    let role = crate::role::ROLES
        .iter()
        .find(|role| role.requires.contains(&Requirement::KerberosTools))?;
    let env = role.env;
    let kerberos = value(env);
    if python == kerberos && r.profile.mode != Mode::Prebuilt {
        return None;
    }
    Some(format!(
        "note: `make kerberos-setup` ({script}) runs its ticket test in IMAGE_PYTHON (`{python}`) \
         with a package install at start, not in the Kerberos test image (`{kerberos}`), and \
         reads no key that changes that; `make -C kerberos setup` (kerberos/setup.sh) picks \
         {env} and IMAGE_MODE but skips its test (it looks for test_kerberos_simple.py in the \
         checkout's root); to run the test in the profile's image: `imggen test -p {} --only \
         {}`",
        r.manifest.profile, role.name
    ))
}

/// The images imggen builds that the checkout now runs (no user's value replaced them) and the
/// first usable engine does not hold yet (all of them, when no engine is usable here), and the
/// one command that builds them.
fn to_build_note(
    r: &Rendered,
    images: &BTreeMap<&str, crate::pipeline::resolve::Image>,
    decisions: &BTreeMap<&'static str, Decision>,
) -> Option<String> {
    let expected: Vec<(&str, &str)> = crate::role::built()
        .filter(|role| r.files.contains_key(&format!("{}/Dockerfile", role.name)))
        .filter_map(|role| {
            let built = images[role.key].built.as_deref()?;
            let decision = decisions.get(role.env)?;
            (decision.kept.is_none() && decision.value == built).then_some((built, role.env))
        })
        .collect();
    let tags: Vec<&str> = expected.iter().map(|(tag, _)| *tag).collect();
    let (missing, held_by) = match crate::images::engine::held(&tags) {
        Some((engine, held)) => {
            let missing: Vec<String> = expected
                .iter()
                .zip(held)
                .filter(|(_, held)| !held)
                .map(|((tag, env), _)| format!("`{tag}` ({env})"))
                .collect();
            (missing, Some(engine))
        }
        None => (
            expected
                .iter()
                .map(|(tag, env)| format!("`{tag}` ({env})"))
                .collect(),
            None,
        ),
    };
    if missing.is_empty() {
        return None;
    }
    let which = match held_by {
        Some(engine) => format!("that {engine} does not hold yet"),
        None => String::from("that imggen builds (no engine here to ask which are built)"),
    };
    Some(format!(
        "note: the checkout now runs {} {which}: {}; build {} with `imggen build -p {}` before \
         starting the platform",
        crate::output::diff::count(missing.len(), "image", "images"),
        missing.join(", "),
        if missing.len() == 1 { "it" } else { "them" },
        r.manifest.profile
    ))
}

/// In layered mode the platform picks the Kerberos test's install command from the image name;
/// a name that makes it pick the wrong package manager for the image's distro is refused.
fn check_installer(r: &Rendered, env: &Env<'_>) -> Result<()> {
    if r.profile.mode != Mode::Layered {
        return Ok(());
    }
    let Some(image) = env.value("IMAGE_KERBEROS_TEST")? else {
        return Ok(());
    };
    let image = String::from_utf8_lossy(&image);
    let wanted = r.profile.distro.manager();
    let picks = installer_for(&image);
    if picks == wanted {
        return Ok(());
    }
    Err(Error::WrongInstaller {
        image: image.into_owned(),
        picks,
        wanted,
    })
}

/// One project's `.env` as it is, and the text `apply` starts from: the file, else the
/// project's `.env.example` (as the platform's wizards make one), else nothing.
struct EnvFile {
    project: &'static Project,
    before: Option<Vec<u8>>,
    /// Whether `text` comes from `.env.example` (no `.env` yet).
    from_example: bool,
    /// The project's `.env.example`: the platform's defaults.
    example: Option<Vec<u8>>,
    /// The path errors name: the `.env`, or the example it starts from.
    source: PathBuf,
    text: Vec<u8>,
}

impl EnvFile {
    fn read(checkout: &Checkout<'_>, project: &'static Project) -> Result<Self> {
        let folder = checkout.dir().join(project.folder);
        let path = folder.join(".env");
        let before = checkout.read(&path)?;
        let example_path = folder.join(".env.example");
        let example = checkout.read(&example_path)?;
        let from_example = before.is_none() && example.is_some();
        let source = if from_example { example_path } else { path };
        let text = before
            .clone()
            .or_else(|| example.clone())
            .unwrap_or_default();
        Ok(Self {
            project,
            before,
            from_example,
            example,
            source,
            text,
        })
    }

    fn env(&self) -> Env<'_> {
        Env {
            path: self.source.clone(),
            text: &self.text,
        }
    }

    /// What Compose reads for `key` here.
    fn current(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.env().value(key)?.map(std::borrow::Cow::into_owned))
    }

    /// What becomes of `current`, the value this file gives `key`, when imggen replaces it
    /// ([`worth_keeping`], against `.env.example`); nothing is kept of a file not made yet.
    fn earlier(&self, key: &str, current: Option<&[u8]>, ours: Option<&String>) -> Result<Earlier> {
        let Some(current) = current.filter(|_| self.before.is_some()) else {
            return Ok(Earlier::Dropped);
        };
        let example = match &self.example {
            Some(text) => Env {
                path: self.source.with_file_name(".env.example"),
                text,
            }
            .value(key)?
            .map(std::borrow::Cow::into_owned),
            None => None,
        };
        Ok(
            if worth_keeping(current, ours.map(String::as_bytes), example.as_deref()) {
                Earlier::Commented
            } else {
                Earlier::Dropped
            },
        )
    }

    /// The file with every key of its project set as decided; `next` records what imggen
    /// set here (for a key the user changed here, still imggen's last word, so the next run
    /// tells the user's value from its own again).
    fn change(
        &mut self,
        decisions: &BTreeMap<&'static str, Decision>,
        record: &Record,
        next: &mut Record,
    ) -> Result<Change> {
        let folder = self.project.folder;
        let recorded = record.env.get(folder);
        let mut keys = Vec::new();
        for key in self.project.keys() {
            let Some(decision) = decisions.get(key) else {
                continue;
            };
            let ours = recorded.and_then(|r| r.get(key));
            let current = self.current(key)?;
            let user_edit = decision
                .kept
                .as_ref()
                .is_some_and(|k| k.folders.contains(&folder));
            if decision.value.is_empty() && ours.is_none() {
                // Nothing to say (the profile leaves it unset) and never set by imggen here.
                continue;
            }
            if current.as_deref() != Some(decision.value.as_bytes()) {
                let earlier = self.earlier(key, current.as_deref(), ours)?;
                self.text = self.env().set(key, &decision.value, earlier)?;
                keys.push(KeyChange {
                    key: key.to_string(),
                    before: current.map(|c| String::from_utf8_lossy(&c).into_owned()),
                    after: decision.value.clone(),
                    commented: earlier == Earlier::Commented,
                });
            }
            let written = match (user_edit, ours) {
                (true, Some(ours)) => ours.clone(),
                _ => decision.value.clone(),
            };
            next.env
                .entry(folder.to_string())
                .or_default()
                .insert(key.to_string(), written);
        }
        // A missing `.env` is made from `.env.example` even when no key changes, as the
        // platform's wizards do; without either, only when imggen has keys to set.
        let after = if self.before.is_none() && !self.from_example && keys.is_empty() {
            None
        } else {
            Some(self.text.clone())
        };
        Ok(Change {
            path: format!("{folder}/.env"),
            before: self.before.clone(),
            after,
            keys,
            from_example: self.from_example,
        })
    }
}

/// What `apply` writes for one key in every `.env` that holds it: the profile's value, or the
/// value a user set since imggen last wrote it (which then wins in every file, so each of the
/// platform's entry points runs the same image).
struct Decision {
    value: String,
    /// The profile's value.
    profile: String,
    kept: Option<Kept>,
}

/// A value a user changed since imggen set it.
struct Kept {
    /// The folders whose `.env` holds the user's value.
    folders: Vec<&'static str>,
    /// What imggen had set there.
    ours: String,
    value: String,
}

impl Kept {
    fn line(&self, key: &str, profile: &str) -> String {
        let files: Vec<String> = self.folders.iter().map(|f| format!("{f}/.env")).collect();
        format!(
            "kept {key}={}: changed in {} since imggen set `{}`, so every file that sets it \
             gets it and no override builds it (--force sets `{profile}`)",
            self.value.escape_debug(),
            files.join(", "),
            self.ours
        )
    }
}

/// One key's [`Decision`], over every project `.env` that holds it.
fn decide(
    envs: &[EnvFile],
    rendered: &Env<'_>,
    record: &Record,
    force: bool,
) -> Result<BTreeMap<&'static str, Decision>> {
    let mut decisions = BTreeMap::new();
    for file in envs {
        for key in file.project.keys() {
            if decisions.contains_key(key) {
                continue;
            }
            let profile = rendered.plain(key)?;
            let mut kept: Option<Kept> = None;
            for other in envs.iter().filter(|e| e.project.keys().contains(&key)) {
                let folder = other.project.folder;
                let ours = record.env.get(folder).and_then(|r| r.get(key));
                let (Some(current), Some(ours)) = (other.current(key)?, ours) else {
                    continue;
                };
                if force || current == ours.as_bytes() || current == profile.as_bytes() {
                    continue;
                }
                let value = String::from_utf8_lossy(&current).into_owned();
                match &mut kept {
                    Some(k) if k.value == value => k.folders.push(folder),
                    Some(k) => {
                        return Err(Error::KeptValuesDiffer {
                            key: key.to_string(),
                            first: (format!("{}/.env", k.folders[0]), k.value.clone()),
                            second: (format!("{folder}/.env"), value),
                        });
                    }
                    None => {
                        kept = Some(Kept {
                            folders: vec![folder],
                            ours: ours.clone(),
                            value,
                        });
                    }
                }
            }
            let value = kept.as_ref().map_or(profile.clone(), |k| k.value.clone());
            decisions.insert(
                key,
                Decision {
                    value,
                    profile,
                    kept,
                },
            );
        }
    }
    Ok(decisions)
}

/// The Python wizard's `platform-config.yaml` with its image entries as decided for the `.env`
/// files ([`crate::platform::wizard_config`]), made if there is none: the wizard then offers (and writes
/// back) the profile's images. An entry the user changed since imggen set it is kept (until
/// `--force`), and said so.
fn wizard_config_change(
    checkout: &Checkout<'_>,
    decisions: &BTreeMap<&'static str, Decision>,
    record: &Record,
    force: bool,
    next: &mut Record,
) -> Result<(Option<Change>, Vec<String>)> {
    use crate::platform::wizard_config::{self as config, ENTRIES};
    let path = checkout.dir().join(config::FILE);
    let before = checkout.read(&path)?;
    let unreadable = |path: &Path| {
        let path = path.to_path_buf();
        move |e: config::NotAMapping| Error::WizardConfig { path, reason: e.0 }
    };
    let mut map = config::parse(before.as_deref()).map_err(unreadable(&path))?;
    // The defaults the wizard copies its file from: a value equal to one is not kept.
    let example_path = checkout.dir().join(config::EXAMPLE);
    let example = config::parse(checkout.read(&example_path)?.as_deref())
        .map_err(unreadable(&example_path))?;
    let mut settings = Vec::new();
    let mut keys = Vec::new();
    let mut kept = Vec::new();
    for entry in &ENTRIES {
        let desired = decisions
            .get(entry.holds.key())
            .map(|d| entry.holds.value(&d.value));
        let Some(desired) = desired.filter(|d| !d.is_empty()) else {
            continue;
        };
        if entry.legacy && !config::has_section(&map, entry) {
            continue;
        }
        let name = entry.name();
        let current = config::get(&map, entry);
        let ours = record.config.get(&name);
        if let (Some(current), Some(ours)) = (&current, ours)
            && current != ours
            && *current != desired
            && !force
        {
            kept.push(format!(
                "kept {} {name}={}: changed since imggen set `{ours}` (--force sets `{desired}`)",
                config::FILE,
                current.escape_debug()
            ));
            next.config.insert(name, ours.clone());
            continue;
        }
        if current.as_deref() != Some(desired.as_str()) {
            config::set(&mut map, entry, &desired);
            let keep = current.as_ref().is_some_and(|c| {
                let example = config::get(&example, entry);
                worth_keeping(
                    c.as_bytes(),
                    ours.map(String::as_bytes),
                    example.as_deref().map(str::as_bytes),
                )
            });
            keys.push(KeyChange {
                key: name.clone(),
                before: current,
                after: desired.clone(),
                commented: keep,
            });
            settings.push(config::Setting {
                entry,
                value: desired.clone(),
                keep,
            });
        }
        next.config.insert(name, desired);
    }
    if keys.is_empty() {
        return Ok((None, kept));
    }
    let (after, in_place) = config::text_after(
        before.as_deref(),
        &settings,
        &map,
        crate::platform::dotenv::EARLIER,
    );
    if !in_place {
        for key in &mut keys {
            key.commented = false;
        }
        if before.is_some() {
            kept.push(format!(
                "note: {} is written whole (its comments and quoting not kept): imggen edits in \
                 place only a file in plain block style (no flow mappings, anchors or tags on the \
                 way to its entries, no block scalars or quoted values over several lines)",
                config::FILE
            ));
        }
    }
    Ok((
        Some(Change {
            path: config::FILE.to_string(),
            before,
            after: Some(after),
            keys,
            from_example: false,
        }),
        kept,
    ))
}

/// Whether a value `apply` replaces stays in its file as a comment: one someone else wrote, so
/// neither empty, nor what imggen set there (`ours`), nor the platform's default (what the
/// example the file is made from gives it, which stays in the example).
fn worth_keeping(current: &[u8], ours: Option<&[u8]>, example: Option<&[u8]>) -> bool {
    !current.is_empty() && ours != Some(current) && example != Some(current)
}

/// One key a `.env` change sets (or an entry of the wizard's configuration).
struct KeyChange {
    key: String,
    before: Option<String>,
    after: String,
    /// Whether the value replaced stays in the file as a comment ([`Earlier::Commented`]).
    commented: bool,
}

/// A `.env` as bytes, with the path its errors name.
struct Env<'a> {
    path: PathBuf,
    text: &'a [u8],
}

impl Env<'_> {
    /// What Compose reads for `key` here.
    fn value(&self, key: &str) -> Result<Option<std::borrow::Cow<'_, [u8]>>> {
        crate::platform::dotenv::value(self.text, key).map_err(|u| self.unreadable(u))
    }

    /// The text with `key` set to the plain `value` ([`crate::platform::dotenv::set`]).
    fn set(&self, key: &str, value: &str, earlier: Earlier) -> Result<Vec<u8>> {
        crate::platform::dotenv::set(self.text, key, value, earlier).map_err(|u| self.unreadable(u))
    }

    fn unreadable(&self, unreadable: crate::platform::dotenv::Unreadable) -> Error {
        Error::EnvUnreadable {
            path: self.path.clone(),
            line: unreadable.line,
            why: unreadable.why,
        }
    }

    /// The value imggen's rendered `.env` gives `key` (empty when unset): one that reads the
    /// same bare or quoted, since `apply` writes it in whatever quoting the user's line has.
    fn plain(&self, key: &str) -> Result<String> {
        let value = self.value(key)?.unwrap_or_default();
        match std::str::from_utf8(&value) {
            Ok(text) if text.chars().all(crate::pipeline::filters::is_plain) => {
                Ok(text.to_string())
            }
            _ => Err(Error::EnvNotPlain {
                key: key.to_string(),
                value: String::from_utf8_lossy(&value).into_owned(),
            }),
        }
    }
}

/// What every project's override is planned from.
#[derive(Clone, Copy)]
struct OverrideInputs<'a> {
    checkout: &'a Checkout<'a>,
    r: &'a Rendered,
    images: &'a BTreeMap<&'a str, crate::pipeline::resolve::Image>,
    decisions: &'a BTreeMap<&'static str, Decision>,
    out: &'a Path,
    record: &'a Record,
    force: bool,
}

/// The project's `docker-compose.override.yml`: `image:` and `build:` of the services whose
/// image imggen builds in this render (and no user's kept value replaces); none when there are
/// none.
fn override_change(inputs: &OverrideInputs<'_>, project: &Project) -> Result<Option<Change>> {
    let OverrideInputs {
        checkout,
        r,
        images,
        decisions,
        out,
        record,
        force,
    } = *inputs;
    if !project.is_compose_project() {
        return Ok(None);
    }
    let platform = checkout.dir();
    let relative = format!("{}/{OVERRIDE}", project.folder);
    let path = platform.join(&relative);
    let mut services = String::new();
    for role in project.roles() {
        let image = &images[role.key];
        let rendered = r.files.contains_key(&format!("{}/Dockerfile", role.name));
        let (Some(built), true) = (&image.built, rendered) else {
            continue;
        };
        // A user's own image for the role runs as they set it: no override pins imggen's.
        if decisions.get(role.env).is_some_and(|d| d.kept.is_some()) {
            continue;
        }
        let context = relative_path(&platform.join(project.folder), &out.join(role.name));
        // Every service runs the image; the first builds it (once, not once per service).
        for (index, service) in role.services.iter().enumerate() {
            let name = r.profile.compose.service(service);
            let _ = write!(
                services,
                "  {name}:\n    image: {}\n",
                crate::pipeline::filters::yaml(built)
            );
            if index == 0 {
                let _ = write!(
                    services,
                    "    build:\n      context: {}\n",
                    crate::pipeline::filters::yaml(&context)
                );
            }
        }
    }
    let before = checkout.read(&path)?;
    let after = (!services.is_empty()).then(|| {
        format!(
            "# Generated by imggen apply from profile `{}`: the images imggen builds for this \
             project.\n# Do not edit by hand: change the profile and run `imggen apply` again.\n\
             services:\n{services}",
            r.manifest.profile
        )
        .into_bytes()
    });
    if let Some(existing) = &before
        && before != after
    {
        let ours = record
            .files
            .get(&relative)
            .is_some_and(|h| *h == hash(existing));
        if !ours && !force {
            return Err(Error::NotOurs { path });
        }
    }
    if before.is_none() && after.is_none() {
        return Ok(None);
    }
    Ok(Some(Change {
        path: relative,
        before,
        after,
        keys: Vec::new(),
        from_example: false,
    }))
}

/// Refuses a project where Compose would not read imggen's override: another override file
/// there ([`OVERRIDES`]), or a `COMPOSE_FILE` in its `.env` that leaves it out.
fn override_is_read(platform: &Path, project: &Project, env: Option<&[u8]>) -> Result<()> {
    let folder = platform.join(project.folder);
    for other in OVERRIDES.iter().filter(|name| **name != OVERRIDE) {
        let path = folder.join(other);
        if std::fs::symlink_metadata(&path).is_ok() {
            return Err(Error::OverrideNotRead {
                ours: folder.join(OVERRIDE),
                other: path,
                ours_first: OVERRIDES.iter().position(|n| *n == OVERRIDE)
                    < OVERRIDES.iter().position(|n| n == other),
            });
        }
    }
    let env = Env {
        path: folder.join(".env"),
        text: env.unwrap_or_default(),
    };
    let Some(files) = env.value("COMPOSE_FILE")? else {
        return Ok(());
    };
    let separator = env.value("COMPOSE_PATH_SEPARATOR")?;
    let absolute = std::path::absolute(&folder).unwrap_or_else(|_| folder.clone());
    if !lists_override(&files, separator.as_deref().unwrap_or(b":"), &absolute) {
        return Err(Error::OverrideNotListed {
            ours: folder.join(OVERRIDE),
            env: env.path,
        });
    }
    Ok(())
}

/// The platform checkout `apply` works on, locked for the request. The checkout may come from a
/// pull request (`apply --check` in the platform's CI): every file `apply` reads or writes there
/// must stay inside it, which the session sees to.
type Checkout<'a> = Session<'a>;

/// `to` relative to the folder `from`, lexically (`../imggen/postgres`), `/`-separated.
fn relative_path(from: &Path, to: &Path) -> String {
    let absolute = |p: &Path| -> Vec<String> {
        let p = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let mut parts: Vec<String> = Vec::new();
        for c in p.components() {
            match c {
                Component::ParentDir => {
                    parts.pop();
                }
                Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                _ => {}
            }
        }
        parts
    };
    let (from, to) = (absolute(from), absolute(to));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(to[common..].iter().cloned());
    if parts.is_empty() {
        ".".into()
    } else if parts[0] == ".." {
        parts.join("/")
    } else {
        format!("./{}", parts.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_under_example_is_a_placeholder() {
        for value in [
            "registry.corp.example/platform/postgres:17",
            "https://pypi.corp.example/simple",
            "pypi.corp.example",
            "registry.example:5000/x",
        ] {
            assert!(is_example_domain(value), "{value}");
        }
        for value in [
            "postgres:17.5-bookworm",
            "registry.example.com/x",
            "myorg/examples:1",
        ] {
            assert!(!is_example_domain(value), "{value}");
        }
    }

    #[test]
    fn relative_paths_go_up_and_down_lexically() {
        assert_eq!(
            relative_path(
                Path::new("/p/platform-infrastructure"),
                Path::new("/p/imggen/postgres")
            ),
            "../imggen/postgres"
        );
        assert_eq!(relative_path(Path::new("/p/a"), Path::new("/p/a/b")), "./b");
        assert_eq!(
            relative_path(Path::new("/p/a/../b"), Path::new("/p/c")),
            "../c"
        );
    }
}
