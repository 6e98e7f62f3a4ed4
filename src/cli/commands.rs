//! Each command as a short composition of the pipeline: load → resolve → render → check or write.

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::pipeline::pack::Packs;
use crate::pipeline::run::{PackCache, Target};
use crate::profile::{self, Selection, source};
use crate::role::Role;

pub enum Command {
    Render(RenderRequest),
    Check(CheckRequest),
    Diff(DiffRequest),
    Show(ShowRequest),
    List(ListWhat),
    Vendor(VendorRequest),
    Lint(LintRequest),
    Build(BuildRequest),
    Test(TestRequest),
    Edit(EditRequest),
    Schema,
    Init(crate::cli::init::Answers),
    Apply(crate::platform::apply::ApplyRequest),
    Lock(LockRequest),
    Mirror(MirrorRequest),
    /// Text the command line made itself (completions, the man page): printed as it is.
    Print(Vec<u8>),
    /// `imggen man --out DIR`: every man page, as (file name, roff), written into `out`.
    ManPages {
        out: PathBuf,
        pages: Vec<(String, Vec<u8>)>,
        force: bool,
    },
}

/// `set` and `unset`: edits to one profile file.
pub struct EditRequest {
    pub profile: PathBuf,
    /// `KEY=VALUE`s to set.
    pub set: Vec<String>,
    /// Keys to remove.
    pub unset: Vec<String>,
}

pub struct TestRequest {
    pub selection: Selection,
    pub engine: Option<&'static crate::images::engine::Kind>,
    /// Images to test instead of the profile's.
    pub images: Vec<(&'static Role, String)>,
    pub only: Vec<&'static Role>,
    pub pack_dirs: Vec<PathBuf>,
}

pub struct LockRequest {
    pub selection: Selection,
    pub mode: crate::registry::upstream::LockMode,
}

pub struct MirrorRequest {
    pub selection: Selection,
    pub mirror: crate::registry::mirror::Request,
}

pub struct BuildRequest {
    pub selection: Selection,
    pub out: PathBuf,
    pub engine: Option<&'static crate::images::engine::Kind>,
    pub push: bool,
    /// Build every step again, reusing no cached layer.
    pub no_cache: bool,
    /// At most this many builds at once.
    pub jobs: usize,
    /// Record the pushed digests in the lockfile and render again, so `.env` names them.
    pub pin: bool,
    pub only: Vec<&'static Role>,
    pub pack_dirs: Vec<PathBuf>,
}

pub struct LintRequest {
    pub pack_dirs: Vec<PathBuf>,
    /// Files to lint; empty: the selection's rendered Dockerfiles.
    pub files: Vec<PathBuf>,
    pub selection: Selection,
    pub role: Option<&'static Role>,
    pub mode: Option<crate::images::lint::Mode>,
    pub json: bool,
    pub explain: Option<String>,
}

pub struct RenderRequest {
    pub target: Target,
    pub force: bool,
    pub dry_run: bool,
}

pub struct CheckRequest {
    pub target: Target,
    pub json: bool,
    /// Also list what the build contexts hold that the profile does not render.
    pub untracked: bool,
}

pub struct ShowRequest {
    pub selection: Selection,
    pub json: bool,
}

pub struct DiffRequest {
    pub json: bool,
    pub left: Selection,
    pub right: Selection,
    pub pack_dirs: Vec<PathBuf>,
}

pub enum VendorAction {
    Copy,
    Status,
    Update,
}

pub struct VendorRequest {
    pub packs: Vec<String>,
    pub into: PathBuf,
    pub action: VendorAction,
}

pub enum ListWhat {
    Profiles,
    Packs { pack_dirs: Vec<PathBuf> },
}

/// Writes to stdout; a closed pipe (`imggen show | head`) is not an error.
fn emit(text: &str) {
    let _ = std::io::stdout().write_all(text.as_bytes());
}

fn warn(warnings: &[crate::error::Warning]) {
    crate::error::Warning::print_all(warnings);
}

pub fn execute(command: Command) -> Result<u8> {
    match command {
        Command::Render(request) => render(&request),
        Command::Check(request) => check(&request),
        Command::Show(request) => {
            let stack = profile::load(&request.selection)?;
            crate::pipeline::resolve::resolve(&stack, &crate::registry::lock::Lockfile::load()?)?;
            if request.json {
                emit(&json_text(&crate::cli::show::json(&stack)));
            } else {
                emit(&crate::cli::show::annotated(&stack));
            }
            Ok(0)
        }
        Command::List(what) => list(what),
        Command::Print(bytes) => {
            let _ = std::io::stdout().write_all(&bytes);
            Ok(0)
        }
        Command::ManPages { out, pages, force } => write_man_pages(&out, &pages, force),
        Command::Diff(request) => diff(&request),
        Command::Vendor(request) => vendor(&request),
        Command::Lint(request) => lint(&request),
        Command::Build(request) => build(&request),
        Command::Lock(request) => lock(&request),
        Command::Mirror(request) => mirror(&request),
        Command::Test(request) => image_test(&request),
        Command::Edit(request) => edit(&request),
        Command::Init(answers) => init(&answers),
        Command::Apply(request) => {
            let outcome = crate::platform::apply::apply(&request, color())?;
            if request.json {
                let text = serde_json::to_string_pretty(&outcome.json).expect("plain data");
                emit(&format!("{text}\n"));
            } else {
                emit(&outcome.report);
            }
            Ok(u8::from(request.check && outcome.differs))
        }
        Command::Schema => {
            emit(&format!("{}\n", crate::profile::schema()));
            Ok(0)
        }
    }
}

/// `imggen man --out DIR`: checks every page's file first (one that is not an imggen man page
/// is refused without `--force`, and nothing is written), then writes each that changed.
fn write_man_pages(out: &Path, pages: &[(String, Vec<u8>)], force: bool) -> Result<u8> {
    let mut changed = Vec::new();
    for (name, roff) in pages {
        let path = out.join(name);
        match crate::output::files::read_optional(&path)? {
            Some(old) if old == *roff => {}
            Some(old) if !force && !is_man_page(&old, name) => {
                return Err(crate::error::Error::NotOurs { path });
            }
            _ => changed.push((path, roff)),
        }
    }
    std::fs::create_dir_all(out).map_err(|source| crate::error::Error::Write {
        path: out.to_path_buf(),
        source,
    })?;
    for (path, roff) in &changed {
        crate::output::files::write_atomic(path, roff, false)?;
    }
    emit(&format!(
        "{}: {} man pages, {} written\n",
        out.display(),
        pages.len(),
        changed.len()
    ));
    Ok(0)
}

/// Whether `text` is imggen's man page `name` (`imggen-render.1`): its title line says so.
fn is_man_page(text: &[u8], name: &str) -> bool {
    let title = format!(".TH {} ", name.trim_end_matches(".1"));
    text.split(|&b| b == b'\n')
        .take(5)
        .any(|line| line.starts_with(title.as_bytes()))
}

fn init(answers: &crate::cli::init::Answers) -> Result<u8> {
    use crate::cli::init::{Defaults, NoTty, Prompter, Terminal};
    let tty = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let mut prompter: Box<dyn Prompter> = if answers.yes {
        Box::new(Defaults)
    } else if tty {
        // Ctrl-C ends the process inside a menu, which hides the cursor: show it again first.
        // Nothing has been written before the last answer, so stopping is safe.
        let _ = ctrlc::set_handler(|| {
            let _ = writeln!(std::io::stderr(), "\x1b[?25h");
            let interrupted = crate::error::Error::Interrupted {
                cause: "Ctrl-C".into(),
            };
            let _ = writeln!(std::io::stderr(), "error: {interrupted}");
            std::process::exit(2);
        });
        Box::new(Terminal)
    } else {
        Box::new(NoTty::default())
    };
    let edit = crate::cli::init::plan(answers, prompter.as_mut())?;
    let path = edit.path.clone();
    let shown = path.display().to_string();
    let changed = edit.text() != edit.before;
    const RENDER: &str = "Render it into generated/ now?";
    // Without a terminal every answer is known before anything is written.
    let mut render = answers.render;
    if !tty && render.is_none() {
        render = Some(prompter.confirm("--render|--no-render", RENDER, true)?);
    }
    if changed && !tty && !answers.yes {
        prompter.confirm("--yes", &format!("Write {shown}?"), true)?;
    }
    prompter.finish()?;
    if changed {
        emit(&edit.diff(color()));
        warn(crate::cli::init::unbuilt_note(&edit)?.as_slice());
        let write = answers.yes || prompter.confirm("--yes", &format!("Write {shown}?"), true)?;
        if !write {
            emit("nothing written\n");
            return Ok(0);
        }
        let note = edit.shadowing();
        edit.write()?;
        warn(note.as_slice());
        emit(&format!("wrote {shown}\n"));
    } else {
        emit(&format!(
            "{shown}: already says all of that; nothing to change\n"
        ));
    }
    let after_write = |cause: crate::error::Error| {
        if changed {
            crate::error::Error::AfterWrite {
                wrote: path.clone(),
                cause: Box::new(cause),
            }
        } else {
            cause
        }
    };
    let render = match render {
        Some(render) => render,
        None => prompter
            .confirm("--render|--no-render", RENDER, true)
            .map_err(after_write)?,
    };
    // As the README's next commands name it (`-p custom`), so a folder remembers that.
    let selected = source::name_for(&path).unwrap_or(shown);
    if render {
        let target = Target {
            selection: Some(Selection::of(&selected)),
            out: PathBuf::from(crate::pipeline::run::DEFAULT_OUT),
            pack_dirs: Vec::new(),
        };
        return execute(Command::Render(RenderRequest {
            target,
            force: false,
            dry_run: false,
        }))
        .map_err(after_write);
    }
    emit(&format!(
        "render it with: imggen render --profile {selected}\n"
    ));
    Ok(0)
}

fn edit(request: &EditRequest) -> Result<u8> {
    let mut edit = crate::cli::edit::Edit::open(&request.profile)?;
    // A new file named after a built-in replaces it for `render -p NAME`: it starts from the
    // built-in (`extends` of its own name), so only the values set here differ.
    if let Some(crate::error::Warning::ShadowsBuiltin { name, .. }) = edit.shadowing()
        && !request.set.is_empty()
    {
        edit.set_value(&["extends".into()], name.as_str().into(), "extends")?;
    }
    for arg in &request.set {
        edit.set(&crate::profile::set::Set::parse(arg)?)?;
    }
    for key in &request.unset {
        // A key is parsed like the left side of a `--set`.
        let parsed = crate::profile::set::Set::parse(&format!("{key}="))?;
        if !edit.unset(&parsed.path) {
            emit(&format!(
                "`{key}` is not set in {}\n",
                request.profile.display()
            ));
        }
    }
    if edit.text() == edit.before {
        emit(&format!("{}: unchanged\n", request.profile.display()));
        return Ok(0);
    }
    let note = edit.shadowing();
    edit.write()?;
    warn(note.as_slice());
    emit(&edit.diff(color()));
    Ok(0)
}

fn image_test(request: &TestRequest) -> Result<u8> {
    use std::sync::atomic::Ordering;
    let selection = remembered(
        &request.selection,
        Path::new(crate::pipeline::run::DEFAULT_OUT),
    )?;
    let cache = PackCache::new(&request.pack_dirs);
    let (stack, files, warnings) = cache.render(&selection)?;
    warn(&warnings);
    let refs = crate::pipeline::resolve::images(&stack.profile, &*cache.lock()?);
    let mut images = crate::images::imagetest::Images::new();
    for role in crate::role::built() {
        // By default, the images of the roles this profile renders.
        let chosen = if request.only.is_empty() {
            stack.profile.packs.iter().any(|p| p == role.name)
        } else {
            request.only.iter().any(|o| std::ptr::eq(*o, role))
        };
        let given = request
            .images
            .iter()
            .rev()
            .find(|(r, _)| std::ptr::eq(*r, role));
        match given {
            Some((_, image)) => images.push((role, image.clone())),
            None if chosen => images.push((role, refs[role.key].env.clone())),
            None => {}
        }
    }
    let mut engine = crate::images::engine::detect(request.engine)?;
    let _ =
        ctrlc::set_handler(|| crate::images::imagetest::INTERRUPTED.store(true, Ordering::SeqCst));
    let tally = crate::images::imagetest::run(
        engine.as_mut(),
        &stack.profile,
        &files,
        &images,
        &mut |line| emit(line),
    )?;
    drop(engine);
    if crate::images::imagetest::INTERRUPTED.load(Ordering::SeqCst) {
        emit("interrupted: started containers were removed\n");
        return Ok(130);
    }
    emit(&format!(
        "{} passed, {} failed\n",
        tally.passed, tally.failed
    ));
    Ok(u8::from(tally.failed > 0))
}

fn build(request: &BuildRequest) -> Result<u8> {
    let selection = remembered(&request.selection, &request.out)?;
    let r = crate::pipeline::run::render_one(&selection, &request.out, &request.pack_dirs)?;
    warn(&r.warnings);
    if !r.dir.exists() {
        crate::output::write::execute(&r.files, &r.manifest, &r.dir, false)?;
        emit(&format!(
            "rendered `{}` into {}\n",
            r.manifest.profile,
            r.dir.display()
        ));
    } else if !crate::output::check::compare(&r.files, &r.dir)?.is_clean() {
        return Err(crate::error::Error::Stale { dir: r.dir });
    }
    let profile = &r.profile;
    let jobs = crate::images::build::jobs(profile, &request.only);
    let folders: Vec<&str> = jobs.iter().map(|job| job.folder).collect();
    let strays = crate::images::build::strays(&r.dir, &r.files, &folders);
    if !strays.is_empty() {
        let paths = strays.iter().map(|path| r.dir.join(path)).collect();
        return Err(crate::error::Error::StrayInContext { paths });
    }
    if jobs.is_empty() {
        let roles: Vec<&Role> = if request.only.is_empty() {
            crate::role::built().collect()
        } else {
            request.only.clone()
        };
        let keys: Vec<String> = roles
            .iter()
            .map(|r| format!("`{}`", profile.tag_key(r).join(".")))
            .collect();
        emit(&format!(
            "nothing to build: the profile names no tag for these images ({})\n",
            keys.join(", ")
        ));
        return Ok(0);
    }
    let engine = crate::images::engine::detect(request.engine)?;
    let args = crate::pipeline::resolve::build_args(profile);
    let (logins, warnings) =
        crate::images::build::hand_logins(engine.as_ref(), &r.files, &jobs, request.push)?;
    warn(&warnings);
    let login_path = logins.as_ref().map(crate::images::build::LoginFile::path);
    let outcomes = crate::images::build::run(
        engine.as_ref(),
        crate::images::build::Rendered {
            files: &r.files,
            dir: &r.dir,
        },
        &jobs,
        &args,
        crate::images::build::Options {
            push: request.push,
            no_cache: request.no_cache,
            jobs: request.jobs,
        },
        login_path.as_deref(),
        &|line| emit(line),
    )?;
    drop(logins);
    emit(&crate::images::build::table(&outcomes));
    let failed = outcomes.iter().any(|o| !o.ok());
    if request.pin && !failed {
        pin(&selection, request, &outcomes)?;
    }
    Ok(u8::from(failed))
}

/// `build --push --pin`: the pushed digests into the lockfile, then the folder rendered again
/// with them (so `.env` names each pushed image by digest).
fn pin(
    selection: &Selection,
    request: &BuildRequest,
    outcomes: &[crate::images::build::Outcome],
) -> Result<()> {
    use crate::registry::lock::{Entry, FILE_NAME, Lockfile};
    let path = Path::new(FILE_NAME);
    let mut lock = Lockfile::load()?;
    let today = crate::registry::lock::today();
    for outcome in outcomes {
        match outcome.digest() {
            Some(digest) => {
                let pinned = lock.pushed.get(&outcome.job.tag).map(|e| e.digest.as_str());
                if pinned != Some(digest) {
                    lock.pushed.insert(
                        outcome.job.tag.clone(),
                        Entry {
                            digest: digest.to_string(),
                            locked: today.clone(),
                        },
                    );
                }
            }
            None => emit(&format!(
                "not pinned: the engine did not say the digest of `{}`\n",
                outcome.job.tag
            )),
        }
    }
    if !lock.save_to(path)? {
        emit(&format!("{FILE_NAME} already pins these digests\n"));
        return Ok(());
    }
    let after_write = |cause| crate::error::Error::AfterWrite {
        wrote: path.to_path_buf(),
        cause: Box::new(cause),
    };
    let r = crate::pipeline::run::render_one(selection, &request.out, &request.pack_dirs)
        .map_err(after_write)?;
    crate::output::write::execute(&r.files, &r.manifest, &r.dir, false).map_err(after_write)?;
    emit(&format!(
        "pinned the pushed digests in {FILE_NAME}; rendered {} again, its .env names them\n",
        r.dir.display()
    ));
    Ok(())
}

/// The profile's CA certificates, read and checked: what registry clients trust beside the
/// system's.
fn ca_certificates(stack: &profile::Stack) -> Result<Vec<Vec<u8>>> {
    let resolved =
        crate::pipeline::resolve::resolve(stack, &crate::registry::lock::Lockfile::default())?;
    Ok(resolved
        .files
        .get("ca_certificates")
        .map(|list| list.iter().map(|f| f.contents.clone()).collect())
        .unwrap_or_default())
}

fn lock(request: &LockRequest) -> Result<u8> {
    use crate::registry::upstream::{LockMode, Status};
    let selection = remembered(
        &request.selection,
        Path::new(crate::pipeline::run::DEFAULT_OUT),
    )?;
    let stack = profile::load(&selection)?;
    let path = Path::new(crate::registry::lock::FILE_NAME);
    let current = crate::registry::lock::Lockfile::load()?;
    let client = crate::registry::upstream::client(&ca_certificates(&stack)?)?;
    let bases = crate::registry::upstream::bases(&stack.profile);
    if bases.is_empty() {
        emit("nothing to lock: the profile pins every base image by digest itself\n");
        return Ok(0);
    }
    let (rows, next) = crate::registry::upstream::lock(
        &bases,
        &current,
        &request.mode,
        &crate::registry::lock::today(),
        &|reference| client.digest(reference),
    )?;
    emit(&crate::registry::upstream::table(&rows));
    if request.mode == LockMode::Check {
        let stale = rows
            .iter()
            .filter(|r| matches!(r.status, Status::Moved { .. } | Status::NotLocked))
            .count();
        if stale == 0 {
            emit(&format!("{} matches the registries\n", path.display()));
            return Ok(0);
        }
        emit(&format!(
            "{} of {} out of date; run `imggen lock --update` to move the pins\n",
            crate::output::diff::count(stale, "pin is", "pins are"),
            path.display()
        ));
        return Ok(1);
    }
    if next.save_to(path)? {
        emit(&format!("wrote {}\n", path.display()));
    } else {
        emit(&format!("{} is up to date\n", path.display()));
    }
    Ok(0)
}

fn mirror(request: &MirrorRequest) -> Result<u8> {
    let m = &request.mirror;
    for (flag, value) in [("--to", &m.to), ("--from", &m.from)] {
        if let Some(value) = value
            && let Some(reason) = crate::pipeline::validate::Rule::Registry.check(value)
        {
            return Err(crate::error::Error::BadRegistryArg {
                flag,
                value: value.clone(),
                reason: Box::new(reason),
            });
        }
    }
    let selection = remembered(
        &request.selection,
        Path::new(crate::pipeline::run::DEFAULT_OUT),
    )?;
    let stack = profile::load(&selection)?;
    let certificates = ca_certificates(&stack)?;
    let client = crate::registry::upstream::client(&certificates)?;
    let plan = crate::registry::mirror::plan(&stack.profile, m, &client)?;
    let todo = plan.iter().filter(|c| !c.done()).count();
    let present = plan.len() - todo;
    if m.dry_run {
        emit(&crate::registry::mirror::table(&plan, None));
        emit(&format!(
            "{} to copy, {present} present (dry run: nothing copied)\n",
            crate::output::diff::count(todo, "image", "images")
        ));
        return Ok(0);
    }
    let served =
        crate::registry::mirror::copy_all(&plan, m, &client, &certificates, &mut |l| emit(l))?;
    emit(&crate::registry::mirror::table(&plan, Some(&served)));
    emit(&format!(
        "{} copied, {present} already present\n",
        crate::output::diff::count(todo, "image", "images")
    ));
    Ok(0)
}

fn lint(request: &LintRequest) -> Result<u8> {
    use crate::images::lint::Mode;
    if let Some(id) = &request.explain {
        let rule =
            crate::images::lint::rule(id).ok_or_else(|| crate::error::Error::UnknownRule {
                id: id.clone(),
                known: crate::images::lint::RULES
                    .iter()
                    .map(|r| r.id.to_string())
                    .collect(),
            })?;
        emit(&format!(
            "{} {}\n  why: {}\n  fix: {}\n",
            rule.id, rule.name, rule.why, rule.fix
        ));
        return Ok(0);
    }
    // (shown path, text, what the image is)
    let mut inputs: Vec<(String, String, crate::images::lint::Subject)> = Vec::new();
    if request.files.is_empty() {
        let selection = remembered(
            &request.selection,
            Path::new(crate::pipeline::run::DEFAULT_OUT),
        )?;
        let cache = PackCache::new(&request.pack_dirs);
        let (stack, files, warnings) = cache.render(&selection)?;
        warn(&warnings);
        let mode = request.mode.unwrap_or(stack.profile.mode);
        let images = crate::pipeline::resolve::images(&stack.profile, &*cache.lock()?);
        for (path, file) in files.iter().filter(|(p, _)| p.ends_with("Dockerfile")) {
            let text = String::from_utf8_lossy(&file.contents).into_owned();
            let role = request.role.or(crate::role::of_path(path));
            let subject = crate::images::lint::Subject {
                role,
                mode,
                // The name the platform runs it by: what its `.env` variable says.
                platform_name: role.map(|r| images[r.key].env.clone()),
            };
            inputs.push((path.clone(), text, subject));
        }
    } else {
        let mut notes = Vec::new();
        for path in &request.files {
            let text =
                std::fs::read_to_string(path).map_err(|e| crate::error::Error::read(path, e))?;
            let shown = path.display().to_string();
            let role = request
                .role
                .or_else(|| lint_role(&shown, &text, &mut notes));
            let subject = crate::images::lint::Subject {
                role,
                mode: request.mode.unwrap_or(Mode::Layered),
                platform_name: None,
            };
            inputs.push((shown, text, subject));
        }
        warn(&notes);
    }
    let findings: Vec<crate::images::lint::Finding> = inputs
        .iter()
        .flat_map(|(path, text, subject)| crate::images::lint::lint(path, text, subject))
        .collect();
    if request.json {
        let doc = serde_json::json!({ "files": inputs.len(), "findings": findings });
        emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).expect("plain data")
        ));
    } else {
        let mut out = String::new();
        for f in &findings {
            // The file's name and the text quoted from it may come with a pull request.
            out.push_str(&format!(
                "{}:{}: {} {}: {}\n  fix: {}\n",
                crate::output::diff::printable(&f.file),
                f.line,
                f.rule,
                f.name,
                crate::output::diff::printable(&f.message),
                f.fix
            ));
        }
        let dockerfiles = crate::output::diff::count(inputs.len(), "Dockerfile", "Dockerfiles");
        out.push_str(&match findings.len() {
            0 => format!("{dockerfiles}, no findings\n"),
            n => format!(
                "{} in {dockerfiles} (`imggen lint --explain RULE` says why)\n",
                crate::output::diff::count(n, "finding", "findings")
            ),
        });
        emit(&out);
    }
    Ok(u8::from(!findings.is_empty()))
}

/// The role of a Dockerfile named on the command line without `--role`: read from its folder
/// (`postgres/Dockerfile`), else from its `FROM` image; a note says which, or which rules
/// went unchecked for want of one.
fn lint_role(
    shown: &str,
    text: &str,
    notes: &mut Vec<crate::error::Warning>,
) -> Option<&'static Role> {
    use crate::error::Warning;
    let read = crate::role::of_path(shown)
        .map(|role| (role, format!("from its folder `{}/`", role.name)))
        .or_else(|| {
            crate::images::lint::role_of_base(text)
                .map(|(role, image)| (role, format!("from its FROM image `{image}`")))
        });
    notes.push(match &read {
        Some((role, from)) => Warning::LintRoleRead {
            file: shown.to_string(),
            role: role.name,
            from: from.clone(),
        },
        None => Warning::LintRoleUnknown {
            file: shown.to_string(),
            rules: crate::images::lint::role_rules().map(|r| r.id).collect(),
            roles: crate::role::ROLES.iter().map(|r| r.name).collect(),
        },
    });
    read.map(|(role, _)| role)
}

fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn json_text(value: &serde_json::Value) -> String {
    format!(
        "{}\n",
        serde_json::to_string_pretty(value).expect("plain data")
    )
}

fn diff(request: &DiffRequest) -> Result<u8> {
    let cache = PackCache::new(&request.pack_dirs);
    let (left_stack, left, _) = cache.render(&request.left)?;
    let (right_stack, right, _) = cache.render(&request.right)?;
    let (left_name, right_name) = (left_stack.title(), right_stack.title());
    let differences = crate::output::check::compare_renders(&left, &right);
    if request.json {
        let changed: Vec<serde_json::Value> = differences
            .changed
            .iter()
            .map(|(path, a, b)| {
                serde_json::json!({
                    "path": path,
                    "diff": crate::output::diff::unified_diff(
                        a, b, &format!("{left_name}/{path}"), &format!("{right_name}/{path}"), false,
                    ),
                })
            })
            .collect();
        emit(&json_text(&serde_json::json!({
            "left": left_name,
            "right": right_name,
            "same": differences.is_empty(),
            "changed": changed,
            "only_left": differences.only_left,
            "only_right": differences.only_right,
            "header_only": differences.header_only,
        })));
        return Ok(u8::from(!differences.is_empty()));
    }
    if differences.is_empty() {
        emit(&format!(
            "`{left_name}` and `{right_name}` render the same files\n"
        ));
        return Ok(0);
    }
    let mut out = String::new();
    for (path, a, b) in &differences.changed {
        out.push_str(&crate::output::diff::unified_diff(
            a,
            b,
            &format!("{left_name}/{path}"),
            &format!("{right_name}/{path}"),
            color(),
        ));
    }
    for (side, paths) in [
        (&left_name, &differences.only_left),
        (&right_name, &differences.only_right),
    ] {
        for path in paths {
            out.push_str(&format!("only in `{side}`: {path}\n"));
        }
    }
    let header_only = &differences.header_only;
    if !header_only.is_empty() {
        out.push_str(&format!(
            "{} differ only in their generated header: {}\n",
            crate::output::diff::count(header_only.len(), "file", "files"),
            header_only.join(", ")
        ));
    }
    emit(&out);
    Ok(1)
}

fn vendor(request: &VendorRequest) -> Result<u8> {
    let packs = Packs::builtin()?;
    match request.action {
        VendorAction::Copy => {
            if request.packs.is_empty() {
                return Err(crate::error::Error::pack(
                    "vendor",
                    crate::error::Reason::NothingToVendor,
                ));
            }
            emit(&crate::cli::vendor::vendor(
                &packs,
                &request.packs,
                &request.into,
            )?);
            if crate::profile::project::Project::add_pack_dir(&request.into)? {
                emit(&format!(
                    "added {} to `pack_dirs` in {}: every imggen command here uses it\n",
                    request.into.display(),
                    crate::profile::project::FILE_NAME
                ));
            }
            Ok(0)
        }
        VendorAction::Status => {
            let (report, pending) = crate::cli::vendor::status(&packs, &request.into, color())?;
            emit(&report);
            Ok(u8::from(pending))
        }
        VendorAction::Update => {
            let (report, conflicts) =
                crate::cli::vendor::update(&packs, &request.packs, &request.into)?;
            emit(&report);
            Ok(u8::from(conflicts))
        }
    }
}

/// No `-p` and no `--set`: the selection `out` records it was rendered from, if any; otherwise
/// the selection as given (the default profile when empty).
fn remembered(selection: &Selection, out: &Path) -> Result<Selection> {
    if !selection.profiles.is_empty() || !selection.sets.is_empty() {
        return Ok(selection.clone());
    }
    Ok(match crate::output::manifest::Manifest::read(out)? {
        Some(m) if !m.profiles.is_empty() => {
            if let Some(outside) = m
                .profiles
                .iter()
                .find(|p| !crate::profile::source::inside_project(p))
            {
                return Err(crate::error::Error::RememberedOutside {
                    manifest: out.join(crate::output::manifest::FILE_NAME),
                    reference: outside.clone(),
                });
            }
            Selection {
                profiles: m.profiles,
                sets: m.sets,
            }
        }
        _ => selection.clone(),
    })
}

/// The target with a remembered selection (see [`remembered`]).
fn remembered_target(target: &Target) -> Result<Target> {
    Ok(Target {
        selection: match &target.selection {
            Some(selection) => Some(remembered(selection, &target.out)?),
            None => None,
        },
        out: target.out.clone(),
        pack_dirs: target.pack_dirs.clone(),
    })
}

/// The exact `imggen render` command that brings `dir` up to date with `selection`.
fn render_command(selection: Option<&Selection>, dir: &Path, pack_dirs: &[PathBuf]) -> String {
    let quote = |s: &str| crate::pipeline::filters::sh(s).unwrap_or_else(|_| format!("{s:?}"));
    let mut words = vec!["imggen".to_string(), "render".into()];
    match selection {
        Some(selection) => {
            for profile in &selection.profiles {
                words.extend(["-p".into(), quote(profile)]);
            }
            for set in &selection.sets {
                words.extend(["--set".into(), quote(set)]);
            }
        }
        None => words.push("--all".into()),
    }
    for pack_dir in pack_dirs {
        words.extend(["--pack-dir".into(), quote(&pack_dir.display().to_string())]);
    }
    words.extend(["--out".into(), quote(&dir.display().to_string())]);
    words.join(" ")
}

/// A folder rendered by another selection than this one is switched to it: said first.
fn note_a_new_selection(target: &Target) -> Result<()> {
    if let Some(selection) = &target.selection
        && let Some(previous) = crate::output::manifest::Manifest::read(&target.out)?
        && !previous.profiles.is_empty()
        && (previous.profiles != selection.profiles || previous.sets != selection.sets)
    {
        let was = Selection {
            profiles: previous.profiles,
            sets: previous.sets,
        };
        emit(&format!(
            "note: {} was rendered by `{}`; switching it to `{}`\n",
            target.out.display(),
            render_command(Some(&was), &target.out, &target.pack_dirs),
            render_command(Some(selection), &target.out, &target.pack_dirs),
        ));
    }
    Ok(())
}

fn render(request: &RenderRequest) -> Result<u8> {
    let target = remembered_target(&request.target)?;
    note_a_new_selection(&target)?;
    // First every folder rendered and planned, writing nothing, so that a refusal anywhere
    // (bad input, a hand edit) writes nothing anywhere. The folders this pass finds current
    // (nothing to write) are done. For `--all` the renders are not kept: the other folders are
    // rendered again, a chunk at a time, to write, so memory stays flat however many profiles
    // there are. One selection keeps its render.
    let keep = target.selection.is_some();
    let mut kept = Vec::new();
    // For `--all`: the fingerprint of each folder's files the first pass verified, so that the
    // second pass, rendering them again to write, verifies only what came out different.
    let mut fingerprints = std::collections::HashMap::new();
    let mut report = Report::default();
    // A dry run writes nothing anywhere, the memory included.
    let memo = memory(&target, !request.dry_run);
    // `--all` notes the fingerprint of what the first pass verified.
    let fingerprinted = !keep && !request.dry_run;
    let plan = |loaded| plan_folder(loaded, &memo, request.force, fingerprinted);
    // Listed once: the second pass writes exactly the folders the first planned.
    let jobs = target.jobs();
    let jobs: Vec<&crate::pipeline::run::Job> = jobs.iter().collect();
    crate::pipeline::run::map_loaded_jobs(&target, &jobs, plan, |planned| {
        let (r, plan, verified) = match planned {
            // Never on a dry run, which has no memory.
            Planned::Remembered {
                dir,
                line,
                warnings,
            } => {
                warn(&warnings);
                report.planned(&dir, Some(line));
                return Ok(());
            }
            Planned::Rendered(rendered) => *rendered,
        };
        if let Some(fingerprint) = verified {
            fingerprints.insert(r.dir.clone(), fingerprint);
        }
        warn(&r.warnings);
        if request.dry_run {
            emit(&describe_plan(&plan, &r.dir));
        } else {
            plan.refuse_conflicts()?;
        }
        report.planned(&r.dir, plan.current.then(|| written_line(&r, &plan)));
        if keep && !plan.current {
            // Verified by `plan_job` above.
            kept.push((r, true));
        }
        Ok(())
    })?;
    if request.dry_run {
        return Ok(0);
    }
    // Planned again under each folder's lock (another render may have written meanwhile), a
    // chunk of folders at a time with their flushes to disk shared.
    let current = report.current();
    // Each render comes with whether the first pass verified these very files.
    let mut write = |chunk: Vec<(crate::pipeline::run::Rendered, bool)>| {
        let jobs: Vec<crate::output::write::Job<'_>> = chunk
            .iter()
            .map(|(r, verified)| crate::output::write::Job {
                files: &r.files,
                manifest: &r.manifest,
                dir: &r.dir,
                verified: *verified,
            })
            .collect();
        let plans = crate::output::write::execute_all(&jobs, request.force)?;
        for ((r, _), plan) in chunk.iter().zip(&plans) {
            report.written(&r.dir, &written_line(r, plan));
        }
        Ok(())
    };
    if keep {
        if !kept.is_empty() {
            write(kept)?;
        }
    } else {
        // The fingerprints are compared on the threads that render.
        let verified = |r: crate::pipeline::run::Rendered| {
            let same =
                fingerprints.get(&r.dir) == Some(&crate::pipeline::verify::fingerprint(&r.files));
            Ok((r, same))
        };
        let to_write: Vec<&crate::pipeline::run::Job> = jobs
            .iter()
            .copied()
            .filter(|job| !current.contains(&job.dir))
            .collect();
        crate::pipeline::run::map_chunks(&target, &to_write, verified, &mut write)?;
    }
    report.finish();
    memo.save();
    Ok(0)
}

/// The memory of `target`'s output folder, as the environment places it, when `wanted`; else
/// none.
fn memory(target: &Target, wanted: bool) -> crate::output::memo::Memo {
    match wanted {
        true => crate::output::memo::Memo::from_env(|name| std::env::var_os(name), &target.out),
        false => crate::output::memo::Memo::off(),
    }
}

/// `render`'s first pass over one folder: found current from `memo`, or rendered (and
/// remembered) and planned; with the files' fingerprint when `fingerprinted` and the plan
/// writes them (`plan_job` verified them; a folder it finds current is neither written nor
/// verified).
fn plan_folder(
    loaded: crate::pipeline::run::Loaded,
    memo: &crate::output::memo::Memo,
    force: bool,
    fingerprinted: bool,
) -> Result<Planned> {
    let recall = Recall::of(memo, &loaded);
    // Holding the render of these very inputs (and no write's leftovers): current, without
    // rendering.
    if let Some(files) = recall.current
        && crate::output::files::temporaries(&loaded.dir).is_empty()
    {
        let line = rendered_line(&loaded.title(), &loaded.dir, [0, 0, files, 0]);
        return Ok(Planned::Remembered {
            warnings: loaded.warnings(),
            dir: loaded.dir,
            line,
        });
    }
    let r = loaded.render()?;
    recall.remember(memo, &r);
    let job = crate::output::write::Job {
        files: &r.files,
        manifest: &r.manifest,
        dir: &r.dir,
        verified: false,
    };
    let plan = crate::output::write::plan_job(&job, force)?;
    let verified =
        (fingerprinted && !plan.current).then(|| crate::pipeline::verify::fingerprint(&r.files));
    Ok(Planned::Rendered(Box::new((r, plan, verified))))
}

/// A folder as `render`'s first pass found it.
enum Planned {
    /// Holding the render of its inputs, as remembered: current, and not rendered.
    Remembered {
        dir: PathBuf,
        line: String,
        warnings: Vec<crate::error::Warning>,
    },
    /// Rendered and planned, with the fingerprint of the files when the plan writes them.
    Rendered(
        Box<(
            crate::pipeline::run::Rendered,
            crate::output::write::Plan,
            Option<[u8; 32]>,
        )>,
    ),
}

/// A profile's render as the memory knows it ([`crate::output::memo`]).
struct Recall {
    /// The digest of the render's inputs: none without a memory (or with a named file that
    /// could not be read).
    inputs: Option<String>,
    /// The digest of the manifest remembered for these inputs.
    manifest: Option<String>,
    /// How many files the folder holds, when it holds that render still.
    current: Option<usize>,
}

impl Recall {
    fn of(memo: &crate::output::memo::Memo, loaded: &crate::pipeline::run::Loaded) -> Self {
        let inputs = memo.is_on().then(|| loaded.inputs()).flatten();
        let manifest = inputs.as_ref().and_then(|i| memo.recall(&loaded.dir, i));
        let current = manifest.as_ref().and_then(|manifest| {
            crate::output::check::unchanged(&loaded.dir, manifest)
                .ok()
                .flatten()
        });
        Self {
            inputs,
            manifest,
            current,
        }
    }

    /// Remembers `r` as the render of these inputs: what it renders, whatever the folder
    /// holds, so a folder holding something else is never found current by it.
    fn remember(&self, memo: &crate::output::memo::Memo, r: &crate::pipeline::run::Rendered) {
        let Some(inputs) = &self.inputs else {
            return;
        };
        let manifest = r.manifest.with_files(&r.files).to_text();
        let manifest = crate::digest::hash(manifest.as_bytes());
        if self.manifest.as_ref() != Some(&manifest) {
            memo.remember(&r.dir, inputs, &manifest);
        }
    }
}

/// What `render` says: a line per folder, in the target's order. The first pass knows the
/// lines of the folders it found current (nothing to write); the others come as they are
/// written, each after the current folders' lines before it.
#[derive(Default)]
struct Report {
    /// Every folder in order, with its line when it is current.
    folders: Vec<(PathBuf, Option<String>)>,
    position: std::collections::HashMap<PathBuf, usize>,
    /// How many folders' lines are said (or written ones passed).
    said: usize,
}

impl Report {
    fn planned(&mut self, dir: &Path, current: Option<String>) {
        self.position.insert(dir.to_path_buf(), self.folders.len());
        self.folders.push((dir.to_path_buf(), current));
    }

    /// The folders found current.
    fn current(&self) -> std::collections::HashSet<PathBuf> {
        self.folders
            .iter()
            .filter(|(_, line)| line.is_some())
            .map(|(dir, _)| dir.clone())
            .collect()
    }

    /// Says `line` for the folder `dir`, just written.
    fn written(&mut self, dir: &Path, line: &str) {
        if let Some(&index) = self.position.get(dir) {
            self.say_current_before(index);
        }
        emit(line);
    }

    /// Says the lines of the current folders not said yet.
    fn finish(&mut self) {
        self.say_current_before(self.folders.len());
    }

    fn say_current_before(&mut self, end: usize) {
        for (_, line) in self.folders.get(self.said..end).unwrap_or_default() {
            if let Some(line) = line {
                emit(line);
            }
        }
        self.said = self.said.max(end);
    }
}

/// What `render` says about one folder it wrote.
fn written_line(r: &crate::pipeline::run::Rendered, plan: &crate::output::write::Plan) -> String {
    let counts = [&plan.create, &plan.update, &plan.unchanged, &plan.remove].map(Vec::len);
    let mut line = rendered_line(&r.manifest.profile, &r.dir, counts);
    for path in &plan.keep {
        line.push_str(&format!(
            "kept {}: no longer rendered, but edited by hand (delete it yourself)\n",
            r.dir.join(path).display()
        ));
    }
    line
}

/// `rendered `PROFILE` into DIR: ...`, with how many files were created, updated, unchanged
/// and removed.
fn rendered_line(
    profile: &str,
    dir: &Path,
    [create, update, unchanged, remove]: [usize; 4],
) -> String {
    format!(
        "rendered `{profile}` into {}: {create} created, {update} updated, {unchanged} unchanged, \
         {remove} removed\n",
        dir.display()
    )
}

fn describe_plan(plan: &crate::output::write::Plan, dir: &Path) -> String {
    let mut out = String::new();
    for (verb, paths) in [
        ("create", &plan.create),
        ("update", &plan.update),
        ("remove", &plan.remove),
        ("keep (hand-edited, no longer rendered)", &plan.keep),
    ] {
        for path in paths {
            out.push_str(&format!("{verb}: {}\n", dir.join(path).display()));
        }
    }
    for path in &plan.conflicts {
        out.push_str(&format!(
            "conflict: {} (edited by hand; render refuses it without --force)\n",
            path.display()
        ));
    }
    if out.is_empty() {
        out = format!("{}: up to date\n", dir.display());
    }
    out
}

fn check(request: &CheckRequest) -> Result<u8> {
    let result = check_folders(request);
    if request.json
        && let Err(error) = &result
    {
        // A tool reading stdout gets an answer too; the message also goes to stderr.
        emit(&json_text(&serde_json::json!({
            "in_sync": false,
            "error": error.to_string(),
        })));
    }
    result
}

fn check_folders(request: &CheckRequest) -> Result<u8> {
    let target = remembered_target(&request.target)?;
    let fix = render_command(target.selection.as_ref(), &target.out, &target.pack_dirs);
    let mut status = 0;
    let mut folders = Vec::new();
    // What is untracked is told from the render itself.
    let memo = memory(&target, !request.untracked);
    // Rendering and comparing run on every core; reporting stays in the target's order.
    let compare = |loaded| check_one(loaded, &memo, request.untracked);
    crate::pipeline::run::map_loaded(&target, compare, |checked| {
        let Checked {
            dir,
            files,
            warnings,
            drift,
            fresh,
        } = checked;
        warn(&warnings);
        if !drift.is_clean() {
            status = 1;
        }
        if request.json {
            let mut folder = crate::output::check::to_json(&drift, &dir, files);
            folder["fresh"] = fresh.into();
            folders.push(folder);
        } else if drift.is_clean() {
            emit(&format!(
                "{}: up to date ({})\n",
                dir.display(),
                crate::output::diff::count(files, "file", "files")
            ));
        } else {
            emit(&crate::output::check::report(&drift, &dir, color()));
            if !drift.untracked.is_empty() {
                emit(
                    "to remove what is untracked: delete it by hand (imggen never removes what \
                     it did not write)\n",
                );
            }
            // render refuses to overwrite a hand edit: say so here, not after one more run.
            if drift.changed.iter().any(|c| c.hand_edited) {
                emit(&format!(
                    "to bring it up to date: move the hand edits into the profile or a vendored \
                     pack, then run {fix} --force\n"
                ));
            } else if drift.render_fixes() {
                emit(&format!("to bring it up to date: {fix}\n"));
            }
        }
        Ok(())
    })?;
    memo.save();
    if request.json {
        let doc = serde_json::json!({ "in_sync": status == 0, "folders": folders, "fix": fix });
        emit(&json_text(&doc));
    }
    Ok(status)
}

/// One folder of a check: found current from `memo` (its render's inputs and the folder's hashes
/// as remembered), or rendered and compared, and then remembered when current.
fn check_one(
    loaded: crate::pipeline::run::Loaded,
    memo: &crate::output::memo::Memo,
    untracked: bool,
) -> Result<Checked> {
    let recall = Recall::of(memo, &loaded);
    if let Some(files) = recall.current {
        return Ok(Checked {
            warnings: loaded.warnings(),
            dir: loaded.dir,
            files,
            drift: crate::output::check::Drift::default(),
            fresh: true,
        });
    }
    let r = loaded.render()?;
    let mut drift = crate::output::check::compare(&r.files, &r.dir)?;
    if untracked {
        let contexts = crate::images::build::contexts(&r.files);
        drift.untracked = crate::images::build::strays(&r.dir, &r.files, &contexts);
    }
    if !drift.is_clean() {
        // Bytes the folder already holds were verified when written; new ones are now, so a
        // render that would be refused is reported as render reports it.
        crate::pipeline::verify::verify(&r.files)?;
    } else {
        recall.remember(memo, &r);
    }
    Ok(Checked {
        dir: r.dir,
        files: r.files.len(),
        warnings: r.warnings,
        drift,
        fresh: false,
    })
}

/// One folder as `check` found it.
struct Checked {
    dir: PathBuf,
    /// How many files the profile renders.
    files: usize,
    warnings: Vec<crate::error::Warning>,
    drift: crate::output::check::Drift,
    /// Found current without rendering: the render of these inputs was found here before.
    fresh: bool,
}

fn list(what: ListWhat) -> Result<u8> {
    let out = match what {
        ListWhat::Profiles => {
            let mut rows = Vec::new();
            let local = source::local_names();
            // A profile that does not load is still listed; the first such error ends the run.
            let mut failed = None;
            for name in source::known_names() {
                let description = match profile::load(&Selection::of(&name)) {
                    Ok(stack) => stack.profile.description,
                    Err(error) => {
                        failed.get_or_insert(error);
                        "(does not load; see the error below)".to_string()
                    }
                };
                // As `render -p NAME` finds it: the file in ./profiles/ wins over a built-in.
                let from = match local.contains(&name) {
                    true => source::file_for(Path::new(&name)).display().to_string(),
                    false => "built-in".to_string(),
                };
                // Names come from file names, which come with pull requests.
                rows.push([
                    crate::output::diff::printable(&name).into_owned(),
                    crate::output::diff::printable(&from).into_owned(),
                    crate::output::diff::printable(&description).into_owned(),
                ]);
            }
            let out = crate::output::diff::columns(&rows);
            if let Some(error) = failed {
                emit(&out);
                return Err(error);
            }
            out
        }
        ListWhat::Packs { pack_dirs } => {
            let dirs = crate::profile::project::Project::pack_dirs(&pack_dirs)?;
            let rows: Vec<[String; 4]> = Packs::load(&dirs)?
                .all()
                .map(|pack| {
                    let m = &pack.manifest;
                    let source = if pack.builtin { "built-in" } else { &pack.root };
                    [&m.name, &m.version, source, &m.description]
                        .map(|cell| crate::output::diff::printable(cell).into_owned())
                })
                .collect();
            crate::output::diff::columns(&rows)
        }
    };
    emit(&out);
    Ok(0)
}
