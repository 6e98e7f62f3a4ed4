//! The platform's Python wizard (`./platform setup`) keeps its answers in `platform-config.yaml`
//! at the checkout's root and offers them as the defaults of its questions; when it saves, it
//! rewrites `platform-bootstrap/.env` whole from them. So that a wizard run after `apply` writes
//! the profile's images back rather than its own defaults, `apply` keeps the image entries of
//! that file in step with the `.env` keys ([`ENTRIES`]). Plain text functions: `apply` reads and
//! writes the file.

use serde_yaml::{Mapping, Value};

/// The wizard's configuration file, relative to the checkout.
pub const FILE: &str = "platform-config.yaml";

/// What the wizard copies [`FILE`] from when there is none: the platform's defaults.
pub const EXAMPLE: &str = "platform-config.yaml.example";

/// What an entry holds.
#[derive(Clone, Copy)]
pub enum Holds {
    /// The value of this `.env` key.
    Image(&'static str),
    /// Whether this `.env` key has this value (a boolean).
    Flag {
        key: &'static str,
        when: &'static str,
    },
}

impl Holds {
    /// The `.env` key the entry follows.
    pub fn key(self) -> &'static str {
        match self {
            Holds::Image(key) | Holds::Flag { key, .. } => key,
        }
    }

    /// The entry's value (as text) for the key's value.
    pub fn value(self, env: &str) -> String {
        match self {
            Holds::Image(_) => env.to_string(),
            Holds::Flag { when, .. } => (env == when).to_string(),
        }
    }
}

/// One image entry of `platform-config.yaml`.
pub struct Entry {
    /// Its path under the file's top-level mapping.
    pub path: &'static [&'static str],
    pub holds: Holds,
    /// Written only where the file already has the entry's section: the wizard's older layout,
    /// which it migrates over the newer one when it finds it.
    pub legacy: bool,
}

/// The entries, from the wizard's specs (`wizard/services/*/spec.yaml`: each question's
/// `state_key` and `default_from`) and its engine (`_load_existing_state`).
pub static ENTRIES: [Entry; 12] = [
    Entry {
        path: &["services", "base_platform", "postgres", "image"],
        holds: Holds::Image("IMAGE_POSTGRES"),
        legacy: false,
    },
    Entry {
        path: &["services", "postgres", "image"],
        holds: Holds::Image("IMAGE_POSTGRES"),
        legacy: true,
    },
    Entry {
        path: &["services", "openmetadata", "server_image"],
        holds: Holds::Image("IMAGE_OPENMETADATA_SERVER"),
        legacy: false,
    },
    Entry {
        path: &["services", "openmetadata", "opensearch_image"],
        holds: Holds::Image("IMAGE_OPENSEARCH"),
        legacy: false,
    },
    Entry {
        path: &["services", "kerberos", "image"],
        holds: Holds::Image("IMAGE_KERBEROS_TEST"),
        legacy: false,
    },
    Entry {
        path: &["services", "kerberos", "use_prebuilt"],
        holds: Holds::Flag {
            key: "IMAGE_MODE",
            when: "prebuilt",
        },
        legacy: false,
    },
    // The test containers: the wizard saves `prebuilt` and reads it back as `use_prebuilt`.
    Entry {
        path: &[
            "services",
            "base_platform",
            "test_containers",
            "postgres_test",
            "image",
        ],
        holds: Holds::Image("IMAGE_POSTGRES_TEST"),
        legacy: false,
    },
    Entry {
        path: &[
            "services",
            "base_platform",
            "test_containers",
            "postgres_test",
            "prebuilt",
        ],
        holds: Holds::Flag {
            key: "POSTGRES_TEST_PREBUILT",
            when: "true",
        },
        legacy: false,
    },
    Entry {
        path: &[
            "services",
            "base_platform",
            "test_containers",
            "sqlcmd_test",
            "image",
        ],
        holds: Holds::Image("IMAGE_SQLCMD_TEST"),
        legacy: false,
    },
    Entry {
        path: &[
            "services",
            "base_platform",
            "test_containers",
            "sqlcmd_test",
            "prebuilt",
        ],
        holds: Holds::Flag {
            key: "SQLCMD_TEST_PREBUILT",
            when: "true",
        },
        legacy: false,
    },
    Entry {
        path: &[
            "services",
            "pagila",
            "test_containers",
            "pagila_test",
            "image",
        ],
        holds: Holds::Image("IMAGE_PAGILA_TEST"),
        legacy: false,
    },
    Entry {
        path: &[
            "services",
            "pagila",
            "test_containers",
            "pagila_test",
            "prebuilt",
        ],
        holds: Holds::Flag {
            key: "PAGILA_TEST_PREBUILT",
            when: "true",
        },
        legacy: false,
    },
];

impl Entry {
    /// `services.base_platform.postgres.image`: how messages and the record name it.
    pub fn name(&self) -> String {
        self.path.join(".")
    }
}

/// The file's text could not be read as a YAML mapping.
#[derive(Debug)]
pub struct NotAMapping(pub String);

/// The file as a mapping (an absent or empty file is an empty one).
pub fn parse(text: Option<&[u8]>) -> Result<Mapping, NotAMapping> {
    let text = text.unwrap_or_default();
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok(Mapping::new());
    }
    match serde_yaml::from_slice::<Value>(text) {
        Ok(Value::Mapping(map)) => Ok(map),
        Ok(Value::Null) => Ok(Mapping::new()),
        Ok(_) => Err(NotAMapping("its top level is not a mapping".into())),
        Err(e) => Err(NotAMapping(e.to_string())),
    }
}

/// The entry's value as text (`true`/`false` for a boolean), if the file has it.
pub fn get(map: &Mapping, entry: &Entry) -> Option<String> {
    let mut value = map.get(entry.path[0])?;
    for part in &entry.path[1..] {
        value = value.as_mapping()?.get(*part)?;
    }
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether the file has the section an entry lives in (all of its path but the last part).
pub fn has_section(map: &Mapping, entry: &Entry) -> bool {
    let (_, sections) = entry.path.split_last().expect("a path has parts");
    let mut current = map;
    for part in sections {
        match current.get(*part).and_then(Value::as_mapping) {
            Some(next) => current = next,
            None => return false,
        }
    }
    true
}

/// `map` with the entry set to `value` (a boolean for a [`Holds::Flag`]), making the sections
/// it lives in; a section that is not a mapping is replaced by one.
pub fn set(map: &mut Mapping, entry: &Entry, value: &str) {
    let (last, sections) = entry.path.split_last().expect("a path has parts");
    let mut current = map;
    for part in sections {
        let key = Value::from(*part);
        if !current.get(&key).is_some_and(Value::is_mapping) {
            current.insert(key.clone(), Value::Mapping(Mapping::new()));
        }
        current = current
            .get_mut(&key)
            .and_then(Value::as_mapping_mut)
            .expect("made a mapping above");
    }
    current.insert(Value::from(*last), typed(entry, value));
}

/// The entry's value as the file holds it: a boolean for a [`Holds::Flag`], else a string.
fn typed(entry: &Entry, value: &str) -> Value {
    match entry.holds {
        Holds::Flag { .. } => Value::Bool(value == "true"),
        Holds::Image(_) => Value::String(value.to_string()),
    }
}

/// One entry `apply` sets: its value, and whether the value it replaces stays as a comment.
pub struct Setting<'a> {
    pub entry: &'a Entry,
    pub value: String,
    pub keep: bool,
}

/// The file's text after `settings`, and whether it was edited in place: `before` with each
/// entry's line set or added ([`crate::platform::yaml_lines`]), so comments, quoting and every
/// other value stay as written, a value kept going to a comment that starts with `earlier`,
/// when that reads back as `map` (the parse of `before` with the entries set); else `map`
/// written whole (a file the line editor does not take, or none).
pub fn text_after(
    before: Option<&[u8]>,
    settings: &[Setting<'_>],
    map: &Mapping,
    earlier: &str,
) -> (Vec<u8>, bool) {
    let in_place = || {
        let mut text = std::str::from_utf8(before?).ok()?.to_string();
        for setting in settings {
            let value = scalar(&typed(setting.entry, &setting.value));
            let keep = setting.keep.then_some(earlier);
            text = crate::platform::yaml_lines::set(&text, setting.entry.path, &value, keep)?;
        }
        (parse(Some(text.as_bytes())).ok()? == *map).then_some(text)
    };
    match in_place() {
        Some(text) => (text.into_bytes(), true),
        None => (write(map), false),
    }
}

/// The file's text for `map`, in block style. Every string is written double-quoted (with
/// JSON's escapes, which YAML's double quotes accept): the wizard reads the file with PyYAML,
/// a YAML 1.1 reader, which takes a bare `yes`, `off` or `1:20` for a boolean or a number.
pub fn write(map: &Mapping) -> Vec<u8> {
    let mut out = String::new();
    if map.is_empty() {
        out.push_str("{}\n");
    } else {
        block(&mut out, &Value::Mapping(map.clone()), 0);
    }
    out.into_bytes()
}

/// A mapping or sequence with something in it: written as an indented block under its key.
fn is_block(value: &Value) -> bool {
    match value {
        Value::Mapping(m) => !m.is_empty(),
        Value::Sequence(s) => !s.is_empty(),
        Value::Tagged(t) => is_block(&t.value),
        _ => false,
    }
}

fn block(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Mapping(map) => {
            for (key, value) in map {
                out.push_str(&pad);
                out.push_str(&scalar(key));
                item(out, ":", value, indent);
            }
        }
        Value::Sequence(items) => {
            for value in items {
                out.push_str(&pad);
                out.push('-');
                item(out, "", value, indent);
            }
        }
        Value::Tagged(tagged) => block(out, &tagged.value, indent),
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

/// What follows a key (`separator` is `:`) or an item's `-` (`separator` is empty).
fn item(out: &mut String, separator: &str, value: &Value, indent: usize) {
    let tag = match value {
        Value::Tagged(tagged) => format!(" {}", tagged.tag),
        _ => String::new(),
    };
    if is_block(value) {
        out.push_str(&format!("{separator}{tag}\n"));
        block(out, value, indent + 2);
    } else {
        let inner = match value {
            Value::Tagged(tagged) => &tagged.value,
            other => other,
        };
        out.push_str(&format!("{separator}{tag} {}\n", scalar(inner)));
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => serde_json::to_string(s).expect("a string serializes"),
        Value::Sequence(s) if s.is_empty() => "[]".into(),
        Value::Mapping(m) if m.is_empty() => "{}".into(),
        Value::Tagged(t) => format!("{} {}", t.tag, scalar(&t.value)),
        // A non-empty collection as a key: YAML's flow form, as serde_yaml writes it.
        other => serde_yaml::to_string(other)
            .map(|s| s.trim_end().to_string())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_set_inside_what_the_file_has_and_read_back() {
        let mut map = parse(Some(
            b"services:\n  base_platform:\n    postgres:\n      password: s3cret\n      image: postgres:16\n",
        ))
        .expect("a mapping");
        set(&mut map, &ENTRIES[0], "registry.example/postgres:17");
        set(&mut map, &ENTRIES[5], "true");
        let text = String::from_utf8(write(&map)).expect("UTF-8");
        let again = parse(Some(text.as_bytes())).expect("a mapping");
        assert_eq!(
            get(&again, &ENTRIES[0]).as_deref(),
            Some("registry.example/postgres:17")
        );
        assert_eq!(get(&again, &ENTRIES[5]).as_deref(), Some("true"));
        assert!(text.contains("\"password\": \"s3cret\""), "{text}");
        assert!(!has_section(&again, &ENTRIES[1]), "no legacy section made");
    }

    #[test]
    fn what_the_wizard_wrote_is_written_back_the_same() {
        // As PyYAML's yaml.dump writes it: sorted keys, nulls, booleans, numbers, lists.
        let text = b"services:\n  base_platform:\n    postgres:\n      auth_method: md5\n      \
            enabled: true\n      image: postgres:17.5-alpine\n      password: null\n      port: 5432\n    \
            test_containers: {}\n  pagila:\n    tags:\n    - a\n    - - b\n      - c\n    - x: 1\n      y: [2]\n";
        let map = parse(Some(text)).expect("a mapping");
        let written = write(&map);
        assert_eq!(
            parse(Some(&written)).expect("a mapping"),
            map,
            "{}",
            String::from_utf8_lossy(&written)
        );
    }

    #[test]
    fn words_yaml_would_read_as_something_else_stay_strings() {
        let mut map = Mapping::new();
        for word in [
            "yes", "no", "on", "off", "null", "1.10", "0o17", "~", "true",
        ] {
            set(&mut map, &ENTRIES[0], word);
            let again = parse(Some(&write(&map))).expect("a mapping");
            assert_eq!(get(&again, &ENTRIES[0]).as_deref(), Some(word));
            let text = String::from_utf8(write(&map)).expect("UTF-8");
            // PyYAML (YAML 1.1, what the wizard reads with) takes an unquoted yes/no/on/off
            // for a boolean: every such word must be quoted (scripts/platform/entry_points.py
            // reads the file back with PyYAML itself).
            assert!(text.contains(&format!("\"{word}\"")), "{text}");
        }
    }
}
