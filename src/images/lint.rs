//! `imggen lint`: the platform's custom-image requirements as rules over parsed Dockerfiles.

use serde::Serialize;

use crate::images::dockerfile::{Form, Instruction};
use crate::role::{Requirement, Role};

use crate::profile::model::Distro;
pub use crate::profile::model::Mode;

pub struct Rule {
    pub id: &'static str,
    pub name: &'static str,
    /// One line: what goes wrong on the platform.
    pub why: &'static str,
    /// One line: how to fix it.
    pub fix: &'static str,
    /// Checked only when the image's role is known (`--role`, its folder or its `FROM` image).
    pub needs_role: bool,
    /// Where the Dockerfile breaks the rule: (line, message) for each finding.
    check: fn(&Input<'_>) -> Vec<(usize, String)>,
}

/// A parsed Dockerfile and what it is for: what every rule's check reads.
struct Input<'a> {
    instructions: &'a [Instruction],
    /// The final stage's base image and its `FROM` line.
    base: Option<(usize, String)>,
    /// Lowercased names of the build stages (`FROM x AS name`).
    stages: Vec<String>,
    role: Option<&'a Role>,
    mode: Mode,
    /// The name the platform runs the image by, when known.
    platform_name: Option<&'a str>,
}

impl Input<'_> {
    fn all(&self, keyword: &str) -> impl Iterator<Item = &Instruction> {
        self.instructions
            .iter()
            .filter(move |i| i.keyword == keyword)
    }

    fn requires(&self, requirement: fn(&Requirement) -> bool) -> Option<&Requirement> {
        self.role?.requires.iter().find(|r| requirement(r))
    }
}

pub const RULES: [Rule; 10] = [
    Rule {
        id: "R001",
        name: "no-shell",
        why: "the image has no /bin/sh, so the platform's commands fail with \"sh: not found\"",
        fix: "use a base with /bin/sh (not scratch or distroless), or add busybox or bash; keep SHELL sh or bash",
        needs_role: false,
        check: no_shell,
    },
    Rule {
        id: "R002",
        name: "no-package-manager",
        why: "in layered mode the platform installs packages at start with apk or apt, and this image has neither",
        fix: "use an Alpine or Debian-based image, keep apk/apt, or switch the platform to prebuilt mode",
        needs_role: false,
        check: no_package_manager,
    },
    Rule {
        id: "R003",
        name: "kerberos-tools-missing",
        why: "in prebuilt mode nothing is installed at start, so the Kerberos test needs klist in the image",
        fix: "install the Kerberos tools in the image (Alpine: krb5 krb5-libs; Debian: krb5-user libkrb5-3 libk5crypto3)",
        needs_role: true,
        check: kerberos_tools_missing,
    },
    Rule {
        id: "R004",
        name: "postgres-entrypoint-replaced",
        why: "without docker-entrypoint.sh, POSTGRES_* variables and /docker-entrypoint-initdb.d/ stop working",
        fix: "keep the upstream ENTRYPOINT (docker-entrypoint.sh); change CMD or add init scripts instead",
        needs_role: true,
        check: entrypoint_replaced,
    },
    Rule {
        id: "R005",
        name: "secret-in-image",
        why: "a literal secret in ENV or ARG is stored in the image and its history",
        fix: "pass secrets at run time (docker run -e, compose environment, build secrets), never as ENV/ARG values",
        needs_role: false,
        check: secret_in_image,
    },
    Rule {
        id: "R006",
        name: "unpinned-base",
        why: "a base without a tag, or :latest, changes under you and builds differently tomorrow",
        fix: "name a version tag (python:3.11-slim-bookworm), or pin a digest (@sha256:...)",
        needs_role: false,
        check: unpinned_base,
    },
    Rule {
        id: "R007",
        name: "ends-as-root",
        why: "a hardened image that switches to a user and then back to root runs as root",
        fix: "end with USER <non-root uid>; do root-only steps before it",
        needs_role: false,
        check: ends_as_root,
    },
    Rule {
        id: "R008",
        name: "proxy-in-image",
        why: "proxy settings in ENV are baked into the image and leak the build network into every container",
        fix: "pass proxies as build arguments (http_proxy, https_proxy, no_proxy are predefined ARGs)",
        needs_role: false,
        check: proxy_in_image,
    },
    Rule {
        id: "R009",
        name: "platform-picks-wrong-installer",
        why: "in layered mode the platform picks the Kerberos test's install command from the image name (apt for names with debian, ubuntu, or :3.11 without alpine; apk otherwise), so a misleading name makes the test fail",
        fix: "name the image after its distro (with `alpine` in an Alpine image's name, `debian` in a Debian one's), or use prebuilt mode",
        needs_role: true,
        check: platform_picks_wrong_installer,
    },
    Rule {
        id: "R010",
        name: "copies-a-folder",
        why: "the build context is the whole rendered folder, and it comes with pull requests: a COPY or ADD of a folder or a pattern takes whatever else was put there into the image (a script beside the rendered one in /docker-entrypoint-initdb.d/ runs at the database's first start)",
        fix: "copy each file by name (COPY initdb/zz-imggen-databases.sh /docker-entrypoint-initdb.d/zz-imggen-databases.sh)",
        needs_role: false,
        check: copies_a_folder,
    },
];

/// The rules checked only when the image's role is known.
pub fn role_rules() -> impl Iterator<Item = &'static Rule> {
    RULES.iter().filter(|r| r.needs_role)
}

/// The role a Dockerfile is for, read from its final stage's `FROM` image: the one role whose
/// upstream image has that repository (`postgres:17.5-bookworm` → postgres). `None` when no
/// role or more than one starts from it (`python` serves both the Python runtime and the
/// Kerberos test). Returns the role and the image it was read from.
pub fn role_of_base(text: &str) -> Option<(&'static Role, String)> {
    let (_, image) = final_base(&crate::images::dockerfile::parse(text))?;
    let repository = |image: &str| crate::registry::reference::Reference::parse(image).repository;
    let wanted = repository(&image);
    let mut candidates = crate::role::ROLES.iter().filter(|role| {
        let upstream = crate::role::upstream_image(role);
        repository(upstream) == wanted
    });
    match (candidates.next(), candidates.next()) {
        (Some(role), None) => Some((role, image)),
        _ => None,
    }
}

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(id) || r.name == id)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub file: String,
    pub line: usize,
    pub rule: &'static str,
    pub name: &'static str,
    pub message: String,
    pub fix: &'static str,
}

/// Guesses the base's distro from its reference; `None` when the name does not say.
fn distro_of(image: &str) -> Option<Distro> {
    let lower = image.to_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    if name.contains("alpine") {
        Some(Distro::Alpine)
    } else if [
        "debian", "ubuntu", "bookworm", "bullseye", "trixie", "buster", "slim", "jammy", "noble",
    ]
    .iter()
    .any(|word| name.contains(word))
    {
        Some(Distro::Debian)
    } else {
        None
    }
}

fn is_shell_less(image: &str) -> bool {
    let lower = image.to_lowercase();
    lower == "scratch" || lower.contains("distroless") || lower.contains("chainguard/static")
}

fn is_package_manager_less(image: &str) -> bool {
    let lower = image.to_lowercase();
    is_shell_less(image) || lower.starts_with("busybox") || lower.contains("/busybox")
}

/// The image of the final stage's `FROM` (following `FROM <stage>` back to its image).
fn final_base(instructions: &[Instruction]) -> Option<(usize, String)> {
    let mut stages: Vec<(String, String)> = Vec::new();
    let mut last = None;
    for i in instructions.iter().filter(|i| i.keyword == "FROM") {
        let words = i.words();
        let image = words.first().cloned().unwrap_or_default();
        let resolved = stages
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(&image))
            .map(|(_, base)| base.clone())
            .unwrap_or(image);
        if words.len() >= 3 && words[1].eq_ignore_ascii_case("as") {
            stages.push((words[2].clone(), resolved.clone()));
        }
        last = Some((i.line, resolved));
    }
    last
}

/// What a Dockerfile is for: its role, the platform mode, and (when linting a profile) the name
/// the platform runs the image by.
pub struct Subject {
    pub role: Option<&'static Role>,
    pub mode: Mode,
    pub platform_name: Option<String>,
}

pub fn lint(file: &str, text: &str, subject: &Subject) -> Vec<Finding> {
    let instructions = crate::images::dockerfile::parse(text);
    let stages = instructions
        .iter()
        .filter(|i| i.keyword == "FROM")
        .filter_map(|i| {
            let words = i.words();
            (words.len() >= 3 && words[1].eq_ignore_ascii_case("as"))
                .then(|| words[2].to_lowercase())
        })
        .collect();
    let input = Input {
        base: final_base(&instructions),
        instructions: &instructions,
        stages,
        role: subject.role,
        mode: subject.mode,
        platform_name: subject.platform_name.as_deref(),
    };
    let mut findings: Vec<Finding> = RULES
        .iter()
        .flat_map(|rule| {
            (rule.check)(&input)
                .into_iter()
                .map(|(line, message)| Finding {
                    file: file.to_string(),
                    line,
                    rule: rule.id,
                    name: rule.name,
                    message,
                    fix: rule.fix,
                })
        })
        .collect();
    findings.sort_by_key(|f| (f.line, f.rule));
    findings
}

fn platform_picks_wrong_installer(input: &Input<'_>) -> Vec<(usize, String)> {
    let (Some(name), Some((line, base))) = (input.platform_name, input.base.as_ref()) else {
        return Vec::new();
    };
    if input.mode != Mode::Layered
        || input
            .requires(|r| *r == Requirement::InstallerByName)
            .is_none()
    {
        return Vec::new();
    }
    let Some(needs) = distro_of(base).map(Distro::manager) else {
        return Vec::new();
    };
    let picks = crate::platform::checkout::installer_for(name);
    if picks == needs {
        return Vec::new();
    }
    vec![(
        *line,
        format!(
            "the platform runs this image as `{name}` and picks {picks} from that name, but the image needs {needs}"
        ),
    )]
}

fn no_shell(input: &Input<'_>) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    if let Some((line, image)) = &input.base
        && is_shell_less(image)
    {
        found.push((*line, format!("the final base `{image}` has no /bin/sh")));
    }
    for i in input.all("SHELL") {
        let shell = i.words().first().cloned().unwrap_or_default();
        let program = shell.rsplit('/').next().unwrap_or(&shell).to_string();
        if !["sh", "bash", "ash", "dash"].contains(&program.as_str()) {
            found.push((i.line, format!("SHELL is `{shell}`, not sh or bash")));
        }
    }
    found
}

fn no_package_manager(input: &Input<'_>) -> Vec<(usize, String)> {
    let Some((line, image)) = input.base.as_ref().filter(|_| input.mode == Mode::Layered) else {
        return Vec::new();
    };
    if is_package_manager_less(image) {
        return vec![(
            *line,
            format!("the final base `{image}` has neither apk nor apt"),
        )];
    }
    input
        .all("RUN")
        .find(|i| {
            let text = i.text();
            text.contains("rm")
                && ["/sbin/apk", "/usr/bin/apt", "/usr/bin/dpkg"]
                    .iter()
                    .any(|p| text.contains(p))
        })
        .map(|i| (i.line, "this RUN removes the package manager".to_string()))
        .into_iter()
        .collect()
}

fn kerberos_tools_missing(input: &Input<'_>) -> Vec<(usize, String)> {
    if input.mode != Mode::Prebuilt
        || input
            .requires(|r| *r == Requirement::KerberosTools)
            .is_none()
    {
        return Vec::new();
    }
    let installs = input.all("RUN").any(|i| {
        let text = i.text();
        (text.contains("apk add") && text.split_whitespace().any(|w| w == "krb5"))
            || (text.contains("apt-get install") || text.contains("apt install"))
                && text.split_whitespace().any(|w| w == "krb5-user")
    });
    if installs {
        return Vec::new();
    }
    let packages = match input.base.as_ref().and_then(|(_, image)| distro_of(image)) {
        Some(Distro::Alpine) => "apk add --no-cache krb5 krb5-libs",
        Some(Distro::Debian) => "apt-get install -y krb5-user libkrb5-3 libk5crypto3",
        _ => "krb5 krb5-libs (Alpine) or krb5-user libkrb5-3 libk5crypto3 (Debian)",
    };
    let line = input.base.as_ref().map_or(1, |(line, _)| *line);
    vec![(
        line,
        format!("prebuilt Kerberos test image never installs the Kerberos tools; add `{packages}`"),
    )]
}

fn entrypoint_replaced(input: &Input<'_>) -> Vec<(usize, String)> {
    let Some(Requirement::KeepsEntrypoint(script)) =
        input.requires(|r| matches!(r, Requirement::KeepsEntrypoint(_)))
    else {
        return Vec::new();
    };
    input
        .all("ENTRYPOINT")
        .filter(|i| !i.text().contains(script))
        .map(|i| {
            (
                i.line,
                format!("ENTRYPOINT `{}` replaces {script}", i.text()),
            )
        })
        .collect()
}

fn secret_in_image(input: &Input<'_>) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for i in input.all("ENV").chain(input.all("ARG")) {
        for (name, value) in assignments(i) {
            if crate::pipeline::validate::names_a_secret(&name)
                && value
                    .as_deref()
                    .is_some_and(|v| !v.is_empty() && !v.starts_with('$'))
            {
                found.push((
                    i.line,
                    format!("{} `{name}` has a literal value", i.keyword),
                ));
            }
        }
    }
    found
}

fn unpinned_base(input: &Input<'_>) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for i in input.all("FROM") {
        let image = i.words().first().cloned().unwrap_or_default();
        if image.eq_ignore_ascii_case("scratch")
            || input.stages.contains(&image.to_lowercase())
            || image.contains('$')
            || image.contains('@')
        {
            continue;
        }
        let last = image.rsplit('/').next().unwrap_or_default();
        match last.split_once(':').map(|(_, t)| t) {
            None => found.push((i.line, format!("`{image}` has no tag (it means :latest)"))),
            Some("latest") => found.push((i.line, format!("`{image}` uses :latest"))),
            Some(_) => {}
        }
    }
    found
}

fn ends_as_root(input: &Input<'_>) -> Vec<(usize, String)> {
    let users: Vec<&Instruction> = input.all("USER").collect();
    if (users.len() >= 2 || users.first().is_some_and(|u| !is_root(u)))
        && let Some(last) = users.last().filter(|u| is_root(u))
    {
        return vec![(last.line, "the last USER is root".into())];
    }
    Vec::new()
}

fn proxy_in_image(input: &Input<'_>) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for i in input.all("ENV") {
        for (name, _) in assignments(i) {
            if [
                "http_proxy",
                "https_proxy",
                "no_proxy",
                "all_proxy",
                "ftp_proxy",
            ]
            .contains(&name.to_lowercase().as_str())
            {
                found.push((i.line, format!("ENV sets `{name}`")));
            }
        }
    }
    found
}

/// `COPY`/`ADD` from the build context (not `--from` another stage or image, not a URL or a
/// heredoc) of a source that is a folder (`.`, ending in `/`) or a pattern (`*`, `?`, `[`). A
/// folder named without a final `/` cannot be told from a file by the Dockerfile alone.
fn copies_a_folder(input: &Input<'_>) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let copies = input.all("COPY").chain(input.all("ADD"));
    for i in copies.filter(|i| !i.flags.iter().any(|f| f.starts_with("--from"))) {
        let words = i.words();
        let Some((_, sources)) = words.split_last() else {
            continue;
        };
        for source in sources {
            let elsewhere = source.starts_with("<<") || source.contains("://");
            let folder = source == "." || source.ends_with('/') || source.ends_with("/.");
            let pattern = source.contains(['*', '?', '[']);
            if !elsewhere && (folder || pattern) {
                let what = if folder { "the folder" } else { "the pattern" };
                found.push((i.line, format!("{} copies {what} `{source}`", i.keyword)));
            }
        }
    }
    found.sort();
    found
}

fn is_root(user: &Instruction) -> bool {
    let who = user.words().first().cloned().unwrap_or_default();
    let name = who.split(':').next().unwrap_or_default();
    name == "root" || name == "0"
}

/// `ENV a=b c="d e"`, `ENV a b` (legacy), `ARG a=b`, `ARG a`: names with their values.
fn assignments(i: &Instruction) -> Vec<(String, Option<String>)> {
    let text = match &i.form {
        Form::Shell(text) => text.clone(),
        Form::Json(words) => words.join(" "),
    };
    let text = text.trim();
    if !text.contains('=') {
        // Legacy `ENV name value`, or `ARG name` without a default.
        return match text.split_once(char::is_whitespace) {
            Some((name, value)) => vec![(name.to_string(), Some(value.trim().to_string()))],
            None => vec![(text.to_string(), None)],
        };
    }
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            name.push(c);
            chars.next();
        }
        if name.is_empty() {
            break;
        }
        if chars.peek() != Some(&'=') {
            out.push((name, None));
            continue;
        }
        chars.next();
        let mut value = String::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, c) if c.is_whitespace() => break,
                (_, '\\') => {
                    chars.next();
                    if let Some(&next) = chars.peek() {
                        value.push(next);
                    }
                }
                (_, c) => value.push(c),
            }
            chars.next();
        }
        out.push((name, Some(value)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str, role: Option<&'static Role>, mode: Mode) -> Vec<&'static str> {
        let subject = Subject {
            role,
            mode,
            platform_name: None,
        };
        lint("Dockerfile", text, &subject)
            .into_iter()
            .map(|f| f.rule)
            .collect()
    }

    fn role(name: &str) -> Option<&'static Role> {
        Some(crate::role::find(name).expect("a role"))
    }
    use Mode::{Layered, Prebuilt};

    #[test]
    fn r001_no_shell() {
        assert_eq!(
            ids("FROM scratch\nCOPY app /app\n", None, Prebuilt),
            ["R001"]
        );
        assert_eq!(
            ids("FROM gcr.io/distroless/python3:nonroot\n", None, Prebuilt),
            ["R001"]
        );
        assert_eq!(
            ids(
                "FROM python:3.11-slim\nSHELL [\"pwsh\", \"-c\"]\n",
                None,
                Prebuilt
            ),
            ["R001"]
        );
        // Near misses: a scratch build stage that is not the final image; SHELL bash.
        assert!(
            ids(
                "FROM scratch AS files\nFROM python:3.11-slim\n",
                None,
                Prebuilt
            )
            .is_empty()
        );
        assert!(
            ids(
                "FROM python:3.11-slim\nSHELL [\"/bin/bash\", \"-c\"]\n",
                None,
                Prebuilt
            )
            .is_empty()
        );
    }

    #[test]
    fn r002_layered_without_package_manager() {
        assert_eq!(ids("FROM busybox:1.36\n", None, Layered), ["R002"]);
        assert_eq!(
            ids(
                "FROM python:3.11-alpine\nRUN rm -f /sbin/apk\n",
                None,
                Layered
            ),
            ["R002"]
        );
        // Near misses: the same base in prebuilt mode; a RUN that only mentions apk.
        assert!(ids("FROM busybox:1.36\n", None, Prebuilt).is_empty());
        assert!(
            ids(
                "FROM python:3.11-alpine\nRUN apk add --no-cache curl\n",
                None,
                Layered
            )
            .is_empty()
        );
    }

    #[test]
    fn r003_prebuilt_kerberos_without_krb5() {
        let found = lint(
            "Dockerfile",
            "FROM python:3.11-alpine\nCMD [\"python\"]\n",
            &Subject {
                role: role("kerberos-test"),
                mode: Prebuilt,
                platform_name: None,
            },
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .message
                .contains("apk add --no-cache krb5 krb5-libs"),
            "{}",
            found[0].message
        );
        let found = lint(
            "Dockerfile",
            "FROM python:3.11-slim-bookworm\n",
            &Subject {
                role: role("kerberos-test"),
                mode: Prebuilt,
                platform_name: None,
            },
        );
        assert!(
            found[0].message.contains("krb5-user libkrb5-3"),
            "{}",
            found[0].message
        );
        // Near misses: installed (even in a heredoc); layered mode installs at start.
        assert!(
            ids(
                "FROM python:3.11-alpine\nRUN apk add --no-cache krb5 krb5-libs\n",
                role("kerberos-test"),
                Prebuilt
            )
            .is_empty()
        );
        assert!(
            ids(
                "FROM python:3.11-alpine\nRUN <<EOF\napk add krb5\nEOF\n",
                role("kerberos-test"),
                Prebuilt
            )
            .is_empty()
        );
        assert!(ids("FROM python:3.11-alpine\n", role("kerberos-test"), Layered).is_empty());
    }

    #[test]
    fn r004_postgres_entrypoint() {
        assert_eq!(
            ids(
                "FROM postgres:17\nENTRYPOINT [\"postgres\"]\n",
                role("postgres"),
                Prebuilt
            ),
            ["R004"]
        );
        // Near misses: a wrapper that still calls it; CMD changes are fine.
        assert!(
            ids(
                "FROM postgres:17\nENTRYPOINT [\"tini\", \"--\", \"docker-entrypoint.sh\"]\n",
                role("postgres"),
                Prebuilt
            )
            .is_empty()
        );
        assert!(
            ids(
                "FROM postgres:17\nCMD [\"postgres\", \"-c\", \"fsync=off\"]\n",
                role("postgres"),
                Prebuilt
            )
            .is_empty()
        );
    }

    #[test]
    fn r005_secrets() {
        assert_eq!(
            ids("FROM a:1\nENV DB_PASSWORD=hunter2\n", None, Prebuilt),
            ["R005"]
        );
        assert_eq!(
            ids("FROM a:1\nARG GITHUB_TOKEN=ghp_x\n", None, Prebuilt),
            ["R005"]
        );
        assert_eq!(
            ids("FROM a:1\nENV API_SECRET \"legacy form\"\n", None, Prebuilt),
            ["R005"]
        );
        // Near misses: an ARG without a default, a reference, a harmless name.
        assert!(ids("FROM a:1\nARG GITHUB_TOKEN\nENV DB_PASSWORD=$DB_PASSWORD\nENV PASSWORD_FILE_HINT=\n", None, Prebuilt).is_empty());
        assert!(
            ids(
                "FROM a:1\nENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt\n",
                None,
                Prebuilt
            )
            .is_empty()
        );
    }

    #[test]
    fn r006_unpinned_base() {
        assert_eq!(ids("FROM python\n", None, Prebuilt), ["R006"]);
        assert_eq!(
            ids("FROM registry:5000/python:latest\n", None, Prebuilt),
            ["R006"]
        );
        // Near misses: a registry port is not a tag; digests pin; stages are not images.
        assert!(ids("FROM registry:5000/python:3.11\n", None, Prebuilt).is_empty());
        assert!(
            ids(
                &format!("FROM python@sha256:{}\n", "a".repeat(64)),
                None,
                Prebuilt
            )
            .is_empty()
        );
        assert!(ids("FROM python:3.11 AS build\nFROM build\n", None, Prebuilt).is_empty());
    }

    #[test]
    fn r007_ends_as_root() {
        assert_eq!(
            ids("FROM a:1\nUSER 1000\nRUN x\nUSER root\n", None, Prebuilt),
            ["R007"]
        );
        // Near misses: root for a step, then back; no USER at all (not hardened).
        assert!(
            ids(
                "FROM a:1\nUSER root\nRUN x\nUSER 1000:1000\n",
                None,
                Prebuilt
            )
            .is_empty()
        );
        assert!(ids("FROM a:1\nRUN x\n", None, Prebuilt).is_empty());
    }

    #[test]
    fn r008_proxy_in_env() {
        assert_eq!(
            ids(
                "FROM a:1\nENV HTTPS_PROXY=http://proxy:3128\n",
                None,
                Prebuilt
            ),
            ["R008"]
        );
        // Near miss: the predefined build argument.
        assert!(ids("FROM a:1\nARG https_proxy\n", None, Prebuilt).is_empty());
    }

    #[test]
    fn r010_a_folder_or_pattern_from_the_build_context() {
        for copy in [
            "COPY initdb/ /docker-entrypoint-initdb.d/",
            "COPY . /app",
            "ADD certs/*.crt /usr/local/share/ca-certificates/",
            "COPY [\"conf/\", \"/etc/app/\"]",
            "COPY --chown=1000 a.txt ./ /app/",
        ] {
            assert_eq!(
                ids(&format!("FROM a:1\n{copy}\n"), None, Prebuilt),
                ["R010"],
                "{copy}"
            );
        }
        // Near misses: files by name, another stage or image, a URL, a heredoc.
        for copy in [
            "COPY initdb/zz-imggen-databases.sh /docker-entrypoint-initdb.d/",
            "COPY --from=build /out/ /app/",
            "COPY --from=alpine:3.20 /etc/ /etc/",
            "ADD https://example.com/a/ /a/",
            "COPY <<EOF /etc/x\nhello\nEOF",
        ] {
            assert!(
                ids(&format!("FROM a:1\n{copy}\n"), None, Prebuilt).is_empty(),
                "{copy}"
            );
        }
    }

    #[test]
    fn every_rule_is_explained() {
        for rule in &RULES {
            assert!(!rule.why.is_empty() && !rule.fix.is_empty());
            assert!(super::rule(rule.id).is_some() && super::rule(rule.name).is_some());
        }
    }

    #[test]
    fn r009_the_platform_would_pick_the_wrong_installer_by_name() {
        let subject = |name: &str, mode| Subject {
            role: role("kerberos-test"),
            mode,
            platform_name: Some(name.to_string()),
        };
        let alpine = "FROM python:3.11-alpine\n";
        let found = lint(
            "Dockerfile",
            alpine,
            &subject("myorg/kerberos-test:3.11-custom", Layered),
        );
        assert_eq!(found.iter().map(|f| f.rule).collect::<Vec<_>>(), ["R009"]);
        assert!(
            found[0].message.contains("picks apt"),
            "{}",
            found[0].message
        );
        // Near misses: a name that says alpine; prebuilt mode installs nothing; no name known.
        assert!(
            lint(
                "Dockerfile",
                alpine,
                &subject("myorg/kerberos-test:3.11-alpine-custom", Layered)
            )
            .is_empty()
        );
        assert!(
            lint(
                "Dockerfile",
                alpine,
                &subject("myorg/kerberos-test:3.11-custom", Prebuilt)
            )
            .iter()
            .all(|f| f.rule != "R009")
        );
        assert!(ids(alpine, role("kerberos-test"), Layered).is_empty());
        let debian = "FROM python:3.11-slim-bookworm\n";
        assert_eq!(
            lint(
                "Dockerfile",
                debian,
                &subject("myorg/krb:3.12-slim", Layered)
            )
            .iter()
            .map(|f| f.rule)
            .collect::<Vec<_>>(),
            ["R009"]
        );
    }
}
