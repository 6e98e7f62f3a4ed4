//! In-memory checks of every rendered file, before anything is written: a template (most likely
//! a vendored one) that renders a broken Dockerfile, compose file, `.env` or script is an error.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{Error, Reason, Result};
use crate::output::tree::Files;

const INSTRUCTIONS: [&str; 18] = [
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

pub fn verify(files: &Files) -> Result<()> {
    for (path, file) in files {
        let name = path.rsplit('/').next().unwrap_or(path);
        let Ok(text) = std::str::from_utf8(&file.contents) else {
            continue;
        };
        let problem = if name == "Dockerfile" {
            dockerfile(text)
        } else if name == "docker-compose.override.yml" {
            compose(text)
        } else if name == ".env" {
            env(text)
        } else if name.ends_with(".sh") {
            shell_quotes(text)
        } else {
            None
        };
        if let Some(reason) = problem {
            return Err(Error::BadOutput {
                path: path.clone(),
                pack: file.pack.clone(),
                reason: Box::new(reason),
            });
        }
    }
    Ok(())
}

/// A fingerprint of `files`: every path, its bytes and its mode, in order. `render --all` notes
/// it for each folder its first pass verified, and does not verify the second pass's render of
/// that folder again when it has the same fingerprint. SHA-256: no other set of files shares it.
pub fn fingerprint(files: &Files) -> [u8; 32] {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for (path, file) in files {
        for part in [path.as_bytes(), &file.contents] {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        hasher.update([u8::from(file.executable)]);
    }
    hasher.finalize().into()
}

fn dockerfile(text: &str) -> Option<Reason> {
    let list = crate::images::dockerfile::parse(text);
    for instruction in &list {
        if !INSTRUCTIONS.contains(&instruction.keyword.as_str()) {
            return Some(Reason::UnknownInstruction {
                line: instruction.line,
                keyword: instruction.keyword.clone(),
            });
        }
    }
    match list.iter().find(|i| i.keyword != "ARG") {
        Some(i) if i.keyword == "FROM" => None,
        Some(i) => Some(Reason::BeforeFrom {
            line: i.line,
            keyword: i.keyword.clone(),
        }),
        None => Some(Reason::NoFrom),
    }
}

/// The shape imggen's compose override has; anything else means a template went wrong.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // read by serde: parsing into this shape is the check
struct Compose {
    services: BTreeMap<String, Service>,
    #[serde(default)]
    volumes: BTreeMap<String, External>,
    #[serde(default)]
    networks: BTreeMap<String, External>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Service {
    image: String,
    build: Option<Build>,
    command: Option<Vec<String>>,
    environment: Option<BTreeMap<String, String>>,
    volumes: Option<Vec<Mount>>,
    networks: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Build {
    context: String,
    args: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Mount {
    #[serde(rename = "type")]
    kind: String,
    source: String,
    target: String,
    read_only: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct External {
    external: bool,
}

fn compose(text: &str) -> Option<Reason> {
    serde_yaml::from_str::<Compose>(text)
        .err()
        .map(|e| Reason::ComposeShape {
            message: e.to_string(),
        })
}

fn env(text: &str) -> Option<Reason> {
    for (index, line) in text.lines().enumerate() {
        if line.starts_with('#') {
            continue;
        }
        let ok = line.split_once('=').is_some_and(|(key, value)| {
            key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                // The same characters the `env` filter lets through unquoted.
                && value.chars().all(crate::pipeline::filters::is_plain)
        });
        if !ok {
            return Some(Reason::EnvLine {
                line: index + 1,
                text: line.to_string(),
            });
        }
    }
    None
}

/// Quotes balance outside heredoc bodies (a cheap stand-in for `sh -n`, which the tests run).
fn shell_quotes(text: &str) -> Option<Reason> {
    let mut heredoc: Option<String> = None;
    let mut quote: Option<(char, usize)> = None;
    for (index, line) in text.lines().enumerate() {
        if let Some(tag) = &heredoc {
            if line.trim() == tag {
                heredoc = None;
            }
            continue;
        }
        let mut chars = line.chars().peekable();
        let mut previous = ' ';
        while let Some(c) = chars.next() {
            let word_start = previous.is_whitespace();
            previous = c;
            match (quote, c) {
                (None, '#') if word_start => break,
                (None, '\\') | (Some(('"', _)), '\\') => {
                    chars.next();
                }
                (None, '\'' | '"') => quote = Some((c, index + 1)),
                (Some((open, _)), c) if c == open => quote = None,
                _ => {}
            }
        }
        if quote.is_none()
            && let Some(start) = line.find("<<")
        {
            let tag: String = line[start + 2..]
                .trim_start_matches('-')
                .trim()
                .trim_matches(|c| c == '\'' || c == '"')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !tag.is_empty() {
                heredoc = Some(tag);
            }
        }
    }
    match (quote, heredoc) {
        (Some((quote, line)), _) => Some(Reason::Unbalanced { line, quote }),
        (_, Some(tag)) => Some(Reason::OpenHeredoc { tag }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `render --all` trusts instead of verifying again: equal only for the same paths,
    /// bytes and modes, however the bytes are split between files.
    #[test]
    fn a_fingerprint_changes_with_any_path_byte_or_mode() {
        let files = |entries: &[(&str, &str, bool)]| -> Files {
            entries
                .iter()
                .map(|(path, text, executable)| {
                    let file = crate::output::tree::File {
                        contents: text.as_bytes().to_vec(),
                        pack: "p".into(),
                        executable: *executable,
                    };
                    (path.to_string(), file)
                })
                .collect()
        };
        let base = files(&[("a", "xy", false), ("b", "", false)]);
        assert_eq!(fingerprint(&base), fingerprint(&base.clone()));
        let others = [
            files(&[("a", "x", false), ("b", "y", false)]),
            files(&[("a", "xz", false), ("b", "", false)]),
            files(&[("a", "xy", true), ("b", "", false)]),
            files(&[("a", "xy", false), ("c", "", false)]),
            files(&[("a", "xy", false)]),
            files(&[("ax", "y", false), ("b", "", false)]),
        ];
        for other in &others {
            assert_ne!(fingerprint(&base), fingerprint(other), "{other:?}");
        }
        // The pack that rendered a file is not part of what is verified.
        let mut renamed = base.clone();
        renamed.get_mut("a").expect("a").pack = "q".into();
        assert_eq!(fingerprint(&base), fingerprint(&renamed));
    }

    #[test]
    fn dockerfile_needs_from_first_and_known_instructions() {
        assert_eq!(dockerfile("# c\nARG X\nFROM a\nRUN a \\\n    && b\n"), None);
        assert!(
            dockerfile("RUN x\nFROM a\n")
                .is_some_and(|e| e.to_string().contains("before the first `FROM`"))
        );
        assert!(
            dockerfile("FROM a\nFRM b\n")
                .is_some_and(|e| e.to_string().contains("line 2: unknown instruction `FRM`"))
        );
        assert!(dockerfile("# only a comment\n").is_some());
    }

    #[test]
    fn continuation_lines_are_not_instructions() {
        assert_eq!(
            dockerfile("FROM a\nRUN apt-get install \\\n    gcc \\\n    make\n"),
            None
        );
    }

    #[test]
    fn env_lines_are_key_equals_plain_value() {
        assert_eq!(env("# c\nA=b:c/d\nB=\n"), None);
        assert!(env("A=\"quoted\"\n").is_some());
        assert!(env("not a line\n").is_some());
    }

    #[test]
    fn shell_quotes_balance_outside_heredocs() {
        assert_eq!(
            shell_quotes("echo 'a' \"b\" it\\'s\ncat <<'SQL'\nit's\nSQL\n"),
            None
        );
        assert_eq!(
            shell_quotes("echo 'a\n"),
            Some(Reason::Unbalanced {
                line: 1,
                quote: '\''
            })
        );
        assert!(shell_quotes("cat <<EOF\nx\n").is_some());
    }

    #[test]
    fn compose_must_have_the_expected_shape() {
        assert_eq!(compose("services:\n  a:\n    image: x\n"), None);
        assert!(compose("services:\n  a:\n    imagez: x\n").is_some());
        assert!(compose("services: [\n").is_some());
    }
}
