//! `imggen build`: the images a profile names, built from its rendered folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result, Warning};
use crate::images::engine::{Build, Engine, Pushed};
use crate::output::tree::Files;
use crate::profile::Profile;
use crate::registry::client::{Credentials, Login};
use crate::registry::reference::Reference;
use crate::role::Role;

/// One image to build: its folder in the output and its tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub folder: &'static str,
    pub tag: String,
}

/// The images the profile names a tag for, in table order; only `only`'s roles when given.
pub fn jobs(profile: &Profile, only: &[&'static Role]) -> Vec<Job> {
    crate::role::built()
        .filter(|role| only.is_empty() || only.iter().any(|o| std::ptr::eq(*o, *role)))
        .filter_map(|role| {
            profile.tag(role).map(|tag| Job {
                folder: role.name,
                tag: tag.to_string(),
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub job: Job,
    pub built: bool,
    /// The image was already built from this very context: the engine was not run.
    pub current: bool,
    /// `None` when not pushed.
    pub pushed: Option<Pushed>,
    pub took: Duration,
}

/// The images building `jobs` pulls and pushes, each once, by reference: the ones every job's
/// Dockerfile (in `files`) pulls, and, when pushing, the tags (`true`: pushed to).
pub fn images(files: &Files, jobs: &[Job], push: bool) -> BTreeMap<String, (Reference, bool)> {
    let mut images = BTreeMap::new();
    for job in jobs {
        for base in job_bases(files, job).unwrap_or_default() {
            images.entry(base.to_string()).or_insert((base, false));
        }
        if push {
            let tag = Reference::parse(&job.tag);
            images.entry(tag.to_string()).or_insert((tag, true)).1 = true;
        }
    }
    images
}

/// `job`'s Dockerfile as rendered (in `files`); `None` without one.
fn job_dockerfile<'a>(files: &'a Files, job: &Job) -> Option<&'a [u8]> {
    let dockerfile = files.get(&format!("{}/Dockerfile", job.folder))?;
    Some(&dockerfile.contents)
}

/// The images `job`'s Dockerfile pulls (see [`bases`]); `None` without one.
fn job_bases(files: &Files, job: &Job) -> Option<Vec<Reference>> {
    job_dockerfile(files, job).map(bases)
}

/// Whether a job's Dockerfile mounts something into a `RUN` (`--mount`: the package caches of
/// `build.cache_mounts`), which only BuildKit-era builders read.
fn needs_buildkit(files: &Files, job: &Job) -> bool {
    job_dockerfile(files, job).is_some_and(|dockerfile| {
        crate::images::dockerfile::parse(&String::from_utf8_lossy(dockerfile))
            .iter()
            .any(|i| i.keyword == "RUN" && i.flags.iter().any(|f| f.starts_with("--mount")))
    })
}

/// The images a Dockerfile pulls: the ones a stage starts `FROM` and the ones `COPY --from`
/// copies out of; not `scratch`, an earlier stage (by name or number), or one named through a
/// build argument.
fn bases(dockerfile: &[u8]) -> Vec<Reference> {
    let text = String::from_utf8_lossy(dockerfile);
    let mut stages: Vec<String> = Vec::new();
    let mut bases = Vec::new();
    let mut pulled = |image: &str, stages: &[String]| {
        let earlier = stages.iter().any(|s| s.eq_ignore_ascii_case(image))
            || image.chars().all(|c| c.is_ascii_digit());
        if !earlier && image != "scratch" && !image.contains('$') {
            bases.push(Reference::parse(image));
        }
    };
    for instruction in crate::images::dockerfile::parse(&text) {
        match instruction.keyword.as_str() {
            "FROM" => {
                let words = instruction.words();
                let Some(image) = words.first() else { continue };
                pulled(image, &stages);
                if let [_, as_, name] = words.as_slice()
                    && as_.eq_ignore_ascii_case("as")
                {
                    stages.push(name.clone());
                }
            }
            "COPY" => {
                for flag in &instruction.flags {
                    if let Some(image) = flag.strip_prefix("--from=") {
                        pulled(image, &stages);
                    }
                }
            }
            _ => {}
        }
    }
    bases
}

/// The logins imggen has for `images` (see [`images`]), by scope (a registry, or a namespace
/// in one): what an engine that runs no credential helper is handed. An image pushed to whose
/// login cannot be had is an error (the push could not work); a registry only pulled from gets
/// a warning (once), and the engine pulls from it with its own logins, as without imggen.
pub fn logins(
    credentials: &Credentials,
    images: &BTreeMap<String, (Reference, bool)>,
) -> Result<(BTreeMap<String, Login>, Vec<Warning>)> {
    let mut logins = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut warned = std::collections::BTreeSet::new();
    for (reference, pushed) in images.values() {
        match credentials.for_registry(reference) {
            Ok(Some(login)) => {
                logins.insert(login.scope.clone(), login);
            }
            Ok(None) => {}
            Err(problem) => {
                let error = Error::Registry {
                    reference: reference.to_string(),
                    problem: Box::new(problem),
                };
                if *pushed {
                    return Err(error);
                }
                if warned.insert(reference.registry.clone()) {
                    warnings.push(Warning::LoginUnavailable {
                        registry: reference.registry.clone(),
                        reason: error.to_string(),
                    });
                }
            }
        }
    }
    Ok((logins, warnings))
}

/// For an engine that reads only Docker's own login file (`docker_file`; docker, nerdctl): a
/// warning for each image pushed whose login imggen finds only in another login file, so the
/// engine pushes without it. A login imggen cannot have is left to the engine.
pub fn logins_unseen(
    credentials: &Credentials,
    images: &BTreeMap<String, (Reference, bool)>,
    engine: &'static str,
    docker_file: Option<&Path>,
) -> Vec<Warning> {
    let mut warned = std::collections::BTreeSet::new();
    let mut warnings = Vec::new();
    for (reference, _) in images.values().filter(|(_, pushed)| *pushed) {
        let Ok(Some(login)) = credentials.for_registry(reference) else {
            continue;
        };
        let Some(file) = login.file else { continue };
        if Some(file.as_path()) != docker_file && warned.insert(login.scope.clone()) {
            warnings.push(Warning::LoginNotRead {
                scope: login.scope,
                file,
                engine,
            });
        }
    }
    warnings
}

/// The logins for building `jobs` (rendered as `files`) with `engine`: an engine that runs no
/// credential helper is handed the logins imggen finds ([`logins`]), in a file of its own that
/// goes when the returned value is dropped; for one that reads only Docker's file, warnings
/// about pushes whose login it will not see ([`logins_unseen`]).
pub fn hand_logins(
    engine: &dyn Engine,
    files: &Files,
    jobs: &[Job],
    push: bool,
) -> Result<(Option<LoginFile>, Vec<Warning>)> {
    let takes_logins = engine.takes_logins();
    if !takes_logins && !push {
        return Ok((None, Vec::new()));
    }
    let images = images(files, jobs, push);
    let credentials = Credentials::from_environment()?;
    if takes_logins {
        let (logins, warnings) = logins(&credentials, &images)?;
        return Ok((LoginFile::write(&logins)?, warnings));
    }
    let docker_file = crate::registry::client::docker_config_file();
    let warnings = logins_unseen(&credentials, &images, engine.name(), docker_file.as_deref());
    Ok((None, warnings))
}

/// Logins written for an engine to read: one login file in a folder only this user can
/// enter, removed (with the folder) when this is dropped.
pub struct LoginFile {
    folder: crate::output::files::PrivateDir,
}

impl LoginFile {
    const NAME: &str = "logins.json";

    /// `logins` in a new login file; `None` when there are none.
    pub fn write(logins: &BTreeMap<String, Login>) -> Result<Option<Self>> {
        if logins.is_empty() {
            return Ok(None);
        }
        let folder = crate::output::files::private_dir("imggen-build")?;
        crate::registry::client::write_login_file(
            &folder.path().join(Self::NAME),
            logins.values(),
        )?;
        Ok(Some(Self { folder }))
    }

    pub fn path(&self) -> PathBuf {
        self.folder.path().join(Self::NAME)
    }
}

/// The build contexts in `files`: the folders of the roles whose Dockerfile was rendered.
pub fn contexts(files: &Files) -> Vec<&'static str> {
    crate::role::built()
        .map(|role| role.name)
        .filter(|folder| files.contains_key(&format!("{folder}/Dockerfile")))
        .collect()
}

/// What the build contexts `folders` (in `dir`) hold that `files` do not: a file, folder or link
/// the profile does not render, as paths relative to `dir`, in order. An engine is sent the
/// whole folder, and the output folder comes with pull requests: only what imggen rendered is
/// built from. Links are listed, never followed.
pub fn strays(dir: &Path, files: &Files, folders: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending: Vec<String> = folders.iter().map(|folder| folder.to_string()).collect();
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let relative = format!("{folder}/{}", entry.file_name().to_string_lossy());
            let kind = entry.file_type().ok();
            // A folder is expected when a rendered path lies below it: the first path from
            // `relative/` on, in order, starts with it.
            let rendered_below = || {
                let prefix = format!("{relative}/");
                files
                    .range(prefix.clone()..)
                    .next()
                    .is_some_and(|(path, _)| path.starts_with(&prefix))
            };
            let expected = match kind {
                Some(kind) if kind.is_file() => files.contains_key(&relative),
                Some(kind) if kind.is_dir() => rendered_below(),
                _ => false,
            };
            if !expected {
                found.push(relative);
            } else if kind.is_some_and(|kind| kind.is_dir()) {
                pending.push(relative);
            }
        }
    }
    found.sort();
    found
}

/// How the images are built: pushed after, with or without the last build's layers, and how
/// many side by side.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub push: bool,
    pub no_cache: bool,
    /// At most this many builds at once (`--jobs`; at least 1).
    pub jobs: usize,
}

/// The label each built image carries: the digest of what it was built from (see
/// [`context_digest`]). An image whose label matches is not built again.
pub const CONTEXT_LABEL: &str = "imggen.build.context";

/// The digest of everything a job's build reads that imggen knows of: each file of its build
/// context (as rendered, which the folder on disk is: `build` refuses a stale one), the build
/// arguments, the engine, and the ID of each image its Dockerfile pulls as the engine holds it.
/// `None` when the engine holds one of those images not: the build must run (and pull).
/// Like the engine's own layer cache, it does not see what a `RUN` fetches from the network.
fn context_digest(
    engine: &dyn Engine,
    files: &Files,
    job: &Job,
    args: &[(String, String)],
) -> Option<String> {
    let mut bytes = Vec::new();
    let mut field = |value: &[u8]| {
        bytes.extend_from_slice(&(value.len() as u64).to_le_bytes());
        bytes.extend_from_slice(value);
    };
    field(b"imggen build context 1");
    field(engine.name().as_bytes());
    let folder = format!("{}/", job.folder);
    for (path, file) in files.range(folder.clone()..) {
        let Some(inside) = path.strip_prefix(&folder) else {
            break;
        };
        field(inside.as_bytes());
        field(&[u8::from(file.executable)]);
        field(&file.contents);
    }
    for (key, value) in args {
        field(key.as_bytes());
        field(value.as_bytes());
    }
    for base in job_bases(files, job)? {
        let base = base.to_string();
        let id = engine.inspect(&base)?.id;
        field(base.as_bytes());
        field(id.as_bytes());
    }
    Some(crate::digest::hash(&bytes))
}

/// The rendered folder a build runs from: its files as rendered, and where they are on disk.
#[derive(Clone, Copy)]
pub struct Rendered<'a> {
    pub files: &'a Files,
    pub dir: &'a Path,
}

/// Builds (and pushes) every job, announcing each with a one-line header on `log`; `logins`
/// is a login file the engine is handed, when it takes one. Up to `options.jobs` build side by
/// side, each engine's output line by line after its folder's name; an image built `FROM`
/// another job's tag waits for that job. A base several jobs start from that the engine does
/// not hold is pulled once, first. The outcomes are in the jobs' order; an engine that cannot
/// be run ends the run (after the builds under way) with its error.
pub fn run(
    engine: &dyn Engine,
    rendered: Rendered<'_>,
    jobs: &[Job],
    args: &[(String, String)],
    options: Options,
    logins: Option<&Path>,
    log: &(dyn Fn(&str) + Sync),
) -> Result<Vec<Outcome>> {
    let Rendered { files, dir } = rendered;
    let workers = options.jobs.clamp(1, jobs.len().max(1));
    if workers > 1 {
        pull_shared_bases(engine, files, jobs, logins, log)?;
    }
    let width = jobs.iter().map(|j| j.folder.len()).max().unwrap_or(0);
    let builder = Builder {
        engine,
        files,
        dir,
        args,
        options: &options,
        logins,
        log,
    };
    let build = |index: usize| {
        let prefix = (workers > 1).then(|| format!("{:<width$} | ", jobs[index].folder));
        builder.one(&jobs[index], prefix.as_deref())
    };
    scheduled(workers, &needs(files, jobs), build)
        .into_iter()
        .collect()
}

/// What every job's build shares.
struct Builder<'a> {
    engine: &'a dyn Engine,
    files: &'a Files,
    dir: &'a Path,
    args: &'a [(String, String)],
    options: &'a Options,
    logins: Option<&'a Path>,
    log: &'a (dyn Fn(&str) + Sync),
}

impl Builder<'_> {
    /// One job: up to date (its image's label matches its context), or built; then pushed
    /// when asked.
    fn one(&self, job: &Job, prefix: Option<&str>) -> Result<Outcome> {
        let (engine, log) = (self.engine, self.log);
        let started = Instant::now();
        // Computed now: a base built by an earlier job has its new ID by the time this starts.
        let context = context_digest(engine, self.files, job, self.args);
        let current = !self.options.no_cache
            && context.as_ref().is_some_and(|digest| {
                engine
                    .inspect(&job.tag)
                    .is_some_and(|image| image.labels.get(CONTEXT_LABEL) == Some(digest))
            });
        let labels: Vec<(String, String)> = context
            .into_iter()
            .map(|digest| (CONTEXT_LABEL.to_string(), digest))
            .collect();
        let built = if current {
            log(&format!(
                "==> {}: {} is up to date: `{}` was built from this very context\n",
                engine.name(),
                job.folder,
                job.tag
            ));
            true
        } else {
            log(&format!(
                "==> {}: building {} as `{}`\n",
                engine.name(),
                job.folder,
                job.tag
            ));
            engine.build(&Build {
                context: &self.dir.join(job.folder),
                tag: &job.tag,
                args: self.args,
                logins: self.logins,
                no_cache: self.options.no_cache,
                labels: &labels,
                prefix,
                buildkit: needs_buildkit(self.files, job),
            })?
        };
        let pushed = if built && self.options.push {
            log(&format!("==> {}: pushing `{}`\n", engine.name(), job.tag));
            Some(engine.push(&job.tag, self.logins)?)
        } else {
            None
        };
        Ok(Outcome {
            job: job.clone(),
            built,
            current,
            pushed,
            took: started.elapsed(),
        })
    }
}

/// Runs `work` for every job on up to `workers` threads, a job starting once the jobs it
/// `needs` are done, and none once one failed; the results in the jobs' order.
fn scheduled<T: Send>(
    workers: usize,
    needs: &[Vec<usize>],
    work: impl Fn(usize) -> Result<T> + Sync,
) -> Vec<Result<T>> {
    let schedule = std::sync::Mutex::new(Schedule {
        states: vec![State::Waiting; needs.len()],
        results: needs.iter().map(|_| None).collect(),
    });
    let changed = std::sync::Condvar::new();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut guard = schedule.lock().expect("the schedule");
                loop {
                    let Some(index) = guard.next(needs) else {
                        if guard.states.contains(&State::Running) {
                            guard = changed.wait(guard).expect("the schedule");
                            continue;
                        }
                        break;
                    };
                    guard.states[index] = State::Running;
                    drop(guard);
                    let result = work(index);
                    guard = schedule.lock().expect("the schedule");
                    guard.states[index] = State::Done;
                    guard.results[index] = Some(result);
                    changed.notify_all();
                }
            });
        }
    });
    let schedule = schedule.into_inner().expect("the schedule");
    schedule.results.into_iter().flatten().collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Running,
    Done,
}

/// Which jobs are waiting, building and done, and what the done ones gave.
struct Schedule<T> {
    states: Vec<State>,
    results: Vec<Option<Result<T>>>,
}

impl<T> Schedule<T> {
    /// The first waiting job whose needs are done; `None` when there is none, or once a job
    /// failed to run (the ones under way finish, no other starts). A circle of needs that
    /// would wait forever is broken at its first job.
    fn next(&self, needs: &[Vec<usize>]) -> Option<usize> {
        if self.results.iter().flatten().any(Result::is_err) {
            return None;
        }
        let waiting = |i: &usize| self.states[*i] == State::Waiting;
        let ready = (0..self.states.len())
            .filter(waiting)
            .find(|&i| needs[i].iter().all(|&n| self.states[n] == State::Done));
        let stuck = !self.states.contains(&State::Running);
        ready.or_else(|| {
            stuck
                .then(|| (0..self.states.len()).find(waiting))
                .flatten()
        })
    }
}

/// What each job waits for, by index into `jobs`: the jobs whose tags its Dockerfile starts
/// `FROM` (or copies from), so an image built on another is built after it; and an earlier
/// job whose Dockerfile starts `FROM` the same base, so that it finds that job's first layers in
/// the cache (buildah's cache, with two such builds at once, keeps two chains of the same steps,
/// and the next build misses where they part).
fn needs(files: &Files, jobs: &[Job]) -> Vec<Vec<usize>> {
    let bases: Vec<Vec<String>> = jobs
        .iter()
        .map(|job| {
            let bases = job_bases(files, job).unwrap_or_default();
            bases.iter().map(Reference::to_string).collect()
        })
        .collect();
    (0..jobs.len())
        .map(|i| {
            (0..jobs.len())
                .filter(|&j| j != i)
                .filter(|&j| {
                    let built_on = bases[i].contains(&Reference::parse(&jobs[j].tag).to_string());
                    let same_start =
                        j < i && !bases[i].is_empty() && bases[i].first() == bases[j].first();
                    built_on || same_start
                })
                .collect()
        })
        .collect()
}

/// Before builds run side by side: each base two or more of them start from, when the engine
/// does not hold it, pulled once (rather than by every build at once). A failed pull is left
/// for the builds to report.
fn pull_shared_bases(
    engine: &dyn Engine,
    files: &Files,
    jobs: &[Job],
    logins: Option<&Path>,
    log: &(dyn Fn(&str) + Sync),
) -> Result<()> {
    let mut users: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for job in jobs {
        let mut seen = Vec::new();
        for base in job_bases(files, job).unwrap_or_default() {
            let base = base.to_string();
            if !seen.contains(&base) {
                users.entry(base.clone()).or_default().push(job.folder);
                seen.push(base);
            }
        }
    }
    for (base, folders) in users {
        let built_here = jobs
            .iter()
            .any(|j| Reference::parse(&j.tag).to_string() == base);
        if folders.len() < 2 || built_here || engine.has(&base) {
            continue;
        }
        log(&format!(
            "==> {}: pulling `{base}` once, for {}\n",
            engine.name(),
            folders.join(", ")
        ));
        engine.pull(&base, logins)?;
    }
    Ok(())
}

impl Outcome {
    /// Whether everything asked of this image worked.
    pub fn ok(&self) -> bool {
        self.built && self.pushed.as_ref().is_none_or(|p| p.ok)
    }

    /// The digest the registry stored, when pushed.
    pub fn digest(&self) -> Option<&str> {
        self.pushed.as_ref().and_then(|p| p.digest.as_deref())
    }
}

/// The closing table: image, tag, result, duration; then each pushed image by digest.
pub fn table(outcomes: &[Outcome]) -> String {
    let mut out = format!(
        "{:<16} {:<56} {:<14} {:>8}\n",
        "image", "tag", "result", "seconds"
    );
    for o in outcomes {
        let result = match (o.built, &o.pushed) {
            (true, None) if o.current => "up to date",
            (false, _) => "FAILED",
            (true, Some(Pushed { ok: false, .. })) => "built, push FAILED",
            (true, Some(Pushed { ok: true, .. })) => "built, pushed",
            (true, None) => "built",
        };
        out.push_str(&format!(
            "{:<16} {:<56} {:<14} {:>8.1}\n",
            o.job.folder,
            o.job.tag,
            result,
            o.took.as_secs_f64()
        ));
    }
    for o in outcomes {
        if let Some(digest) = o.digest() {
            out.push_str(&format!("pushed {}@{digest}\n", o.job.tag));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::engine::Inspected;
    use crate::profile::{Selection, load};

    /// Records what it was asked to do; fails the builds it is told to.
    #[derive(Default)]
    struct Fake {
        calls: std::sync::Mutex<Vec<String>>,
        fail: Vec<&'static str>,
        /// Images its storage holds (besides the ones it built).
        holds: Vec<&'static str>,
        /// What it built: tag → labels.
        built: std::sync::Mutex<BTreeMap<String, Vec<(String, String)>>>,
        /// How long each build takes, and how many ran at once (now, and at most).
        delay: Duration,
        active: std::sync::atomic::AtomicUsize,
        most: std::sync::atomic::AtomicUsize,
    }

    impl Fake {
        fn record(&self, call: String) {
            self.calls.lock().expect("the calls").push(call);
        }
        fn calls(&self) -> Vec<String> {
            self.calls.lock().expect("the calls").clone()
        }
    }

    impl Engine for Fake {
        fn name(&self) -> &'static str {
            "fake"
        }

        fn takes_logins(&self) -> bool {
            true
        }

        fn build(&self, build: &Build<'_>) -> Result<bool> {
            use std::sync::atomic::Ordering;
            let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(self.delay);
            self.active.fetch_sub(1, Ordering::SeqCst);
            let args: Vec<String> = build.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
            self.record(format!(
                "build {} {} [{}]{}{}",
                build.context.display(),
                build.tag,
                args.join(" "),
                shown(build.logins),
                build
                    .prefix
                    .map_or(String::new(), |p| format!(" prefix={p:?}"))
            ));
            let ok = !self.fail.iter().any(|f| build.context.ends_with(f));
            if ok {
                let mut built = self.built.lock().expect("the images");
                built.insert(build.tag.to_string(), build.labels.to_vec());
            }
            Ok(ok)
        }

        fn push(&self, tag: &str, logins: Option<&Path>) -> Result<Pushed> {
            self.record(format!("push {tag}{}", shown(logins)));
            Ok(Pushed {
                ok: true,
                digest: Some(format!("sha256:{}", "e".repeat(64))),
            })
        }

        fn inspect(&self, image: &str) -> Option<Inspected> {
            let built = self.built.lock().expect("the images");
            match built.get(image) {
                Some(labels) => Some(Inspected {
                    id: format!("id of {image}"),
                    labels: labels.iter().cloned().collect(),
                }),
                None => self.holds.contains(&image).then(|| Inspected {
                    id: format!("id of {image}"),
                    labels: BTreeMap::new(),
                }),
            }
        }

        fn pull(&self, image: &str, logins: Option<&Path>) -> Result<bool> {
            self.record(format!("pull {image}{}", shown(logins)));
            Ok(true)
        }
    }

    fn shown(logins: Option<&Path>) -> String {
        logins.map_or_else(String::new, |l| format!(" logins={}", l.display()))
    }

    fn profile(name: &str, sets: &[&str]) -> Profile {
        let selection = Selection {
            profiles: vec![name.into()],
            sets: sets.iter().map(|s| s.to_string()).collect(),
        };
        load(&selection).expect("loads").profile
    }

    #[test]
    fn builds_only_the_images_the_profile_names_tags_for() {
        assert!(jobs(&profile("alpine-layered", &[]), &[]).is_empty());
        let folders: Vec<&str> = jobs(&profile("corporate-hardened", &[]), &[])
            .iter()
            .map(|j| j.folder)
            .collect();
        assert_eq!(
            folders,
            [
                "python-runtime",
                "kerberos-test",
                "postgres",
                "openmetadata-server",
                "opensearch",
                "alpine",
                "postgres-test",
                "sqlcmd-test",
                "pagila-test",
                "mockserver",
                "astronomer"
            ]
        );
        let only = jobs(
            &profile("corporate-hardened", &[]),
            &[crate::role::find("postgres").expect("a role")],
        );
        assert_eq!(
            only,
            [Job {
                folder: "postgres",
                tag: "registry.corp.example/platform/postgres:17.5-hardened".into()
            }]
        );
    }

    #[test]
    fn passes_proxies_as_build_args_and_pushes_what_built() {
        let p = profile(
            "debian-prebuilt",
            &["corporate.https_proxy=http://proxy:3128"],
        );
        let engine = Fake {
            fail: vec!["kerberos-test"],
            ..Fake::default()
        };
        let log = std::sync::Mutex::new(String::new());
        let outcomes = run(
            &engine,
            Rendered {
                files: &Files::new(),
                dir: Path::new("out"),
            },
            &jobs(&p, &[]),
            &crate::pipeline::resolve::build_args(&p),
            Options {
                push: true,
                no_cache: false,
                jobs: 1,
            },
            Some(Path::new("/run/logins.json")),
            &|l| log.lock().expect("the log").push_str(l),
        )
        .expect("runs");
        let log = log.into_inner().expect("the log");
        assert_eq!(
            engine.calls(),
            [
                "build out/python-runtime platform/python:3.11-bookworm-prebuilt [https_proxy=http://proxy:3128] logins=/run/logins.json",
                "push platform/python:3.11-bookworm-prebuilt logins=/run/logins.json",
                "build out/kerberos-test platform/kerberos-test:3.11-bookworm-prebuilt [https_proxy=http://proxy:3128] logins=/run/logins.json",
            ]
        );
        assert!(log.starts_with(
            "==> fake: building python-runtime as `platform/python:3.11-bookworm-prebuilt`\n"
        ));
        let table = table(&outcomes);
        assert!(table.contains("built, pushed"), "{table}");
        assert!(table.contains("FAILED"), "{table}");
        assert!(
            table.ends_with(&format!(
                "\npushed platform/python:3.11-bookworm-prebuilt@sha256:{}\n",
                "e".repeat(64)
            )),
            "{table}"
        );
    }

    fn rendered(dockerfiles: &[(&str, &str)]) -> Files {
        dockerfiles
            .iter()
            .map(|(folder, text)| {
                let file = crate::output::tree::File {
                    contents: text.as_bytes().to_vec(),
                    pack: folder.to_string(),
                    executable: false,
                };
                (format!("{folder}/Dockerfile"), file)
            })
            .collect()
    }

    fn out(files: &Files) -> Rendered<'_> {
        Rendered {
            files,
            dir: Path::new("out"),
        }
    }

    fn job(folder: &'static str, tag: &str) -> Job {
        Job {
            folder,
            tag: tag.into(),
        }
    }

    #[test]
    fn strays_are_what_a_context_holds_beyond_the_render_at_any_depth() {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path();
        let mut files = rendered(&[("postgres", "FROM postgres:17\n")]);
        let cert = files["postgres/Dockerfile"].clone();
        files.insert("postgres/certs/ca.crt".into(), cert);
        for path in [
            "postgres/Dockerfile",
            "postgres/certs/ca.crt",
            "postgres/certs/extra.crt",
            "postgres/cert/ca.crt",
            "postgres/Dockerfile.orig",
            "python-runtime/anything",
            "notes.txt",
        ] {
            let path = out.join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("folders");
            std::fs::write(&path, "x").expect("write");
        }
        std::fs::create_dir(out.join("postgres/empty")).expect("folder");
        let found = strays(out, &files, &["postgres"]);
        let expected = [
            "postgres/Dockerfile.orig",
            "postgres/cert",
            "postgres/certs/extra.crt",
            "postgres/empty",
        ];
        // Only the contexts of the jobs are listed: not another role's folder, not the root.
        assert_eq!(found, expected);
        assert!(strays(out, &files, &[]).is_empty());
        assert_eq!(contexts(&files), ["postgres"]);
    }

    #[test]
    fn the_images_a_build_pulls_and_pushes_are_its_bases_and_tags() {
        let files = rendered(&[
            (
                "python-runtime",
                "# syntax=docker/dockerfile:1\nFROM --platform=linux/amd64 pull.example/py:3 AS tools\n\
                 FROM tools\nFROM scratch\nARG BASE=x\nFROM $BASE\nFROM docker.io/library/debian:12 as Deb\nFROM deb\n\
                 COPY --from=tools /a /a\nCOPY --from=0 /b /b\nCOPY --from=copy.example/tool:1 /c /c\n",
            ),
            ("postgres", "FROM pull.example/pg:17@sha256:abc\n"),
        ]);
        let from = |folder: &str| -> Vec<String> {
            bases(&files[&format!("{folder}/Dockerfile")].contents)
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        // Not an earlier stage (by name without case, or number), `scratch`, or a build argument.
        assert_eq!(
            from("python-runtime"),
            [
                "pull.example/py:3",
                "docker.io/library/debian:12",
                "copy.example/tool:1"
            ]
        );
        let two = [
            job("python-runtime", "push.example:5000/platform/python:1"),
            job("postgres", "pull.example/platform/postgres:1"),
        ];
        let shown = |push| -> Vec<(String, bool)> {
            images(&files, &two, push)
                .into_iter()
                .map(|(image, (_, pushed))| (image, pushed))
                .collect()
        };
        let pulled = [
            ("copy.example/tool:1".to_string(), false),
            ("docker.io/library/debian:12".into(), false),
            ("pull.example/pg:17@sha256:abc".into(), false),
            ("pull.example/py:3".into(), false),
        ];
        assert_eq!(shown(false), pulled);
        let mut all = pulled.to_vec();
        all.push(("pull.example/platform/postgres:1".into(), true));
        all.push(("push.example:5000/platform/python:1".into(), true));
        all.sort();
        assert_eq!(shown(true), all);
        // The built-in profiles: every image's base, from the corporate registry.
        let r = crate::pipeline::run::render_one(
            &Selection::of("corporate-hardened"),
            Path::new("unused"),
            &[],
        )
        .expect("renders");
        let registries: std::collections::BTreeSet<String> =
            images(&r.files, &jobs(&r.profile, &[]), false)
                .into_values()
                .map(|(reference, _)| reference.registry)
                .collect();
        assert_eq!(
            registries.into_iter().collect::<Vec<_>>(),
            ["registry.corp.example"]
        );
    }

    #[test]
    fn logins_for_a_build_warn_for_a_base_registry_and_fail_for_the_push_registry() {
        let helpers = tempfile::tempdir().expect("temp dir");
        let config = r#"{"auths": {"push.example:5000": {"auth": "dTpw"}},
            "credHelpers": {"pull.example": "imggen-test-absent"}}"#;
        let credentials = Credentials::parse(config.as_bytes())
            .expect("parses")
            .with_helper_dir(helpers.path());
        let files = rendered(&[("python-runtime", "FROM pull.example/py:3\n")]);
        let pulling = [job("python-runtime", "push.example:5000/platform/python:1")];
        let (found, warnings) =
            logins(&credentials, &images(&files, &pulling, true)).expect("only warns");
        assert_eq!(found.keys().collect::<Vec<_>>(), ["push.example:5000"]);
        assert_eq!(found["push.example:5000"].user, "u");
        let [warning] = warnings.as_slice() else {
            panic!("{warnings:?}")
        };
        let shown = warning.to_string();
        assert!(
            shown.starts_with("warning: no login for pull.example handed to the engine")
                && shown.contains("docker-credential-imggen-test-absent"),
            "{shown}"
        );
        let pushing = [job("python-runtime", "pull.example/platform/python:1")];
        let error = logins(&credentials, &images(&files, &pushing, true))
            .expect_err("the push could not log in");
        assert!(
            error
                .to_string()
                .contains("docker-credential-imggen-test-absent"),
            "{error}"
        );
    }

    #[test]
    fn docker_is_warned_of_a_push_login_only_another_login_file_holds() {
        let dir = tempfile::tempdir().expect("temp dir");
        let auth = |registry: &str| format!(r#"{{"auths":{{"{registry}":{{"auth":"dTpw"}}}}}}"#);
        let containers = dir.path().join("auth.json");
        let docker = dir.path().join("config.json");
        std::fs::write(&containers, auth("podman.example")).expect("writes");
        std::fs::write(&docker, auth("docker.example")).expect("writes");
        let credentials =
            Credentials::from_files(vec![containers.clone(), docker.clone()]).expect("reads");
        let files = rendered(&[
            ("python-runtime", "FROM podman.example/base:1\n"),
            ("postgres", "FROM podman.example/base:1\n"),
            ("other", "FROM podman.example/base:1\n"),
        ]);
        let jobs = [
            job("python-runtime", "podman.example/platform/python:1"),
            job("postgres", "docker.example/platform/postgres:1"),
            job("other", "nologin.example/platform/other:1"),
        ];
        let warnings = logins_unseen(
            &credentials,
            &images(&files, &jobs, true),
            "docker",
            Some(&docker),
        );
        let shown: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [format!(
                "warning: the login for podman.example is in {}, which docker does not read, so \
                 the push may be refused; run `docker login podman.example`, or build with \
                 `--engine podman` or `--engine buildah`, which are handed the logins imggen finds",
                containers.display()
            )]
        );
        // Were the containers file docker's own, only docker.example's login would be elsewhere.
        let other = logins_unseen(
            &credentials,
            &images(&files, &jobs, true),
            "docker",
            Some(&containers),
        );
        assert_eq!(other.len(), 1, "{other:?}");
        assert!(other[0].to_string().contains("docker.example"), "{other:?}");
    }

    #[test]
    fn the_login_file_holds_the_logins_only_this_user_reads_and_goes_when_dropped() {
        assert!(
            LoginFile::write(&BTreeMap::new())
                .expect("nothing to write")
                .is_none()
        );
        let login = |scope: &str, user: &str| Login {
            scope: scope.into(),
            user: user.into(),
            password: "p:w".into(),
            helper: Some("store".into()),
            file: None,
        };
        let logins = BTreeMap::from([
            ("reg.example".to_string(), login("reg.example", "everyone")),
            (
                "reg.example/team".to_string(),
                login("reg.example/team", "team"),
            ),
        ]);
        let file = LoginFile::write(&logins).expect("writes").expect("a file");
        let path = file.path();
        let text = std::fs::read_to_string(&path).expect("reads");
        let read = Credentials::parse(text.as_bytes()).expect("a login file");
        let user = |image: &str| {
            let found = read
                .for_registry(&Reference::parse(image))
                .expect("no helper")
                .expect("a login");
            assert_eq!(found.password, "p:w");
            found.user
        };
        // Each image gets the login of its namespace, as the engine will read the file.
        assert_eq!(user("reg.example/team/x:1"), "team");
        assert_eq!(user("reg.example/other/x:1"), "everyone");
        #[cfg(unix)]
        assert_eq!(crate::output::files::mode_of(&path), Some(0o600));
        drop(file);
        assert!(!path.exists() && !path.parent().expect("a folder").exists());
    }

    /// Builds side by side: every line of each after its folder's name, a base two of them
    /// start from pulled once before (one only one uses is left to its build), the outcomes
    /// in the jobs' order, and the builds do run at once.
    #[test]
    fn side_by_side_builds_prefix_their_output_and_pull_a_shared_base_once() {
        let files = rendered(&[
            ("python-runtime", "FROM python:3.11-slim-bookworm\n"),
            ("kerberos-test", "FROM python:3.11-slim-bookworm\n"),
            ("postgres", "FROM postgres:17.5-bookworm\n"),
        ]);
        let jobs = [
            job("python-runtime", "org/python:1"),
            job("kerberos-test", "org/kerberos:1"),
            job("postgres", "org/postgres:1"),
        ];
        let engine = Fake {
            delay: Duration::from_millis(200),
            ..Fake::default()
        };
        let options = Options {
            push: false,
            no_cache: false,
            jobs: 8,
        };
        let outcomes = run(&engine, out(&files), &jobs, &[], options, None, &|_| {}).expect("runs");
        let calls = engine.calls();
        assert_eq!(
            calls[0], "pull docker.io/library/python:3.11-slim-bookworm",
            "the shared base first, once: {calls:?}"
        );
        let mut builds = calls[1..].to_vec();
        builds.sort();
        assert_eq!(
            builds,
            [
                "build out/kerberos-test org/kerberos:1 [] prefix=\"kerberos-test  | \"",
                "build out/postgres org/postgres:1 [] prefix=\"postgres       | \"",
                "build out/python-runtime org/python:1 [] prefix=\"python-runtime | \"",
            ]
        );
        let folders: Vec<&str> = outcomes.iter().map(|o| o.job.folder).collect();
        assert_eq!(folders, ["python-runtime", "kerberos-test", "postgres"]);
        assert!(
            engine.most.load(std::sync::atomic::Ordering::SeqCst) >= 2,
            "builds ran side by side"
        );
        // One at a time: no prefix (the terminal is the engine's), nothing pulled first.
        let engine = Fake::default();
        let one = Options { jobs: 1, ..options };
        run(&engine, out(&files), &jobs, &[], one, None, &|_| {}).expect("runs");
        assert_eq!(
            engine.calls(),
            [
                "build out/python-runtime org/python:1 []",
                "build out/kerberos-test org/kerberos:1 []",
                "build out/postgres org/postgres:1 []",
            ]
        );
        // A shared base the engine holds is not pulled.
        let engine = Fake {
            holds: vec!["docker.io/library/python:3.11-slim-bookworm"],
            ..Fake::default()
        };
        run(&engine, out(&files), &jobs, &[], options, None, &|_| {}).expect("runs");
        assert!(engine.calls().iter().all(|c| c.starts_with("build ")));
    }

    /// An image built `FROM` another job's tag is built after it; independent ones together.
    #[test]
    fn an_image_built_from_another_jobs_image_waits_for_it() {
        let files = rendered(&[
            ("python-runtime", "FROM python:3.11-slim-bookworm\n"),
            ("kerberos-test", "FROM org/python:1 AS base\nFROM base\n"),
            ("postgres", "FROM postgres:17.5-bookworm\n"),
        ]);
        let jobs = [
            job("python-runtime", "org/python:1"),
            job("kerberos-test", "org/kerberos:1"),
            job("postgres", "org/postgres:1"),
        ];
        assert_eq!(needs(&files, &jobs), [vec![], vec![0], vec![]]);
        // Two that start from each other cannot be ordered: the first of them goes first.
        let circle = rendered(&[
            ("python-runtime", "FROM org/kerberos:1\n"),
            ("kerberos-test", "FROM org/python:1\n"),
        ]);
        let circular = needs(&circle, &jobs[..2]);
        assert_eq!(circular, [vec![1], vec![0]]);
        let schedule = Schedule::<()> {
            states: vec![State::Waiting; 2],
            results: vec![None, None],
        };
        assert_eq!(schedule.next(&circular), Some(0));
        // Two that start from the same base: the later waits for the earlier's layers.
        let shared = rendered(&[
            ("python-runtime", "FROM python:3.11-slim-bookworm\nRUN a\n"),
            ("kerberos-test", "FROM python:3.11-slim-bookworm\nRUN b\n"),
            ("postgres", "FROM postgres:17.5-bookworm\n"),
        ]);
        assert_eq!(needs(&shared, &jobs), [vec![], vec![0], vec![]]);
    }

    /// Work that needs another job's starts after it is done; the results keep the jobs'
    /// order whatever the finishing order; after a failure no job starts.
    #[test]
    fn scheduled_work_waits_for_what_it_needs_and_stops_after_a_failure() {
        let done = std::sync::Mutex::new(Vec::new());
        let results = scheduled(2, &[vec![], vec![0], vec![]], |index| {
            if index == 1 {
                assert!(done.lock().expect("done").contains(&0), "1 needs 0");
            }
            std::thread::sleep(std::time::Duration::from_millis(20 * (3 - index as u64)));
            done.lock().expect("done").push(index);
            Ok(index)
        });
        let indexes: Vec<usize> = results.into_iter().map(|r| r.expect("built")).collect();
        assert_eq!(indexes, [0, 1, 2]);
        let failed = scheduled(1, &[vec![], vec![], vec![]], |index| match index {
            0 => Err(Error::NoEnvRendered),
            _ => Ok(index),
        });
        assert_eq!(failed.len(), 1, "nothing started after the failure");
    }

    /// An image built from this very context (its label says so, and its bases are the ones
    /// the engine holds) is not built again; a changed file, a base with a new ID, or
    /// `--no-cache` builds it.
    #[test]
    fn an_image_built_from_the_same_context_is_up_to_date_and_not_built_again() {
        let files = rendered(&[("postgres", "FROM postgres:17.5-bookworm\nRUN a\n")]);
        let jobs = [job("postgres", "org/postgres:1")];
        let engine = Fake {
            holds: vec!["docker.io/library/postgres:17.5-bookworm"],
            ..Fake::default()
        };
        let options = Options {
            push: false,
            no_cache: false,
            jobs: 1,
        };
        let build = |files: &Files, options| {
            run(&engine, out(files), &jobs, &[], options, None, &|_| {}).expect("runs")
        };
        assert!(!build(&files, options)[0].current);
        let again = build(&files, options);
        assert!(again[0].current && again[0].ok(), "{again:?}");
        assert!(table(&again).contains("up to date"));
        assert_eq!(engine.calls().len(), 1, "built once: {:?}", engine.calls());
        let changed = rendered(&[("postgres", "FROM postgres:17.5-bookworm\nRUN b\n")]);
        assert!(!build(&changed, options)[0].current);
        let forced = Options {
            no_cache: true,
            ..options
        };
        assert!(!build(&changed, forced)[0].current);
        assert_eq!(engine.calls().len(), 3, "{:?}", engine.calls());
        // A base the engine does not hold: no digest, so the build runs (and pulls it).
        let elsewhere = rendered(&[("postgres", "FROM mirror.example/pg:17\nRUN b\n")]);
        assert!(!build(&elsewhere, options)[0].current);
        assert!(!build(&elsewhere, options)[0].current);
    }
}
