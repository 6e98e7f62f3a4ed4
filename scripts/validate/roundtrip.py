#!/usr/bin/env python3
"""Hostile strings through imggen, read back by the programs that consume each output.

usage: roundtrip.py IMGGEN CASES SEED

For each consumer, CASES strings (a fixed SEED, so every run tries the same ones) are set in a
profile field that reaches it, and imggen renders. A refusal must be exit status 2 naming the
profile line, with nothing written. An accepted value must come back from the real reader as
exactly the literal:

  Dockerfile ENV and LABEL   buildah builds the rendered instructions; the image config is read
  postgresql.conf            postgres -C, as the postgres user, against the rendered file
  sed replacement            the rendered RUN command, run by sh, edits a sources.list and a
                             deb822 file with GNU sed
  compose YAML               PyYAML and Compose v2 (`docker-compose config`), for the Kerberos
                             script's bind source and for service, volume and network names
                             that YAML would read as null, booleans or numbers
  .env                       Compose v2 interpolating the variable from the rendered .env, and
                             GNU make reading it as the platform's Makefiles do (`-include`,
                             `export`), for the pip index and the ODBC driver URL

Prints one line per consumer and exits non-zero on any mismatch.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

import dockerfile
import yaml

IMGGEN, CASES, SEED = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
VENV_BIN = os.path.dirname(sys.executable)
COMPOSE = os.path.join(VENV_BIN, "docker-compose")
POSTGRES = sys.argv[4] if len(sys.argv) > 4 else "postgres"

# Pieces that break naive quoting somewhere: shell, sed, YAML, Dockerfile, postgresql.conf.
PIECES = ["'", '"', "\\", "$", "${X}", "$(id)", "`id`", "&", "|", "#", " ", ";", "%{", "{{",
          "\n", "\t", "\\n", "é", "😀", "''", "~", "*", "x", "ab", "0", ":", "- ", "!", "="]
# What a URL may hold after the host: those the URL shape lets through, and some it must not.
URL_PIECES = ["&", ";", "(", ")", "!", "*", "+", ",", "=", "?", "#", "%20", "~", "@", ":", "a",
              "b1", "-", "_", ".", "/", "[", "]", "'", "\\", "$", "|", " "]

rng = random.Random(SEED)
work = tempfile.mkdtemp()
os.chmod(work, 0o755)  # the postgres user reads its data folder below
failures = []
tally = {}


def hostile(pieces=PIECES, most=6):
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, most)))


def toml(value):
    """A TOML basic string holding exactly `value`."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def render(name, body, base="debian-prebuilt"):
    """Renders a profile; the output folder, or None when imggen refused it properly."""
    folder = os.path.join(work, name)
    os.makedirs(folder)
    with open(os.path.join(folder, "org.toml"), "w", encoding="utf-8") as f:
        f.write(f'extends = "{base}"\n{body}')
    run = subprocess.run([IMGGEN, "render", "-p", "org.toml", "--out", "out"], cwd=folder,
                         capture_output=True, text=True, check=False)
    out = os.path.join(folder, "out")
    if run.returncode == 2:
        if not run.stderr.startswith("error: org.toml:") or os.path.exists(out):
            failures.append(f"{name}: a refusal must name the profile line and write nothing: "
                            f"{run.stderr.strip()}")
        return None
    if run.returncode != 0:
        failures.append(f"{name}: exit {run.returncode}: {run.stderr.strip()}")
        return None
    return out


def outcome(consumer, accepted):
    literal, refused = tally.setdefault(consumer, [0, 0])
    tally[consumer] = [literal + accepted, refused + (not accepted)]


def accepted(consumer, name, value_of, body_of, count=CASES):
    """Renders `count` profiles, case by case; yields (case, value, output folder) for each one
    imggen accepts (a refusal was checked by `render`)."""
    for case in range(count):
        value = value_of(case)
        out = render(f"{name}-{case}", body_of(value))
        outcome(consumer, out is not None)
        if out is not None:
            yield case, value, out


def expect(consumer, case, got, want):
    if got != want:
        failures.append(f"{consumer}: case {case}: read back {got!r}, wrote {want!r}")


def dockerfile_env_and_labels():
    """ENV and LABEL values, through buildah's Dockerfile reader into an image config."""
    lines, wanted = ["FROM scratch"], {}
    pairs = accepted("Dockerfile ENV/LABEL (buildah)", "docker",
                     lambda case: (case, hostile(), hostile()),
                     lambda v: f"[python.env]\nV{v[0]} = {toml(v[1])}\n"
                               f"[labels]\n\"org.example.v{v[0]}\" = {toml(v[2])}\n")
    for case, (_, env, label), out in pairs:
        wanted[case] = (env, label)
        for command in dockerfile.parse_file(os.path.join(out, "python-runtime", "Dockerfile")):
            if command.cmd.upper() in ("ENV", "LABEL"):
                lines.append(command.original)
    context = os.path.join(work, "docker-context")
    os.makedirs(context)
    with open(os.path.join(context, "Dockerfile"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    tag = "localhost/imggen-roundtrip:latest"
    subprocess.run(["buildah", "build", "-q", "--format", "docker", "-t", tag, context],
                   check=True, capture_output=True)
    inspect = subprocess.run(["buildah", "inspect", "--type", "image", tag], check=True,
                             capture_output=True, text=True)
    subprocess.run(["buildah", "rmi", tag], check=False, capture_output=True)
    config = json.loads(inspect.stdout)["Docker"]["config"]
    env = dict(item.split("=", 1) for item in config.get("Env") or [])
    labels = config.get("Labels") or {}
    for case, (want_env, want_label) in wanted.items():
        expect("ENV", case, env.get(f"V{case}"), want_env)
        expect("LABEL", case, labels.get(f"org.example.v{case}"), want_label)


def postgresql_conf():
    """Text settings, read by PostgreSQL itself (`postgres -C`)."""
    data = os.path.join(work, "pgdata")
    os.makedirs(data)
    shutil.chown(data, "postgres")
    for case, value, out in accepted("postgresql.conf (postgres -C)", "pgconf",
                                     lambda _: hostile(),
                                     lambda v: f"[postgres.settings]\n\"imggen.v\" = {toml(v)}\n"):
        conf = os.path.join(data, "postgresql.conf")
        shutil.copy(os.path.join(out, "postgres", "postgresql.conf"), conf)
        shutil.chown(conf, "postgres")
        read = subprocess.run(["runuser", "-u", "postgres", "--", POSTGRES, "-D", data,
                               "-C", "imggen.v"], capture_output=True, text=True, check=False)
        if read.returncode != 0:
            failures.append(f"postgres: case {case}: {read.stderr.strip()}")
            continue
        expect("postgresql.conf", case, read.stdout.removesuffix("\n"), value)


def sed_mirror():
    """The apt mirror, through the rendered RUN command: sh runs it, GNU sed edits the files."""
    for case, mirror, out in accepted("sed replacement (sh + GNU sed)", "sed",
                                      lambda _: "http://mirror.example/" + hostile(URL_PIECES, 8),
                                      lambda v: f"[corporate]\napt_mirror = {toml(v)}\n"):
        commands = dockerfile.parse_file(os.path.join(out, "python-runtime", "Dockerfile"))
        run = next(c for c in commands if c.cmd.upper() == "RUN" and "sed -i" in c.value[0])
        apt = os.path.join(work, f"apt-{case}")
        os.makedirs(os.path.join(apt, "sources.list.d"))
        with open(os.path.join(apt, "sources.list"), "w", encoding="utf-8") as f:
            f.write("deb http://deb.debian.org/debian bookworm main\n")
        with open(os.path.join(apt, "sources.list.d", "debian.sources"), "w",
                  encoding="utf-8") as f:
            f.write("Types: deb\nURIs: http://deb.debian.org/debian\n")
        subprocess.run(["sh", "-c", run.value[0].replace("/etc/apt/", apt + "/")], check=True)
        base = mirror.rstrip("/")
        with open(os.path.join(apt, "sources.list"), encoding="utf-8") as f:
            expect("sources.list", case, f.read(), f"deb {base}/debian bookworm main\n")
        with open(os.path.join(apt, "sources.list.d", "debian.sources"), encoding="utf-8") as f:
            expect("debian.sources", case, f.read(), f"Types: deb\nURIs: {base}/debian\n")


def compose_config(out, *extra):
    run = subprocess.run([COMPOSE, "--project-directory", out, *extra, "config", "--format",
                          "json"], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        failures.append(f"compose config: {run.stderr.strip()}")
        return None
    return json.loads(run.stdout)


def compose_yaml():
    """The Kerberos test script path, and names YAML would read as something else."""
    edges = ["~/test.py", "~", "./a/../b.py", "a//b"]
    scripts = accepted("compose YAML (PyYAML, Compose v2)", "yaml",
                       lambda case: edges[case - CASES] if case >= CASES else hostile(),
                       lambda v: f"[compose]\nkerberos_test_script = {toml(v)}\n",
                       CASES + len(edges))
    for case, script, out in scripts:
        override = os.path.join(out, "docker-compose.override.yml")
        with open(override, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        volumes = doc["services"]["kerberos-test"]["volumes"]
        expect("PyYAML", case, volumes[1]["source"].replace("$$", "$"), script)
        config = compose_config(out, "-f", override)
        if config is None:
            continue
        # `config` prints a compose file again, so a `$` in a value comes out as `$$`.
        got = config["services"]["kerberos-test"]["volumes"][1]["source"].replace("$$", "$")
        want = script if script.startswith("/") else os.path.join(out, script)
        # Compose cleans the path as Go's filepath.Clean does.
        expect("Compose bind source", case, got, os.path.normpath(want) if
               not want.startswith("//") else got)
    for name in ["null", "true", "yes", "on", "0x1F", "1e3", "0o17", "012", "nan"]:
        out = render(f"names-{name}", f"[compose]\nnetwork = {toml(name)}\n"
                     f"kerberos_cache_volume = {toml(name)}\nkerberos_test_service = "
                     f"{toml(name)}\n")
        outcome("compose names (Compose v2)", out is not None)
        if out is None:
            continue
        config = compose_config(out, "-f", os.path.join(out, "docker-compose.override.yml"))
        if config is None:
            continue
        expect("service name", name, name in config["services"], True)
        expect("network name", name, name in config["networks"], True)
        expect("volume name", name, name in config["volumes"], True)


def dotenv():
    """The pip index URL in .env, interpolated by Compose v2 from that file."""
    for case, url, out in accepted(".env (Compose v2 interpolation)", "env",
                                   lambda _: "https://pypi.example/" + hostile(URL_PIECES, 8),
                                   lambda v: f"[corporate]\npip_index_url = {toml(v)}\n"):
        probe = os.path.join(out, "probe.yml")
        with open(probe, "w", encoding="utf-8") as f:
            f.write("services:\n  probe:\n    image: busybox\n    environment:\n"
                    "      P: ${PIP_INDEX_URL}\n")
        config = compose_config(out, "--env-file", os.path.join(out, ".env"), "-f", probe)
        if config is not None:
            expect(".env", case, config["services"]["probe"]["environment"]["P"], url)


def make_env():
    """The ODBC driver URL in .env, read by GNU make as the platform's Makefiles read theirs
    (`-include` the file, `export`), then by the shell of a recipe."""
    for case, url, out in accepted(".env (GNU make -include, export)", "make",
                                   lambda _: "https://odbc.example/" + hostile(URL_PIECES, 8),
                                   lambda v: f"[corporate]\nodbc_driver_url = {toml(v)}\n"):
        with open(os.path.join(out, "Makefile"), "w", encoding="utf-8") as f:
            f.write("-include .env\nexport\nprobe:\n\t@printf '%s' \"$$ODBC_DRIVER_URL\"\n")
        run = subprocess.run(["make", "-s", "-C", out, "probe"], capture_output=True, text=True,
                             check=False)
        expect(".env (make)", case, run.stdout, url)


for check in (dockerfile_env_and_labels, postgresql_conf, sed_mirror, compose_yaml, dotenv, make_env):
    check()
shutil.rmtree(work, ignore_errors=True)
for consumer, (literal, refused) in tally.items():
    print(f"{consumer:40} {literal:4} read back as written, {refused:4} refused")
for failure in failures:
    print(f"FAIL {failure}")
print(f"{len(failures)} mismatches")
sys.exit(1 if failures else 0)
