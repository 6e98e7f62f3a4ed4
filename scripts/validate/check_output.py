"""Checks one rendered output folder with tools imggen did not write.

Usage: check_output.py KIND PATH
  dockerfile PATH   parse with the official BuildKit parser (the `dockerfile` package), require
                    FROM first, and write each shell-form RUN to PATH.runN.sh for shellcheck
  env PATH          read .env by Compose's rules and by `docker run --env-file`'s; they must agree
  bake PATH         parse docker-bake.hcl with python-hcl2; the default group must name exactly
                    the targets, each with a context and tags

Prints nothing on success; a reason and exit status 1 on failure.
"""

import re
import sys

KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_dockerfile(path):
    import dockerfile

    try:
        commands = dockerfile.parse_file(path)
    except dockerfile.GoParseError as error:
        return f"BuildKit parser refused it: {error}"
    instructions = [c for c in commands if c.cmd.upper() != "ARG"]
    if not instructions or instructions[0].cmd.upper() != "FROM":
        return "the first instruction (after ARGs) is not FROM"
    known = {
        "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
        "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
    }
    for command in commands:
        if command.cmd.upper() not in known:
            return f"unknown instruction {command.cmd} at line {command.start_line}"
    runs = [c for c in commands if c.cmd.upper() == "RUN" and not c.json]
    for index, run in enumerate(runs):
        with open(f"{path}.run{index}.sh", "w", encoding="utf-8") as script:
            script.write("#!/bin/sh\n" + " ".join(run.value) + "\n")
    return None


def compose_env(text):
    """Compose's documented .env rules: quotes are stripped (double quotes process escapes),
    unquoted values end at ` #`, whitespace around values is trimmed, `$` interpolates."""
    values = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, _, raw = stripped.partition("=")
        key = key.strip()
        raw = raw.strip()
        if raw[:1] in "\"'" and raw.endswith(raw[0]) and len(raw) > 1:
            value = raw[1:-1]
        else:
            value = raw.split(" #", 1)[0].rstrip()
        if raw[:1] != "'" and "$" in value:
            value = "<interpolated>" + value
        values[key] = value
    return values


def docker_run_env(text):
    """`docker run --env-file` rules: `#` lines are comments, the value is the rest of the line
    after the first `=`, as is (no quote removal, no interpolation)."""
    values = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition("=")
        values[key.lstrip()] = value
    return values


def check_env(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            continue
        key, sep, _ = line.partition("=")
        if not sep or not KEY.match(key):
            return f"line {number} is not KEY=value: {line!r}"
    compose, docker = compose_env(text), docker_run_env(text)
    if compose != docker:
        differ = sorted(k for k in compose.keys() | docker.keys() if compose.get(k) != docker.get(k))
        return f"compose and docker run --env-file read {', '.join(differ)} differently"
    return None


def check_bake(path):
    import hcl2

    with open(path, encoding="utf-8") as handle:
        try:
            data = hcl2.load(handle)
        except Exception as error:  # the parser raises several kinds
            return f"python-hcl2 refused it: {error}"
    def unquote(value):
        # python-hcl2 7 keeps the quotes of string literals; older versions drop them.
        if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1]
        return value

    groups = {unquote(name): body for group in data.get("group", []) for name, body in group.items()}
    if "default" not in groups:
        return "no `group \"default\"`"
    listed = [unquote(t) for t in groups["default"].get("targets", [])]
    targets = {unquote(name): body for target in data.get("target", []) for name, body in target.items()}
    if sorted(listed) != sorted(targets):
        return f"the default group names {listed}, the file defines {sorted(targets)}"
    for name, body in targets.items():
        if not body.get("context") or not body.get("tags"):
            return f"target {name} lacks context or tags"
    return None


def main():
    kind, path = sys.argv[1], sys.argv[2]
    problem = {"dockerfile": check_dockerfile, "env": check_env, "bake": check_bake}[kind](path)
    if problem:
        print(problem)
        sys.exit(1)


if __name__ == "__main__":
    main()
