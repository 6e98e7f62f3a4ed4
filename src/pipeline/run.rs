//! The pipeline, once: profile files → resolved profile → packs → rendered files in memory,
//! checked in memory. Every command, the benchmark harness and the property tests go through
//! here; what happens to the files afterwards (compare or write) is the caller's.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::error::{Result, Warning};
use crate::output::manifest::Manifest;
use crate::output::tree::Files;
use crate::pipeline::pack::Packs;
use crate::pipeline::resolve::NamedFiles;
use crate::profile::{self, Selection, source};
use crate::registry::lock::Lockfile;

/// The output folder when none is given; `lint` and `test` read what it was rendered from.
pub const DEFAULT_OUT: &str = "generated";

/// What to render and where: one selection into `out`, or (`None`) every known profile
/// into `out/<profile>/`.
pub struct Target {
    pub selection: Option<Selection>,
    pub out: PathBuf,
    /// Folders of packs on disk, ahead of the built-in ones.
    pub pack_dirs: Vec<PathBuf>,
}

/// A loaded profile through the rest of the pipeline without a lockfile: resolve, render with
/// `packs`, verify the rendered files in memory.
pub fn render(packs: &Packs, stack: &profile::Stack) -> Result<Files> {
    let (files, _) = render_warned(packs, stack, &Lockfile::default())?;
    crate::pipeline::verify::verify(&files)?;
    Ok(files)
}

/// [`render`] with `lock`'s pins, and the warnings the profile earned (printed by the command,
/// never written). The files are not verified yet: whatever writes them verifies them first
/// (`write::plan`, `write::execute_all`), and `check` does when they differ from the folder.
pub fn render_warned(
    packs: &Packs,
    stack: &profile::Stack,
    lock: &Lockfile,
) -> Result<(Files, Vec<Warning>)> {
    let named = crate::pipeline::resolve::named_files(stack);
    render_named(packs, stack, lock, named)
}

/// [`render_warned`] with the files the profile names already read.
fn render_named(
    packs: &Packs,
    stack: &profile::Stack,
    lock: &Lockfile,
    named: Result<NamedFiles>,
) -> Result<(Files, Vec<Warning>)> {
    let resolved = crate::pipeline::resolve::resolve_named(stack, lock, named)?;
    crate::pipeline::render::render(packs, resolved)
}

/// Packs loaded once per distinct list of pack folders (the command line's plus a profile's).
/// Shared by the threads of `check --all` and `render --all`.
pub struct PackCache {
    command_line: Vec<PathBuf>,
    /// The command line's folders, then the project file's (read on first use).
    with_project: Mutex<Option<Vec<PathBuf>>>,
    loaded: Mutex<BTreeMap<Vec<PathBuf>, Arc<Packs>>>,
    /// The project's lockfile (read on first use), and the digest of what it holds.
    lock: Mutex<Option<(Arc<Lockfile>, Arc<str>)>>,
}

impl PackCache {
    pub fn new(command_line: &[PathBuf]) -> Self {
        Self {
            command_line: command_line.to_vec(),
            with_project: Mutex::new(None),
            loaded: Mutex::new(BTreeMap::new()),
            lock: Mutex::new(None),
        }
    }

    /// The project's lockfile, read once.
    pub fn lock(&self) -> Result<Arc<Lockfile>> {
        Ok(self.lock_and_digest()?.0)
    }

    /// The project's lockfile and the digest of all a render takes from it (its pins: what it
    /// holds as imggen reads it, comments and order aside).
    fn lock_and_digest(&self) -> Result<(Arc<Lockfile>, Arc<str>)> {
        let mut lock = lock(&self.lock);
        if let Some(read) = lock.as_ref() {
            return Ok(read.clone());
        }
        let read = Lockfile::load()?;
        let mut digest = crate::digest::Fields::new("imggen lockfile");
        digest.add(format!("{read:?}"));
        let read = (Arc::new(read), Arc::from(digest.finish()));
        *lock = Some(read.clone());
        Ok(read)
    }

    /// The packs for `stack`: the command line's folders, the project file's, then the
    /// profile's `pack_dirs`.
    pub fn for_stack(&self, stack: &profile::Stack) -> Result<Arc<Packs>> {
        let mut dirs = {
            let mut with_project = lock(&self.with_project);
            if with_project.is_none() {
                *with_project = Some(crate::profile::project::Project::pack_dirs(
                    &self.command_line,
                )?);
            }
            with_project.clone().unwrap_or_default()
        };
        for dir in &stack.profile.pack_dirs {
            let key = ["pack_dirs"];
            let path = stack.layers.resolve_path(&key, dir).0;
            let origin = stack.layers.origin(&key);
            let profile_dir =
                origin.map_or_else(|| PathBuf::from("."), |o| o.base_dir().to_path_buf());
            // A profile's pack folder is code it runs: only from inside its project.
            crate::output::confine::dir(&path, &profile_dir).map_err(|reason| {
                crate::error::Error::ProfileFile {
                    location: stack.layers.label(&key),
                    key: key.join("."),
                    path: path.clone(),
                    reason: Box::new(reason),
                }
            })?;
            dirs.push(path);
        }
        if dirs.is_empty() {
            return Packs::builtin();
        }
        let mut loaded = lock(&self.loaded);
        if let Some(packs) = loaded.get(&dirs) {
            return Ok(packs.clone());
        }
        let packs = Arc::new(Packs::load(&dirs)?);
        loaded.insert(dirs, packs.clone());
        Ok(packs)
    }

    /// The pipeline for one selection: load, resolve, render with its packs. In memory only.
    pub fn render(&self, selection: &Selection) -> Result<(profile::Stack, Files, Vec<Warning>)> {
        let stack = profile::load(selection)?;
        let (files, warnings) =
            render_warned(self.for_stack(&stack)?.as_ref(), &stack, &*self.lock()?)?;
        Ok((stack, files, warnings))
    }
}

/// A poisoned lock only means another thread panicked; the data is still whole.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One rendered profile, ready to compare or write.
pub struct Rendered {
    pub dir: PathBuf,
    pub files: Files,
    pub manifest: Manifest,
    /// The resolved profile it was rendered from (what `build` builds).
    pub profile: profile::Profile,
    pub warnings: Vec<Warning>,
    /// The lockfile it was rendered with.
    pub lock: Arc<Lockfile>,
}

/// One selection rendered in memory, to be written into `out` (what `build` and `apply` use).
pub fn render_one(
    selection: &Selection,
    out: &std::path::Path,
    pack_dirs: &[PathBuf],
) -> Result<Rendered> {
    let target = Target {
        selection: Some(selection.clone()),
        out: out.to_path_buf(),
        pack_dirs: pack_dirs.to_vec(),
    };
    let mut rendered = None;
    for_each_rendered(&target, |r| {
        rendered = Some(r);
        Ok(())
    })?;
    Ok(rendered.expect("one selection renders one folder"))
}

/// How many profiles are rendered at once by [`for_each_rendered`], and written at once by
/// `render --all` (their flushes to disk shared): enough to keep every core busy and to make
/// few flushes, few enough that memory stays flat however many profiles there are.
const CHUNK: usize = 256;

/// Files a process keeps open beside the folder locks of a chunk being written: the standard
/// streams, and on each core the file being staged or read and the folder being listed.
const FILES_SPARE: u64 = 32;

/// The chunk for `jobs` profiles: [`CHUNK`] (or all of them, when fewer), or fewer still when
/// the open-file limit could not hold a lock on every folder of a chunk (macOS starts processes
/// with 256): the soft limit is first raised towards the hard one, as far as a chunk needs.
fn chunk_size(jobs: usize) -> usize {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let chunk = jobs.clamp(1, CHUNK) as u64;
    let wanted = chunk + FILES_SPARE;
    let limit = getrlimit(Resource::Nofile);
    let soft = match limit.current {
        Some(soft) if soft < wanted => {
            let raised = limit.maximum.map_or(wanted, |hard| hard.min(wanted));
            let new = Rlimit {
                current: Some(raised),
                ..limit
            };
            if raised > soft && setrlimit(Resource::Nofile, new).is_ok() {
                raised
            } else {
                soft
            }
        }
        _ => wanted,
    };
    usize::try_from(soft.saturating_sub(FILES_SPARE).clamp(1, chunk)).unwrap_or(1)
}

/// Renders the target in memory, handing each profile to `each` in order: nothing is written
/// here. `render` collects them all before writing; `check` compares each as it comes.
pub fn for_each_rendered(target: &Target, each: impl FnMut(Rendered) -> Result<()>) -> Result<()> {
    map_rendered(target, Ok, each)
}

/// Renders the target's profiles in parallel, a chunk at a time, runs `work` on each render on
/// the same threads, and hands the results to `each` in the target's order; the first error in
/// that order is the one returned. Output therefore does not depend on the number of cores.
pub fn map_rendered<T: Send>(
    target: &Target,
    work: impl Fn(Rendered) -> Result<T> + Sync,
    each: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    let jobs = target.jobs();
    map_jobs(target, &jobs.iter().collect::<Vec<_>>(), work, each)
}

/// [`map_rendered`], but `work` is given each profile loaded and not yet rendered: with the
/// digest of its render's inputs, it may know the render's result without rendering.
pub fn map_loaded<T: Send>(
    target: &Target,
    work: impl Fn(Loaded) -> Result<T> + Sync,
    each: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    let jobs = target.jobs();
    map_loaded_jobs(target, &jobs.iter().collect::<Vec<_>>(), work, each)
}

/// [`map_rendered`] over `jobs`, some of the target's (listed once by [`Target::jobs`]).
pub fn map_jobs<T: Send>(
    target: &Target,
    jobs: &[&Job],
    work: impl Fn(Rendered) -> Result<T> + Sync,
    each: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    map_loaded_jobs(target, jobs, |loaded| work(loaded.render()?), each)
}

/// [`map_loaded`] over `jobs`: `work` on each of them loaded, its results handed to `each` in
/// the jobs' order.
pub fn map_loaded_jobs<T: Send>(
    target: &Target,
    jobs: &[&Job],
    work: impl Fn(Loaded) -> Result<T> + Sync,
    mut each: impl FnMut(T) -> Result<()>,
) -> Result<()> {
    for_chunks(target, jobs, work, |chunk| {
        for result in chunk {
            each(result?)?;
        }
        Ok(())
    })
}

/// [`map_rendered`] over `jobs` (some of a target's, listed once by [`Target::jobs`]), handing
/// `each` a whole chunk's results at once (in order; the first error in order stops it): what
/// lets `render --all` write a chunk of folders with shared flushes, and skip the folders it
/// found current. The jobs are not listed again: a profile added since is not rendered.
pub fn map_chunks<T: Send>(
    target: &Target,
    jobs: &[&Job],
    work: impl Fn(Rendered) -> Result<T> + Sync,
    mut each: impl FnMut(Vec<T>) -> Result<()>,
) -> Result<()> {
    let work = |loaded: Loaded| work(loaded.render()?);
    for_chunks(target, jobs, work, |chunk| {
        each(chunk.into_iter().collect::<Result<Vec<T>>>()?)
    })
}

/// One profile of a target and the folder it renders into.
pub struct Job {
    pub selection: Selection,
    pub dir: PathBuf,
}

impl Target {
    /// The target's profiles in order: its one selection, or every known profile (built-in
    /// and in `./profiles/`, listed now) each into its own folder.
    pub fn jobs(&self) -> Vec<Job> {
        match &self.selection {
            Some(selection) => vec![Job {
                selection: selection.clone(),
                dir: self.out.clone(),
            }],
            None => source::known_names()
                .into_iter()
                .map(|name| Job {
                    dir: self.out.join(&name),
                    selection: Selection::of(&name),
                })
                .collect(),
        }
    }
}

fn for_chunks<T: Send>(
    target: &Target,
    jobs: &[&Job],
    work: impl Fn(Loaded) -> Result<T> + Sync,
    mut each: impl FnMut(Vec<Result<T>>) -> Result<()>,
) -> Result<()> {
    let cache = PackCache::new(&target.pack_dirs);
    for chunk in jobs.chunks(chunk_size(jobs.len())) {
        let render = |job: &&Job| work(Loaded::load(&cache, &job.selection, &job.dir)?);
        each(crate::parallel::map_in_order(
            chunk.iter().collect(),
            render,
        ))?;
    }
    Ok(())
}

/// One profile of a target with all its render reads read, not rendered yet: its profile files
/// loaded, its packs and lockfile found, the files it names read.
pub struct Loaded {
    pub dir: PathBuf,
    pub selection: Selection,
    stack: profile::Stack,
    packs: Arc<Packs>,
    lock: Arc<Lockfile>,
    lock_inputs: Arc<str>,
    named: Result<NamedFiles>,
}

impl Loaded {
    fn load(cache: &PackCache, selection: &Selection, dir: &std::path::Path) -> Result<Self> {
        // The packs once: rendering and the manifest's pack versions both need them.
        let stack = profile::load(selection)?;
        let packs = cache.for_stack(&stack)?;
        let (lock, lock_inputs) = cache.lock_and_digest()?;
        // Read once, for the digest and the render alike; an error waits for the render.
        let named = crate::pipeline::resolve::named_files(&stack);
        Ok(Self {
            dir: dir.to_path_buf(),
            selection: selection.clone(),
            stack,
            packs,
            lock,
            lock_inputs,
            named,
        })
    }

    /// The digest of everything the render reads, but imggen's own build and the working
    /// folder (the caller's to add): equal digests, equal renders, equal warnings but those
    /// of the files it names (which depend on the day: [`Loaded::warnings`] gives them).
    /// `None` when a file the profile names could not be read (the render says why).
    pub fn inputs(&self) -> Option<String> {
        let (groups, _) = self.named.as_ref().ok()?;
        let mut inputs = crate::digest::Fields::new("imggen render inputs");
        // The references as given (the manifest keeps them); the stack's digest holds the sets.
        for reference in &self.selection.profiles {
            inputs.add("profile").add(reference);
        }
        inputs.add(&self.stack.inputs);
        inputs.add(&self.packs.inputs);
        inputs.add(&*self.lock_inputs);
        // A template's bounds can refuse a render.
        for var in [
            crate::pipeline::budget::SECONDS_VAR,
            crate::pipeline::budget::MEGABYTES_VAR,
        ] {
            let value = std::env::var_os(var).unwrap_or_default();
            inputs.add(var).add(value.as_encoded_bytes());
        }
        for (group, files) in groups {
            for file in files {
                inputs.add(group).add(&file.name).add(&file.contents);
            }
        }
        Some(inputs.finish())
    }

    /// The profile's title, as its manifest gives it.
    pub fn title(&self) -> String {
        self.stack.title()
    }

    /// The warnings the files the profile names earn now (an expired certificate), as the
    /// render gives them.
    pub fn warnings(&self) -> Vec<Warning> {
        self.named
            .as_ref()
            .map(|(_, warnings)| warnings.clone())
            .unwrap_or_default()
    }

    /// The profile rendered in memory, with the manifest of the render.
    pub fn render(self) -> Result<Rendered> {
        let Self {
            dir,
            selection,
            stack,
            packs,
            lock,
            named,
            ..
        } = self;
        let (files, warnings) = render_named(&packs, &stack, &lock, named)?;
        let manifest = Manifest::of(&files, &selection, &stack.title(), &stack.chain, &packs);
        Ok(Rendered {
            dir,
            files,
            manifest,
            profile: stack.profile,
            warnings,
            lock,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_render_the_jobs_they_are_given_in_order_and_list_none_again() {
        let target = Target {
            selection: None,
            out: PathBuf::from("never-written"),
            pack_dirs: Vec::new(),
        };
        let jobs = target.jobs();
        assert!(jobs.len() >= 5, "the built-in profiles are listed");
        let some: Vec<&Job> = jobs.iter().skip(1).step_by(2).collect();
        let mut seen = Vec::new();
        map_chunks(
            &target,
            &some,
            |r| Ok(r.dir),
            |chunk| {
                seen.extend(chunk);
                Ok(())
            },
        )
        .expect("the built-in profiles render");
        let wanted: Vec<PathBuf> = some.iter().map(|job| job.dir.clone()).collect();
        assert_eq!(seen, wanted);
    }
}
