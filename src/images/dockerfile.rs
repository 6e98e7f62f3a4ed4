//! A Dockerfile parser: what `lint` and the in-memory output checks read.
//!
//! Follows Docker's reading rules: parser directives (`# escape=`, `# syntax=`) at the top,
//! comment lines dropped (also inside continuations), the escape character at the end of a line
//! continuing the instruction, JSON (exec) and shell forms, and heredocs (`RUN <<EOF ... EOF`).

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// `CMD ["a", "b"]`
    Json(Vec<String>),
    /// `CMD a b`: the text after the keyword and flags, continuations joined.
    Shell(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// 1-based line the instruction starts on.
    pub line: usize,
    /// Upper-case keyword: `FROM`, `RUN`, ...
    pub keyword: String,
    /// `--name=value` flags before the arguments (`FROM --platform=…`, `COPY --from=…`).
    pub flags: Vec<String>,
    pub form: Form,
    /// Bodies of heredocs the instruction opens, in order.
    pub heredocs: Vec<String>,
}

impl Instruction {
    /// The arguments as one string (JSON form joined with spaces), heredoc bodies appended.
    pub fn text(&self) -> String {
        let mut text = match &self.form {
            Form::Json(words) => words.join(" "),
            Form::Shell(text) => text.clone(),
        };
        for body in &self.heredocs {
            text.push('\n');
            text.push_str(body);
        }
        text
    }

    /// Whitespace-separated words of the shell form (or the JSON words).
    pub fn words(&self) -> Vec<String> {
        match &self.form {
            Form::Json(words) => words.clone(),
            Form::Shell(text) => text.split_whitespace().map(str::to_string).collect(),
        }
    }
}

/// Parses a Dockerfile. Never fails: anything odd becomes an instruction the checks judge.
pub fn parse(text: &str) -> Vec<Instruction> {
    let lines: Vec<&str> = text.lines().collect();
    let escape = escape_char(&lines);
    let mut out = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let trimmed = lines[index].trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            index += 1;
            continue;
        }
        let start = index;
        let mut logical = String::new();
        loop {
            let line = lines[index].trim_end();
            index += 1;
            match line.strip_suffix(escape) {
                Some(head) => {
                    logical.push_str(head);
                    logical.push(' ');
                    // Comment and empty lines inside a continuation are skipped.
                    while index < lines.len()
                        && (lines[index].trim().is_empty()
                            || lines[index].trim_start().starts_with('#'))
                    {
                        index += 1;
                    }
                    if index >= lines.len() {
                        break;
                    }
                }
                None => {
                    logical.push_str(line);
                    break;
                }
            }
        }
        let mut instruction = instruction(start + 1, logical.trim());
        for tag in heredoc_tags(&instruction) {
            let mut body = Vec::new();
            while index < lines.len() && lines[index].trim() != tag {
                body.push(lines[index]);
                index += 1;
            }
            index += 1;
            instruction.heredocs.push(body.join("\n"));
        }
        out.push(instruction);
    }
    out
}

/// The escape character from a `# escape=` directive among the leading comment lines.
fn escape_char(lines: &[&str]) -> char {
    for line in lines {
        let Some(comment) = line.trim().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = comment.split_once('=') else {
            break;
        };
        if key.trim().eq_ignore_ascii_case("escape") {
            return if value.trim() == "`" { '`' } else { '\\' };
        }
    }
    '\\'
}

fn instruction(line: usize, logical: &str) -> Instruction {
    let (keyword, rest) = logical
        .split_once(char::is_whitespace)
        .unwrap_or((logical, ""));
    let mut rest = rest.trim_start();
    let mut flags = Vec::new();
    while rest.starts_with("--") {
        let (flag, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        flags.push(flag.to_string());
        rest = after.trim_start();
    }
    let form = match rest
        .starts_with('[')
        .then(|| serde_json::from_str::<Vec<String>>(rest))
    {
        Some(Ok(words)) => Form::Json(words),
        _ => Form::Shell(rest.to_string()),
    };
    Instruction {
        line,
        keyword: keyword.to_uppercase(),
        flags,
        form,
        heredocs: Vec::new(),
    }
}

/// `<<EOF`, `<<-EOF`, `<<'EOF'` and `<<"EOF"` markers in a shell-form instruction.
fn heredoc_tags(instruction: &Instruction) -> Vec<String> {
    let Form::Shell(text) = &instruction.form else {
        return Vec::new();
    };
    let mut tags = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("<<") {
        let after = rest[at + 2..].trim_start_matches('-');
        let quoted = after.trim_start_matches(['\'', '"']);
        let tag: String = quoted
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !tag.is_empty()
            && tag
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        {
            tags.push(tag);
        }
        rest = &rest[at + 2..];
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_continuations_and_skips_comments_inside_them() {
        let parsed =
            parse("FROM a\nRUN one \\\n    # a comment\n\n    && two\nCMD [\"x\", \"y\"]\n");
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[1].line, 2);
        assert_eq!(parsed[1].form, Form::Shell("one      && two".into()));
        assert_eq!(parsed[2].form, Form::Json(vec!["x".into(), "y".into()]));
    }

    #[test]
    fn honours_the_escape_directive() {
        let parsed = parse("# escape=`\nFROM a\nRUN dir `\n    c:\\\n");
        assert_eq!(parsed[1].form, Form::Shell("dir      c:\\".into()));
    }

    #[test]
    fn reads_flags_and_heredocs() {
        let parsed =
            parse("FROM --platform=linux/amd64 a AS b\nRUN <<EOF\napk add krb5\nEOF\nUSER 1\n");
        assert_eq!(parsed[0].flags, ["--platform=linux/amd64"]);
        assert_eq!(parsed[0].words(), ["a", "AS", "b"]);
        assert_eq!(parsed[1].heredocs, ["apk add krb5"]);
        assert_eq!(parsed[2].keyword, "USER");
    }

    #[test]
    fn shell_form_that_looks_like_json_but_is_not() {
        let parsed = parse("FROM a\nCMD [not json\n");
        assert_eq!(parsed[1].form, Form::Shell("[not json".into()));
    }
}
