//! Editing a profile file in place (`imggen set`, `imggen unset`, `imggen init` re-runs):
//! with toml_edit, so the user's comments, key order and formatting survive and only the
//! changed values change. Every edit is checked as a whole profile before it is written.

use std::path::Path;

use toml_edit::{DocumentMut, Item, Table, Value};

use crate::error::{Error, Result};
use crate::profile::set::Set;

/// A profile file and its edited text.
#[derive(Debug)]
pub struct Edit {
    pub path: std::path::PathBuf,
    pub before: String,
    doc: DocumentMut,
}

impl Edit {
    pub fn open(path: &Path) -> Result<Self> {
        let before = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::read(path, e)),
        };
        let doc = before.parse::<DocumentMut>().map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            let (line, column) = crate::profile::line_col(&before, offset);
            Error::Toml {
                location: format!("{}:{line}:{column}", path.display()),
                message: e.message().trim().into(),
            }
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            before,
            doc,
        })
    }

    /// Sets `set.path` to its value, typed by the profile schema like `--set`.
    pub fn set(&mut self, set: &Set) -> Result<()> {
        let value = crate::profile::typed_value(set)?;
        self.set_value(&set.path, value, &set.arg)
    }

    /// Sets `path` to `value` as given (already typed).
    pub fn set_value(&mut self, path: &[String], value: Value, shown: &str) -> Result<()> {
        let (last, parents) = path.split_last().expect("a key has one segment at least");
        let table = table_at(self.doc.as_table_mut(), parents, shown)?;
        match table.get_mut(last) {
            // Keep the comments and spacing around the old value.
            Some(Item::Value(old)) => {
                let decor = old.decor().clone();
                *old = value;
                *old.decor_mut() = decor;
            }
            _ => {
                table.insert(last, Item::Value(value));
            }
        }
        Ok(())
    }

    /// Puts `comment` above the `[table]` header, unless the table already has a comment.
    pub fn comment_table(&mut self, table: &str, comment: &str) {
        if let Some(Item::Table(t)) = self.doc.get_mut(table) {
            let has_comment = t
                .decor()
                .prefix()
                .and_then(|p| p.as_str())
                .is_some_and(|p| p.contains('#'));
            if !has_comment {
                t.set_implicit(false);
                t.decor_mut().set_prefix(format!("\n# {comment}\n"));
            }
        }
    }

    /// Removes `path`; tables it leaves empty go too. `false` when it was not set.
    pub fn unset(&mut self, path: &[String]) -> bool {
        fn remove(table: &mut Table, path: &[String]) -> bool {
            let (first, rest) = path.split_first().expect("non-empty path");
            if rest.is_empty() {
                return table.remove(first).is_some();
            }
            let removed = match table.get_mut(first) {
                Some(Item::Table(inner)) => remove(inner, rest),
                Some(Item::Value(Value::InlineTable(inline))) if rest.len() == 1 => {
                    inline.remove(&rest[0]).is_some()
                }
                _ => false,
            };
            let emptied = table
                .get(first)
                .and_then(Item::as_table_like)
                .is_some_and(|t| t.is_empty());
            if removed && emptied {
                table.remove(first);
            }
            removed
        }
        remove(self.doc.as_table_mut(), path)
    }

    /// A new file in `./profiles/` named after a built-in: the note that it takes the built-in's
    /// place for `--profile NAME`.
    pub fn shadowing(&self) -> Option<crate::error::Warning> {
        if self.path.exists() {
            return None;
        }
        let name = crate::profile::source::shadowed_builtin(&self.path)?;
        let extends = self.doc.get("extends").and_then(|e| e.as_str());
        Some(crate::error::Warning::ShadowsBuiltin {
            path: self.path.clone(),
            extended: extends == Some(name.as_str()),
            name,
        })
    }

    /// Whether the file sets `path` itself.
    pub fn has(&self, path: &[String]) -> bool {
        self.item(path).is_some()
    }

    /// The string the file sets at `path` itself, if it sets one.
    pub fn string(&self, path: &[String]) -> Option<String> {
        self.item(path)?.as_str().map(str::to_string)
    }

    fn item(&self, path: &[String]) -> Option<&Item> {
        path.iter()
            .try_fold(self.doc.as_item(), |item, key| item.get(key))
    }

    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// Checks the edited profile as a whole, then writes it atomically.
    pub fn write(&self) -> Result<()> {
        let text = self.text();
        let stack = crate::profile::load_edited(&self.path, &text)?;
        crate::pipeline::resolve::resolve(&stack, &crate::registry::lock::Lockfile::default())?;
        crate::output::files::replace_keeping(&self.path, text.as_bytes(), 0o644)
    }

    pub fn diff(&self, color: bool) -> String {
        let name = self.path.display().to_string();
        // A new file is diffed against nothing, as `diff -N` and git show one.
        let old_name = match self.path.exists() {
            true => name.as_str(),
            false => "/dev/null",
        };
        crate::output::diff::unified_diff(&self.before, &self.text(), old_name, &name, color)
    }
}

/// The table at `path`, created (as a standard table) where missing.
fn table_at<'a>(root: &'a mut Table, path: &[String], arg: &str) -> Result<&'a mut Table> {
    let mut table = root;
    for key in path {
        if !table.contains_key(key) {
            let mut fresh = Table::new();
            fresh.set_implicit(true);
            table.insert(key, Item::Table(fresh));
        }
        let item = table.get_mut(key).expect("just made sure it exists");
        if let Item::Value(Value::InlineTable(inline)) = item {
            *item = Item::Table(std::mem::take(inline).into_table());
        }
        table = item.as_table_mut().ok_or_else(|| Error::BadSet {
            arg: arg.to_string(),
            reason: Box::new(crate::error::Reason::NotATable {
                key: key.to_string(),
            }),
        })?;
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edited(before: &str, sets: &[&str], unsets: &[&[&str]]) -> String {
        let mut edit = Edit {
            path: "p.toml".into(),
            before: before.into(),
            doc: before.parse().expect("parses"),
        };
        for arg in sets {
            edit.set(&Set::parse(arg).expect("valid")).expect("sets");
        }
        for path in unsets {
            let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
            edit.unset(&path);
        }
        edit.text()
    }

    const COMMENTED: &str = "# Our team's profile.\nextends = \"debian-prebuilt\"  # the base\n\n[python]\n# the image we push\ntag = \"org/python:1\"  # bumped by the bot\ntoolchain = true\n";

    #[test]
    fn set_changes_only_the_value_and_keeps_comments() {
        let after = edited(COMMENTED, &["python.tag=org/python:2"], &[]);
        assert_eq!(after, COMMENTED.replace("org/python:1", "org/python:2"));
    }

    #[test]
    fn set_adds_missing_keys_and_tables_in_place() {
        let after = edited(
            COMMENTED,
            &["hardening.non_root=true", "python.data_science=true"],
            &[],
        );
        assert!(after.starts_with(COMMENTED.trim_end()), "{after}");
        assert!(after.contains("data_science = true"), "{after}");
        assert!(after.contains("[hardening]\nnon_root = true\n"), "{after}");
    }

    #[test]
    fn unset_removes_the_key_and_tables_left_empty() {
        let after = edited(
            "[corporate]\nregistry = \"r.example\"\n",
            &[],
            &[&["corporate", "registry"]],
        );
        assert_eq!(after, "");
        let after = edited(COMMENTED, &[], &[&["python", "toolchain"]]);
        assert_eq!(after, COMMENTED.replace("toolchain = true\n", ""));
    }
}
