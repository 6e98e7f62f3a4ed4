//! Quoting filters: every value a template puts into shell, a Dockerfile, YAML, `.env`, SQL or
//! `postgresql.conf` goes through one of these. Each either quotes the value so the reader gets
//! it back exactly, or refuses it; none of them lets a value end the line it is on.

use tera::{Kwargs, State, Tera, TeraResult};

pub fn register(tera: &mut Tera) {
    tera.register_filter("sh", |v: &str, _: Kwargs, _: &State| sh(v));
    tera.register_filter("docker", |v: &str, _: Kwargs, _: &State| docker(v));
    tera.register_filter("yaml", |v: &str, _: Kwargs, _: &State| {
        Ok::<_, tera::Error>(yaml(v))
    });
    tera.register_filter("env", |v: &str, _: Kwargs, _: &State| env(v));
    tera.register_filter("hcl", |v: &str, _: Kwargs, _: &State| {
        Ok::<_, tera::Error>(hcl(v))
    });
    tera.register_filter("sql_ident", |v: &str, _: Kwargs, _: &State| sql_ident(v));
    tera.register_filter("pgconf", |v: tera::Value, _: Kwargs, _: &State| pgconf(&v));
    tera.register_filter("sed_replacement", |v: &str, _: Kwargs, _: &State| {
        sed_replacement(v)
    });
    tera.register_filter("mount_option", |v: &str, _: Kwargs, _: &State| {
        mount_option(v)
    });
}

fn refuse(what: &str, value: &str, why: &str) -> tera::Error {
    tera::Error::message(format!(
        "cannot put `{}` into {what}: {why}",
        value.escape_debug()
    ))
}

fn has_line_break(value: &str) -> bool {
    value.chars().any(|c| c.is_control() && c != '\t')
}

/// Characters that need no quoting in any of the formats below.
pub fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c)
}

/// One POSIX shell word: bare when it is plain, otherwise single-quoted.
pub fn sh(value: &str) -> TeraResult<String> {
    if has_line_break(value) {
        return Err(refuse(
            "a shell command",
            value,
            "it contains a line break or control character",
        ));
    }
    if !value.is_empty() && value.chars().all(is_plain) {
        return Ok(value.to_string());
    }
    Ok(format!("'{}'", value.replace('\'', r"'\''")))
}

/// A double-quoted Dockerfile word (`ENV`, `LABEL`, `ARG`), with `$` kept literal.
pub fn docker(value: &str) -> TeraResult<String> {
    if has_line_break(value) {
        return Err(refuse(
            "a Dockerfile",
            value,
            "it contains a line break or control character",
        ));
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// A double-quoted YAML scalar for a compose file: escapes as YAML reads them, and `$` doubled
/// so that Compose does not interpolate it.
pub fn yaml(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' => out.push_str("$$"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A double-quoted HCL string (`docker-bake.hcl`): escapes as HCL reads them, and `${` / `%{`
/// doubled so that HCL does not interpolate.
pub fn hcl(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A `.env` value. `docker compose` strips quotes and expands `$`; `docker run --env-file` does
/// neither. So a value both read the same way is one that needs no quoting: anything else is
/// refused rather than quoted.
pub fn env(value: &str) -> TeraResult<String> {
    if value.chars().all(is_plain) {
        return Ok(value.to_string());
    }
    Err(refuse(
        "`.env`",
        value,
        "`docker compose` and `docker run --env-file` would read it differently; use only letters, \
         digits and `_@%+=:,./-`",
    ))
}

/// A double-quoted SQL identifier.
pub fn sql_ident(value: &str) -> TeraResult<String> {
    if has_line_break(value) || value.is_empty() {
        return Err(refuse(
            "an SQL identifier",
            value,
            "it is empty or has a control character",
        ));
    }
    Ok(format!("\"{}\"", value.replace('"', "\"\"")))
}

/// A `postgresql.conf` value: numbers and booleans bare, strings single-quoted.
pub fn pgconf(value: &tera::Value) -> TeraResult<String> {
    if let Some(flag) = value.as_bool() {
        return Ok(if flag { "on" } else { "off" }.to_string());
    }
    if value.is_number() {
        return Ok(value.to_string());
    }
    let text = value.as_str().unwrap_or_default();
    if has_line_break(text) {
        return Err(refuse(
            "`postgresql.conf`",
            text,
            "it contains a line break",
        ));
    }
    // Inside quotes PostgreSQL reads `\` as an escape (`\n`, `\\`, octal) and `''` as a quote.
    Ok(format!(
        "'{}'",
        text.replace('\\', "\\\\").replace('\'', "''")
    ))
}

/// The replacement of a sed `s|pattern|replacement|` command: `\`, `&` (the matched text) and
/// the `|` delimiter escaped, so sed writes the value as it is.
pub fn sed_replacement(value: &str) -> TeraResult<String> {
    if has_line_break(value) {
        return Err(refuse(
            "a sed replacement",
            value,
            "it contains a line break or control character",
        ));
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | '&' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(out)
}

/// The value of an option of `RUN --mount` (`id=…`). BuildKit reads the flag as CSV, buildah
/// splits it at each `,` and `=`, and neither has a quoting both read: letters, digits, `_`,
/// `.` and `-` only, or refused.
pub fn mount_option(value: &str) -> TeraResult<String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_.-".contains(c);
    if value.is_empty() || !value.chars().all(plain) {
        return Err(refuse(
            "a RUN --mount option",
            value,
            "only letters, digits, `_`, `.` and `-` are read the same by every builder",
        ));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_options_are_plain_words_or_refused() {
        assert_eq!(
            mount_option("imggen-python-runtime-apt").expect("plain"),
            "imggen-python-runtime-apt"
        );
        for bad in ["", "a,target=/etc", "a=b", "a b", "a\nb", "a\"b"] {
            let error = mount_option(bad).expect_err(bad).to_string();
            assert!(error.contains("RUN --mount option"), "{error}");
        }
    }

    /// Values chosen to break naive quoting.
    const HOSTILE: [&str; 6] = ["a b", "it's", "say \"hi\"", "$(id)", "`id`", "x\\y"];

    #[test]
    fn sh_round_trips_through_a_real_shell() {
        for value in HOSTILE.iter().chain(&["", "plain-value", "a'b'c"]) {
            let quoted = sh(value).expect("quotable");
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {quoted}"))
                .output()
                .expect("sh runs");
            assert_eq!(String::from_utf8_lossy(&out.stdout), *value, "{quoted}");
        }
    }

    #[test]
    fn sh_leaves_plain_words_bare() {
        assert_eq!(sh("python:3.11-slim").expect("plain"), "python:3.11-slim");
    }

    #[test]
    fn every_filter_refuses_newlines_where_they_would_end_the_line() {
        assert!(sh("a\nb").is_err());
        assert!(docker("a\nRUN rm -rf /").is_err());
        assert!(env("a\nB=c").is_err());
        assert!(sql_ident("a\n").is_err());
        assert!(pgconf(&tera::Value::from("a\nb")).is_err());
    }

    #[test]
    fn docker_escapes_quotes_backslashes_and_dollars() {
        assert_eq!(
            docker(r#"a "b" \ $HOME"#).expect("ok"),
            r#""a \"b\" \\ \$HOME""#
        );
    }

    #[test]
    fn yaml_round_trips_through_a_yaml_parser() {
        for value in HOSTILE
            .iter()
            .chain(&["line\nbreak", "tab\there", "#comment", ": colon"])
        {
            let parsed: String = serde_yaml::from_str(&yaml(value)).expect("valid YAML");
            // Compose turns `$$` back into `$`; the YAML layer keeps it doubled.
            assert_eq!(parsed.replace("$$", "$"), *value);
        }
    }

    #[test]
    fn hcl_round_trips_through_an_hcl_parser() {
        for value in HOSTILE
            .iter()
            .chain(&["${var}", "%{ if x }", "line\nbreak", "tab\t"])
        {
            let body: hcl::Body =
                hcl::from_str(&format!("x = {}\n", hcl(value))).expect("valid HCL");
            let back = match body.attributes().next().expect("one attribute").expr() {
                hcl::Expression::String(s) => s.clone(),
                other => panic!("{value:?} did not stay a plain string: {other:?}"),
            };
            assert_eq!(back, *value);
        }
    }

    #[test]
    fn env_refuses_what_compose_and_docker_run_read_differently() {
        assert_eq!(
            env("python:3.11-alpine").expect("plain"),
            "python:3.11-alpine"
        );
        assert_eq!(
            env("https://pypi.corp.example/simple").expect("plain"),
            "https://pypi.corp.example/simple"
        );
        for value in HOSTILE.iter().chain(&["a#b", "\"q\"", "x y"]) {
            assert!(env(value).is_err(), "{value}");
        }
    }

    #[test]
    fn sql_ident_doubles_quotes() {
        assert_eq!(sql_ident(r#"we"ird"#).expect("ok"), r#""we""ird""#);
    }

    #[test]
    fn pgconf_quotes_strings_only() {
        assert_eq!(pgconf(&tera::Value::from(true)).expect("ok"), "on");
        assert_eq!(pgconf(&tera::Value::from(100)).expect("ok"), "100");
        assert_eq!(pgconf(&tera::Value::from("it's")).expect("ok"), "'it''s'");
    }

    #[test]
    fn sed_replacement_round_trips_through_gnu_sed() {
        for value in [
            "https://m.example/debian",
            "a&b",
            "a\\b",
            "x|y",
            "\\&|&",
            "p&q\\",
        ] {
            let quoted = sed_replacement(value).expect("quotable");
            let script = format!("s|MARK|{quoted}|g");
            let out = std::process::Command::new("sed")
                .args([script.as_str()])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut child| {
                    use std::io::Write;
                    child.stdin.take().expect("stdin").write_all(b"<MARK>")?;
                    child.wait_with_output()
                })
                .expect("sed runs");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                format!("<{value}>"),
                "{quoted}"
            );
        }
        assert!(
            sed_replacement("a\nb").is_err(),
            "a line break would end the command"
        );
        assert_eq!(sed_replacement("a\\nb").expect("ok"), "a\\\\nb");
        assert!(sed_replacement("a\u{7}b").is_err());
    }

    #[test]
    fn pgconf_escapes_backslashes_as_postgresql_reads_them() {
        assert_eq!(pgconf(&tera::Value::from("a\\b")).expect("ok"), "'a\\\\b'");
        assert_eq!(
            pgconf(&tera::Value::from("end\\")).expect("ok"),
            "'end\\\\'"
        );
    }
}
