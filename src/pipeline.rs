//! The pipeline, once: profile files → resolved profile → packs → rendered files in memory,
//! checked in memory. Every command, the benchmark harness and the property tests go through
//! here; what happens to the files afterwards (compare or write) is the caller's.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::{Result, Warning};
use crate::manifest::Manifest;
use crate::pack::Packs;
use crate::profile::{self, Selection, source};
use crate::render::Files;

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

/// A loaded profile through the rest of the pipeline: resolve, render with `packs`, check the
/// rendered files in memory.
pub fn render(packs: &Packs, stack: &profile::Stack) -> Result<Files> {
    render_warned(packs, stack).map(|(files, _)| files)
}

/// [`render`], with the warnings the profile earned (printed by the command, never written).
pub fn render_warned(packs: &Packs, stack: &profile::Stack) -> Result<(Files, Vec<Warning>)> {
    let resolved = crate::resolve::resolve(stack)?;
    let files = crate::render::render(packs, &resolved)?;
    crate::verify::verify(&files)?;
    Ok((files, resolved.warnings))
}

/// Packs loaded once per distinct list of pack folders (the command line's plus a profile's).
pub struct PackCache {
    command_line: Vec<PathBuf>,
    /// The command line's folders, then the project file's (read on first use).
    with_project: Option<Vec<PathBuf>>,
    loaded: BTreeMap<Vec<PathBuf>, Packs>,
}

impl PackCache {
    pub fn new(command_line: &[PathBuf]) -> Self {
        Self {
            command_line: command_line.to_vec(),
            with_project: None,
            loaded: BTreeMap::new(),
        }
    }

    /// The packs for `stack`: the command line's folders, the project file's, then the
    /// profile's `pack_dirs`.
    pub fn for_stack(&mut self, stack: &profile::Stack) -> Result<&Packs> {
        if self.with_project.is_none() {
            self.with_project = Some(crate::project::Project::pack_dirs(&self.command_line)?);
        }
        let mut dirs = self.with_project.clone().unwrap_or_default();
        for dir in &stack.profile.pack_dirs {
            let key = ["pack_dirs"];
            let path = stack.layers.resolve_path(&key, dir).0;
            let origin = stack.layers.origin(&key);
            let profile_dir = origin.map_or_else(|| PathBuf::from("."), |o| o.base_dir.clone());
            // A profile's pack folder is code it runs: only from inside its project.
            crate::confine::dir(&path, &profile_dir).map_err(|reason| {
                crate::error::Error::ProfileFile {
                    location: origin
                        .map_or_else(|| crate::error::DEFAULTS.to_string(), |o| o.label.clone()),
                    key: key.join("."),
                    path: path.clone(),
                    reason: Box::new(reason),
                }
            })?;
            dirs.push(path);
        }
        if !self.loaded.contains_key(&dirs) {
            let packs = Packs::load(&dirs)?;
            self.loaded.insert(dirs.clone(), packs);
        }
        Ok(&self.loaded[&dirs])
    }

    /// The pipeline for one selection: load, resolve, render with its packs. In memory only.
    pub fn render(
        &mut self,
        selection: &Selection,
    ) -> Result<(profile::Stack, Files, Vec<Warning>)> {
        let stack = profile::load(selection)?;
        let (files, warnings) = render_warned(self.for_stack(&stack)?, &stack)?;
        Ok((stack, files, warnings))
    }
}

/// One rendered profile, ready to compare or write.
pub struct Rendered {
    pub dir: PathBuf,
    pub files: Files,
    pub manifest: Manifest,
    /// The resolved profile it was rendered from (what `build` builds).
    pub profile: profile::Profile,
    pub warnings: Vec<Warning>,
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

/// Renders the target in memory, one profile at a time, handing each to `each`: nothing is
/// written here. `render` collects them all before writing; `check` compares each as it comes,
/// so memory stays flat however many profiles there are.
pub fn for_each_rendered(
    target: &Target,
    mut each: impl FnMut(Rendered) -> Result<()>,
) -> Result<()> {
    let mut cache = PackCache::new(&target.pack_dirs);
    let jobs: Vec<(Selection, PathBuf)> = match &target.selection {
        Some(selection) => vec![(selection.clone(), target.out.clone())],
        None => source::known_names()
            .into_iter()
            .map(|name| {
                let dir = target.out.join(&name);
                (Selection::of(&name), dir)
            })
            .collect(),
    };
    for (selection, dir) in jobs {
        let (stack, files, warnings) = cache.render(&selection)?;
        let manifest = Manifest::of(
            &files,
            &selection,
            &stack.title(),
            &stack.chain,
            cache.for_stack(&stack)?,
        );
        each(Rendered {
            dir,
            files,
            manifest,
            profile: stack.profile,
            warnings,
        })?;
    }
    Ok(())
}
