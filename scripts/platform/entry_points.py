"""Every way the platform starts things, run on a copy of its real checkout after `imggen apply`:
each entry point must resolve the profile's value for every key imggen sets.

The platform's own programs do the reading: GNU make runs its Makefiles (with a recording
`docker` first on PATH whose `compose up` runs the real Compose v2's `config`, see ./docker),
the real Compose v2 reads each project folder as `docker compose` run there would, bash sources
`platform-bootstrap/.env` and evaluates the Kerberos setup script's own line that picks the test
image, and the platform's Python wizard runs headless through its own engine (every question
answered with Enter, as its acceptance tests drive it).

Usage: entry_points.py IMGGEN COMPOSE CHECKOUT WORK PROFILE...
Prints one line per check and ends with `N passed, M failed`; exits 1 on any failure."""

import json
import os
import shutil
import stat
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "validate"))
from check_apply import rendered_env  # noqa: E402  (plain KEY=value lines, as imggen writes)
passed = 0
failed = 0


def result(ok, profile, check, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok    {profile:<20} {check}")
    else:
        failed += 1
        print(f"FAIL  {profile:<20} {check}")
        for line in str(detail).splitlines()[-40:]:
            print(f"      {line}")


def copy_checkout(source, target):
    shutil.copytree(source, target, symlinks=True)
    for root, dirs, files in os.walk(target):
        for name in dirs + files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR)


class Platform:
    """A copy of the checkout with imggen applied, and a clean environment to run its tools in."""

    def __init__(self, imggen, compose, checkout, work, profile):
        self.dir = os.path.join(work, profile, "checkout")
        self.record = os.path.join(work, profile, "record")
        os.makedirs(self.record)
        copy_checkout(checkout, self.dir)
        self.imggen = imggen
        self.profile = profile
        bin_dir = os.path.join(work, profile, "bin")
        os.makedirs(bin_dir)
        shutil.copy(os.path.join(HERE, "docker"), os.path.join(bin_dir, "docker"))
        # No network here: the sidecar's build check (kerberos-sidecar/scripts/
        # check-build-requirements.sh) asks Microsoft's download site with curl; it is told yes.
        with open(os.path.join(bin_dir, "curl"), "w", encoding="utf-8") as handle:
            handle.write("#!/bin/sh\nexit 0\n")
        os.chmod(os.path.join(bin_dir, "curl"), 0o755)
        # No IMAGE_* (or other platform key) from the caller's environment: only the
        # checkout's files decide.
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("IMAGE_", "POSTGRES_", "PIP_", "COMPOSE_", "MAKE"))
        }
        self.env.update(
            PATH=f"{bin_dir}:{os.environ['PATH']}",
            RECORD=self.record,
            IMGGEN_COMPOSE=compose,
            HOME=os.path.join(work, profile, "home"),
        )
        os.makedirs(self.env["HOME"])
        self.compose = compose

    def run(self, args, cwd=None, stdin=None):
        return subprocess.run(
            args,
            cwd=cwd or self.dir,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def apply(self, *extra):
        return self.run([self.imggen, "apply", "--platform", ".", "-p", self.profile, *extra])

    def calls(self):
        path = os.path.join(self.record, "calls")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as handle:
            return [line.rstrip("\n").split("\t") for line in handle]

    def composed(self):
        """The configurations `docker compose up` was given, by project folder (last wins)."""
        configs = {}
        calls = [c for c in self.calls() if c[1:2] == ["compose"] and "up" in c]
        files = sorted(
            (f for f in os.listdir(self.record) if f.startswith("compose-")),
            key=lambda f: int(f[len("compose-") : -len(".json")]),
        )
        for call, name in zip(calls, files):
            with open(os.path.join(self.record, name), encoding="utf-8") as handle:
                configs[os.path.relpath(call[0], self.dir)] = json.load(handle)
        return configs

    def reset_record(self):
        shutil.rmtree(self.record)
        os.makedirs(self.record)


# The services each compose project runs from an image key, and the keys its environment
# takes from interpolation (from the platform's compose files).
SERVICES = {
    "platform-infrastructure": {"platform-postgres": "IMAGE_POSTGRES"},
    "openmetadata": {
        "openmetadata-migrate": "IMAGE_OPENMETADATA_SERVER",
        "openmetadata-server": "IMAGE_OPENMETADATA_SERVER",
        "openmetadata-opensearch": "IMAGE_OPENSEARCH",
    },
}
ENVIRONMENT = {("platform-postgres", "POSTGRES_HOST_AUTH_METHOD")}


def config_problems(config, project, expected):
    problems = []
    services = config.get("services", {})
    for service, key in SERVICES.get(project, {}).items():
        image = services.get(service, {}).get("image")
        if image != expected[key]:
            problems.append(f"{service}: runs `{image}`, the profile's {key} is `{expected[key]}`")
    for service, key in ENVIRONMENT:
        if service in services:
            value = (services[service].get("environment") or {}).get(key) or ""
            if value != expected.get(key, ""):
                problems.append(f"{service}: {key}=`{value}`, the profile's is `{expected.get(key, '')}`")
    return problems


def check_make_start(p, expected):
    """`make start` in each compose project: the Makefile's own env file, exported."""
    for project in ("platform-infrastructure", "openmetadata"):
        p.reset_record()
        out = p.run(["make", "-C", project, "start"])
        configs = p.composed()
        problems = [] if out.returncode == 0 else [out.stdout + out.stderr]
        if project not in configs:
            problems.append(f"no `docker compose up` in {project}: {p.calls()}")
        else:
            problems += config_problems(configs[project], project, expected)
        result(not problems, p.profile, f"make start in {project}: the profile's images", "\n".join(problems))


def check_platform_start(p, expected):
    """`make platform-start` in platform-bootstrap: every enabled project, from the central file."""
    p.reset_record()
    out = p.run(
        ["make", "-C", "platform-bootstrap", "platform-start", "ENABLE_OPENMETADATA=true", "ENABLE_KERBEROS=true"]
    )
    configs = p.composed()
    problems = [] if out.returncode == 0 else [out.stdout + out.stderr]
    for project in ("platform-infrastructure", "openmetadata"):
        if project not in configs:
            problems.append(f"no `docker compose up` in {project}")
        else:
            problems += config_problems(configs[project], project, expected)
    problems += alpine_build_problems(p, expected)
    result(not problems, p.profile, "make platform-start (platform-bootstrap): the profile's images", "\n".join(problems))


def alpine_build_problems(p, expected):
    """The Kerberos sidecar's build (what `make start` in kerberos runs when it has no image)."""
    builds = [c for c in p.calls() if c[1:2] == ["build"] and c[0].endswith("kerberos-sidecar")]
    if not builds:
        return ["the Kerberos sidecar was not built"]
    want = f"IMAGE_ALPINE={expected['IMAGE_ALPINE']}"
    args = builds[-1]
    if want not in args:
        return [f"the sidecar is built without `--build-arg {want}`: {args[1:]}"]
    return []


def check_kerberos_start(p, expected):
    p.reset_record()
    out = p.run(["make", "-C", "kerberos", "start"])
    problems = [] if out.returncode == 0 else [out.stdout + out.stderr]
    problems += alpine_build_problems(p, expected)
    pulls = [c[2] for c in p.calls() if c[1:2] == ["pull"]]
    if pulls and pulls[0] != expected["IMAGE_ALPINE"]:
        problems.append(f"the build check pulls `{pulls[0]}`")
    result(not problems, p.profile, "make start in kerberos: the sidecar builds FROM the profile's IMAGE_ALPINE", "\n".join(problems))


def check_compose_direct(p, expected):
    """`docker compose` run in a project folder reads only the folder's own `.env`."""
    for project in ("platform-infrastructure", "openmetadata"):
        out = p.run([p.compose, "config", "--format", "json"], cwd=os.path.join(p.dir, project))
        problems = [out.stderr] if out.returncode else config_problems(json.loads(out.stdout), project, expected)
        result(not problems, p.profile, f"docker compose in {project}: the profile's images", "\n".join(problems))


def check_setup_pagila(p, expected):
    """`make setup-pagila` passes IMAGE_POSTGRES from the central file to its script."""
    out = p.run(["make", "-n", "-C", "platform-bootstrap", "setup-pagila"])
    want = f'IMAGE_POSTGRES="{expected["IMAGE_POSTGRES"]}"'
    result(want in out.stdout, p.profile, "make setup-pagila: passes the profile's IMAGE_POSTGRES", out.stdout + out.stderr)


def check_test_containers(p, expected):
    """The test containers' build targets: prebuilt, the image is pulled and tagged as the
    platform's; otherwise the platform's Dockerfile is built FROM it."""
    for folder, target, key, switch, tag in (
        ("platform-infrastructure", "build-postgres-test", "IMAGE_POSTGRES_TEST", "POSTGRES_TEST_PREBUILT", "platform/postgres-test:latest"),
        ("platform-infrastructure", "build-sqlcmd-test", "IMAGE_SQLCMD_TEST", "SQLCMD_TEST_PREBUILT", "platform/sqlcmd-test:latest"),
        ("pagila", "build-pagila-test", "IMAGE_PAGILA_TEST", "PAGILA_TEST_PREBUILT", "platform/pagila-test:latest"),
    ):
        p.reset_record()
        out = p.run(["make", "-C", folder, target])
        calls = [c[1:] for c in p.calls()]
        if expected[switch] == "true":
            want = ["tag", expected[key], tag]
            ok = want in calls
        else:
            want = f"BASE_IMAGE={expected[key]}"
            ok = any(c[:1] == ["build"] and want in c for c in calls)
        result(ok and out.returncode == 0, p.profile, f"make {target} ({folder}): {key} (prebuilt: {expected[switch]})",
               f"wanted {want}, calls: {calls}\n{out.stdout}{out.stderr}")


def check_odbc(p, expected):
    """kerberos-sidecar's legacy build (`-include ../.env`) passes ODBC_DRIVER_URL on."""
    if "ODBC_DRIVER_URL" not in expected:
        return
    p.reset_record()
    out = p.run(["make", "-C", "kerberos/kerberos-sidecar", "build-legacy"])
    want = f"ODBC_DRIVER_URL={expected['ODBC_DRIVER_URL']}"
    builds = [c[1:] for c in p.calls() if c[1:2] == ["build"]]
    ok = out.returncode == 0 and any(want in c for c in builds)
    result(ok, p.profile, "make build-legacy (kerberos-sidecar): the profile's ODBC_DRIVER_URL", f"builds: {builds}\n{out.stderr}")


def check_mock_services(p, expected):
    """The mock services' compose file, run with `-f` in platform-bootstrap: that folder's .env.
    Its one service is in the `optional` profile (the platform's `make mock-start` passes no
    `--profile`, so it starts nothing: read as the file's own comment runs it, with it)."""
    out = p.run([p.compose, "-f", "docker-compose.mock-services.yml", "--profile", "optional", "config", "--format", "json"],
                cwd=os.path.join(p.dir, "platform-bootstrap"))
    image = json.loads(out.stdout).get("services", {}).get("mock-delinea", {}).get("image") if out.returncode == 0 else None
    result(image == expected["IMAGE_MOCKSERVER"], p.profile, "docker compose -f docker-compose.mock-services.yml: the profile's IMAGE_MOCKSERVER",
           f"runs `{image}`\n{out.stderr}")


def script_line(path, start):
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip().startswith(start):
                return line.strip()
    raise SystemExit(f"{path}: no line starting with {start!r}: the platform changed; update this check")


def check_kerberos_setup_script(p, expected):
    """kerberos/setup.sh (`make setup` in kerberos) picks the Kerberos test image with its own
    line after sourcing `$PLATFORM_DIR/.env`. As shipped its PLATFORM_DIR is the checkout's root,
    where test_kerberos_simple.py is not, and its test is skipped (scripts/e2e-docker.sh checks
    that); here, as there, the line runs with PLATFORM_DIR at the folder that holds the test,
    platform-bootstrap, after the same source."""
    line = script_line(os.path.join(p.dir, "kerberos/setup.sh"), "local test_image=")
    program = (
        'f() { source platform-bootstrap/.env 2>/dev/null || true; '
        + line
        + '; local image_mode="${IMAGE_MODE:-layered}"; printf "%s %s" "$test_image" "$image_mode"; }; f'
    )
    out = p.run(["bash", "-c", program])
    want = f"{expected['IMAGE_KERBEROS_TEST']} {expected['IMAGE_MODE']}"
    result(out.stdout == want, p.profile, "kerberos/setup.sh: the profile's Kerberos test image and mode",
           f"runs `{out.stdout}`, the profile's are `{want}`\n{out.stderr}")


def check_bootstrap_kerberos_script(p, expected):
    """platform-bootstrap/dev-tools/setup-kerberos.sh (`make kerberos-setup`) sources the same
    file and runs its ticket test in IMAGE_PYTHON (with a runtime install; apply says so): its
    own line picks the profile's Python image."""
    line = script_line(os.path.join(p.dir, "platform-bootstrap/dev-tools/setup-kerberos.sh"), "local test_image=")
    program = 'f() { source platform-bootstrap/.env 2>/dev/null || true; ' + line + '; printf "%s" "$test_image"; }; f'
    out = p.run(["bash", "-c", program])
    result(out.stdout == expected["IMAGE_PYTHON"], p.profile, "dev-tools/setup-kerberos.sh: the profile's IMAGE_PYTHON",
           f"runs `{out.stdout}`\n{out.stderr}")


WIZARD = """
import sys
sys.path.insert(0, '.')
from wizard.engine.engine import WizardEngine
from wizard.engine.runner import RealActionRunner

class Enter(RealActionRunner):
    # Every question answered with Enter: the default the wizard offers.
    def get_input(self, prompt, default=None):
        self.display(f"{prompt} [{default}]")
        if default is None:
            return ''
        return default if isinstance(default, bool) else str(default)

engine = WizardEngine(runner=Enter(), base_path='wizard')
engine.execute_flow('setup')
"""


def check_wizard(p, expected, python):
    """The Python wizard (`./platform setup`), run headless after apply, rewrites
    platform-bootstrap/.env whole: it must keep the profile's IMAGE_POSTGRES, and `apply --check`
    must then say which keys it dropped, and `apply` put them back."""
    p.reset_record()
    before = rendered_env(os.path.join(p.dir, "platform-bootstrap/.env"))
    out = p.run([python, "-c", WIZARD])
    if out.returncode:
        result(False, p.profile, "the platform's Python wizard runs headless", out.stdout + out.stderr)
        return
    env = rendered_env(os.path.join(p.dir, "platform-bootstrap/.env"))
    default = "postgres:17.5-alpine"
    want = expected["IMAGE_POSTGRES"]
    got = env.get("IMAGE_POSTGRES", default)
    result(got == want, p.profile, "./platform setup keeps the profile's IMAGE_POSTGRES in platform-bootstrap/.env",
           f"wrote `{got}`\n{out.stdout[-3000:]}")
    check = p.apply("--check")
    dropped = [k for k in before if k in expected and k not in env]
    named = dropped and all(f"  {k}: unset -> " in check.stdout for k in dropped)
    result(check.returncode == 1 and named, p.profile, f"apply --check after the wizard: exit 1 naming {', '.join(dropped)}",
           check.stdout + check.stderr)
    again = p.apply()
    check = p.apply("--check")
    result(again.returncode == 0 and check.returncode == 0, p.profile, "apply after the wizard: every key back, --check agrees",
           again.stdout + again.stderr + check.stdout + check.stderr)


# platform-bootstrap/.env as the platform's Python wizard writes it, by its own function: its
# secrets, and an earlier IMAGE_POSTGRES.
WIZARD_ENV = """
import sys
sys.path.insert(0, '.')
from wizard.services.base_platform.actions import _build_env_file_content
sys.stdout.write(_build_env_file_content('s3cret-Pa55', 'md5', 'postgres:16', openmetadata_enabled=True))
"""


def check_kept_value(p, expected):
    """A value the user set by hand after apply is what `make start` runs, after apply again."""
    path = os.path.join(p.dir, "platform-infrastructure/.env")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    mine = "mycorp/postgres:17-mine"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text.replace(f"IMAGE_POSTGRES={expected['IMAGE_POSTGRES']}\n", f"IMAGE_POSTGRES={mine}\n"))
    again = p.apply()
    p.reset_record()
    out = p.run(["make", "-C", "platform-infrastructure", "start"])
    configs = p.composed()
    image = configs.get("platform-infrastructure", {}).get("services", {}).get("platform-postgres", {}).get("image")
    ok = again.returncode == 0 and out.returncode == 0 and image == mine and "kept IMAGE_POSTGRES=" in again.stdout
    result(ok, p.profile, "a value kept by hand is what make start runs", f"runs `{image}`\n{again.stdout}{again.stderr}{out.stderr}")
    forced = p.apply("--force")
    result(forced.returncode == 0, p.profile, "apply --force sets the profile's value again", forced.stdout + forced.stderr)


READ_CONFIG = """
import json, sys, yaml
print(json.dumps(yaml.safe_load(open('platform-config.yaml'))))
"""


def check_hand_config(p, expected, python):
    """platform-config.yaml as a person keeps it (the platform's example, which the wizard copies
    when there is none, with their notes, a YAML 1.1 `yes` and an image of their own): apply
    --force edits it in place, so the notes and `yes` stay and their image stays as a comment; the
    wizard's reader (PyYAML) finds the profile's images, and the wizard writes them to .env."""
    path = os.path.join(p.dir, "platform-config.yaml")
    with open(os.path.join(p.dir, "platform-config.yaml.example"), encoding="utf-8") as handle:
        example = handle.read()
    mine = "mycorp/ubuntu:22.04"
    text = "# ops: ask before changing\n" + example.replace("enabled: true", "enabled: yes  # by hand", 1) \
        .replace("image: ubuntu:22.04", f"image: {mine}")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    out = p.apply("--force")
    with open(path, encoding="utf-8") as handle:
        after = handle.read()
    read = p.run([python, "-c", READ_CONFIG])
    config = json.loads(read.stdout) if read.returncode == 0 else {}
    services = config.get("services", {})
    kerberos, postgres = services.get("kerberos", {}), services.get("postgres", {})
    ok = (out.returncode == 0 and "# ops: ask before changing\n" in after and "enabled: yes  # by hand\n" in after
          and f"# before imggen apply, image was {mine}\n" in after and kerberos.get("enabled") is True
          and kerberos.get("image") == expected["IMAGE_KERBEROS_TEST"]
          and postgres.get("image") == expected["IMAGE_POSTGRES"])
    result(ok, p.profile, "a hand-kept platform-config.yaml: edited in place, PyYAML reads the profile's images",
           after + out.stdout + out.stderr + read.stderr)
    wizard = p.run([python, "-c", WIZARD])
    env = rendered_env(os.path.join(p.dir, "platform-bootstrap/.env"))
    # The wizard writes IMAGE_POSTGRES only when it is not the platform's default.
    got = env.get("IMAGE_POSTGRES", "postgres:17.5-alpine")
    result(wizard.returncode == 0 and got == expected["IMAGE_POSTGRES"], p.profile,
           "./platform setup on that file writes the profile's IMAGE_POSTGRES", wizard.stdout[-3000:] + wizard.stderr)


def main():
    imggen, compose, checkout, work, *profiles = sys.argv[1:]
    python = sys.executable
    for profile in profiles:
        p = Platform(imggen, compose, checkout, work, profile)
        central = p.run([python, "-c", WIZARD_ENV]).stdout
        with open(os.path.join(p.dir, "platform-bootstrap/.env"), "w", encoding="utf-8") as handle:
            handle.write(central)
        out = p.apply()
        result(out.returncode == 0, profile, "imggen apply on a copy of the checkout the wizard configured", out.stdout + out.stderr)
        if out.returncode:
            continue
        with open(os.path.join(p.dir, "platform-bootstrap/.env"), encoding="utf-8") as handle:
            after = handle.read()
        secrets = [line for line in central.splitlines() if "PASSWORD" in line]
        result(secrets and all(line in after.splitlines() for line in secrets) and "s3cret" not in out.stdout + out.stderr,
               profile, "the wizard's secrets stay in platform-bootstrap/.env, and are never printed", after)
        expected = rendered_env(os.path.join(p.dir, "imggen/.env"))
        earlier = "# before imggen apply, IMAGE_POSTGRES was postgres:16\n"
        result(earlier in after and "IMAGE_POSTGRES" in out.stdout.split("comments:")[-1],
               profile, "the wizard's earlier IMAGE_POSTGRES stays in platform-bootstrap/.env as a comment, and is named",
               after + out.stdout)
        check_make_start(p, expected)
        check_platform_start(p, expected)
        check_kerberos_start(p, expected)
        check_compose_direct(p, expected)
        check_setup_pagila(p, expected)
        check_test_containers(p, expected)
        check_mock_services(p, expected)
        check_odbc(p, expected)
        check_kerberos_setup_script(p, expected)
        check_bootstrap_kerberos_script(p, expected)
        check_wizard(p, expected, python)
        check_kept_value(p, expected)
        check_hand_config(p, expected, python)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
