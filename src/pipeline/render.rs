//! Rendering: a resolved profile and the packs it lists become files in memory.
//!
//! Pure: reads nothing, writes nothing. The result is an ordered map, so everything downstream
//! (write, check, snapshots) sees files in the same order every time.

use crate::error::{Error, Result, Warning};
use crate::output::tree::{File, Files};
use crate::pipeline::pack::{Pack, Packs};
use crate::pipeline::resolve::Resolved;

/// Renders `resolved` (its context taken, each pack setting its own `pack` in it) and hands
/// back the files with the warnings the profile earned.
pub fn render(packs: &Packs, resolved: Resolved<'_>) -> Result<(Files, Vec<Warning>)> {
    let Resolved {
        stack,
        mut context,
        files: named,
        warnings,
    } = resolved;
    let tera = packs.tera_for(&stack.profile.packs)?;
    let tera = tera.as_ref();
    // Templates of a pack on disk came with the project (and maybe a pull request): each of
    // their renders is watched (`budget`).
    let watched = !packs.builtin_only(&stack.profile.packs);
    let profile = &stack.title();
    let mut files = Files::new();
    for name in &stack.profile.packs {
        let pack = packs.get(name)?;
        let m = &pack.manifest;
        context.insert_value("pack", pack.info());
        let header = crate::pipeline::header::for_pack(stack, pack);
        let template = Render {
            tera,
            context: &context,
            profile,
            watched,
        };
        let mut condition = 0;
        for output in &m.outputs {
            let index = condition;
            condition += 1;
            if !template.holds(pack, "outputs", index, output.when.is_some())? {
                continue;
            }
            let text = template.text(&pack.template_name(&output.template))?;
            let text = crate::pipeline::header::place(&header, &normalize(&text));
            let file = File {
                contents: text.into_bytes(),
                pack: name.clone(),
                executable: output.executable,
            };
            insert(&mut files, &output.path, file, name)?;
        }
        for copy in &m.copies {
            let index = condition;
            condition += 1;
            if !template.holds(pack, "copies", index, copy.when.is_some())? {
                continue;
            }
            let Some(group) = named.get(copy.files.as_str()) else {
                return Err(Error::pack(
                    pack.root.clone(),
                    crate::error::Reason::UnknownFileGroup {
                        group: copy.files.clone(),
                        known: named.keys().map(|k| k.to_string()).collect(),
                    },
                ));
            };
            for source in group {
                let file = File {
                    contents: source.contents.clone(),
                    pack: name.clone(),
                    executable: false,
                };
                insert(
                    &mut files,
                    &format!("{}/{}", copy.into, source.name),
                    file,
                    name,
                )?;
            }
        }
    }
    refuse_nested(&files)?;
    Ok((files, warnings))
}

/// Refuses two outputs where one would be a folder holding the other (`a` and `a/b`): the
/// nested one names the file that stands in its way.
fn refuse_nested(files: &Files) -> Result<()> {
    for (path, file) in files {
        let slashes = path.bytes().enumerate().filter(|(_, b)| *b == b'/');
        for (end, _) in slashes {
            if let Some((other, holder)) = files.get_key_value(&path[..end]) {
                return Err(Error::OutputInsideOutput {
                    path: path.clone(),
                    pack: file.pack.clone(),
                    other: other.clone(),
                    other_pack: holder.pack.clone(),
                });
            }
        }
    }
    Ok(())
}

/// What renders one template of a pack for one profile.
struct Render<'a> {
    tera: &'a tera::Tera,
    context: &'a tera::Context,
    profile: &'a str,
    watched: bool,
}

impl Render<'_> {
    fn text(&self, template: &str) -> Result<String> {
        crate::pipeline::budget::render(
            self.tera,
            template,
            self.context,
            self.profile,
            self.watched,
        )
    }

    /// Whether condition `index` of `kind` holds (true without a condition).
    fn holds(&self, pack: &Pack, kind: &str, index: usize, has_condition: bool) -> Result<bool> {
        if !has_condition {
            return Ok(true);
        }
        Ok(self.text(&pack.condition_name(kind, index))? == "true")
    }
}

fn insert(files: &mut Files, path: &str, file: File, pack: &str) -> Result<()> {
    if crate::output::manifest::is_reserved(path) {
        return Err(Error::ReservedOutput {
            path: path.to_string(),
            pack: pack.to_string(),
        });
    }
    if let Some(first) = files.get(path) {
        return Err(Error::DuplicateOutput {
            path: path.to_string(),
            first: first.pack.clone(),
            second: pack.to_string(),
        });
    }
    files.insert(path.to_string(), file);
    Ok(())
}

/// LF line endings, no trailing spaces, no runs of blank lines, exactly one final newline.
/// Lets templates use readable block tags without their whitespace leaking into the output.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    // Lines end at "\n" (found with `memchr`, many bytes at a time); `trim_end` drops the "\r"
    // of a "\r\n" with any other space at a line's end. The end of the text ends a last line
    // (empty after a final "\n", and dropped below like any trailing blank line).
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]);
    let mut start = 0;
    for end in ends {
        let line = text[start..end].trim_end();
        start = end + 1;
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    if out.is_empty() {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Selection, load};

    #[test]
    fn normalize_collapses_blank_runs_and_ends_with_one_newline() {
        assert_eq!(normalize("\n\na  \r\n\n\n\nb\n\n\n"), "a\n\nb\n");
        assert_eq!(normalize("x"), "x\n");
        assert_eq!(normalize(""), "\n");
        assert_eq!(normalize("\n\n\n"), "\n");
        assert_eq!(normalize("a\r\nb\r"), "a\nb\n");
        assert_eq!(normalize("a\rb\n"), "a\rb\n", "a \\r inside a line stays");
        assert_eq!(normalize("é \u{a0}\n\u{3000}\nz\t"), "é\n\nz\n");
    }

    #[test]
    fn strict_rendering_refuses_undefined_variables() {
        let mut tera = tera::Tera::new();
        tera.add_raw_template("t", "{{ profile.nope }}")
            .expect("parses");
        let mut context = tera::Context::new();
        context.insert("profile", &crate::profile::Profile::default());
        let error = tera
            .render("t", &context)
            .expect_err("undefined is an error");
        assert!(error.to_string().contains("nope"), "{error}");
    }

    #[test]
    fn rendering_is_deterministic() {
        let packs = Packs::builtin().expect("packs load");
        let stack = load(&Selection::of("corporate-hardened")).expect("loads");
        let once = || {
            let lock = crate::registry::lock::Lockfile::default();
            let resolved = crate::pipeline::resolve::resolve(&stack, &lock).expect("resolves");
            render(&packs, resolved).expect("renders").0
        };
        let first = once();
        let second = once();
        assert_eq!(first, second);
        assert!(first.contains_key("python-runtime/Dockerfile"));
        assert!(first.contains_key(".env"));
    }
}
