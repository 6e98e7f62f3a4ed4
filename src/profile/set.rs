//! `--set dotted.key=value`: one value, typed by the profile schema.

use toml_edit::{Item, Table, Value};

use crate::error::{Error, Result};

/// One parsed `--set`.
#[derive(Debug, Clone)]
pub struct Set {
    pub arg: String,
    pub path: Vec<String>,
    /// The value read as TOML (`true`, `3`, `["a", "b"]`, `"x"`), when it is valid TOML.
    pub typed: Option<Value>,
    /// The value as a plain string; used when the typed reading does not fit the key.
    pub raw: String,
}

impl Set {
    pub fn parse(arg: &str) -> Result<Self> {
        let (path, raw) = split_key(arg.trim_start()).ok_or_else(|| Error::BadSet {
            arg: arg.to_string(),
            reason: Box::new(crate::error::Reason::SetSyntax),
        })?;
        let typed = raw.parse::<Value>().ok();
        Ok(Self {
            arg: arg.to_string(),
            path,
            typed,
            raw: raw.to_string(),
        })
    }

    /// The `--set` as a one-value TOML table, reading the value as TOML when `typed`.
    pub fn to_table(&self, typed: bool) -> Table {
        let value = match (&self.typed, typed) {
            (Some(value), true) => value.clone(),
            _ => Value::from(self.raw.as_str()),
        };
        let mut table = Table::new();
        let (last, parents) = self.path.split_last().expect("parse rejects an empty key");
        let mut cursor = &mut table;
        for key in parents {
            let entry = cursor.entry(key).or_insert(Item::Table(Table::new()));
            cursor = entry.as_table_mut().expect("just inserted as a table");
        }
        cursor.insert(last, Item::Value(value));
        table
    }
}

/// Splits `a.b."c.d"=value` into its key segments and the value. Bare segments use letters,
/// digits, `_` and `-`; a double-quoted segment may hold anything but `"`.
fn split_key(arg: &str) -> Option<(Vec<String>, &str)> {
    let mut path = Vec::new();
    let mut rest = arg;
    loop {
        let (segment, after) = if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"')?;
            (quoted[..end].to_string(), &quoted[end + 1..])
        } else {
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))?;
            (rest[..end].to_string(), &rest[end..])
        };
        if segment.is_empty() {
            return None;
        }
        path.push(segment);
        if let Some(next) = after.strip_prefix('.') {
            rest = next;
        } else {
            return after.strip_prefix('=').map(|value| (path, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(table: Table) -> String {
        let mut doc = toml_edit::DocumentMut::new();
        *doc.as_table_mut() = table;
        doc.to_string()
    }

    #[test]
    fn splits_on_the_first_equals_sign() {
        let set = Set::parse("python.env.A=b=c").expect("valid");
        assert_eq!(set.path, ["python", "env", "A"]);
        assert_eq!(set.raw, "b=c");
    }

    #[test]
    fn reads_toml_values_when_they_parse() {
        let set = Set::parse("python.pip_packages=[\"a\", \"b\"]").expect("valid");
        assert!(set.typed.as_ref().is_some_and(Value::is_array));
        let set = Set::parse("images.python=python:3.12").expect("valid");
        assert!(set.typed.is_none());
        assert_eq!(
            text(set.to_table(true)),
            "[images]\npython = \"python:3.12\"\n"
        );
    }

    #[test]
    fn nests_the_value_under_its_dotted_key() {
        let set = Set::parse("hardening.non_root=true").expect("valid");
        assert_eq!(text(set.to_table(true)), "[hardening]\nnon_root = true\n");
        assert_eq!(
            text(set.to_table(false)),
            "[hardening]\nnon_root = \"true\"\n"
        );
    }

    #[test]
    fn quoted_segments_may_hold_dots() {
        let set = Set::parse("labels.\"org.opencontainers.image.title\"=a.b").expect("valid");
        assert_eq!(set.path, ["labels", "org.opencontainers.image.title"]);
        assert_eq!(set.raw, "a.b");
    }

    #[test]
    fn refuses_a_missing_equals_sign_and_bad_keys() {
        for arg in [
            "python.tag",
            "=x",
            "python..tag=x",
            "py thon=x",
            "labels.\"open=x",
            "a.\"\"=x",
        ] {
            let error = Set::parse(arg).expect_err(arg).to_string();
            assert!(error.starts_with(&format!("bad `--set {arg}`")), "{error}");
        }
    }
}
