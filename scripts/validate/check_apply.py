"""Reads a platform project's merged Compose configuration (`docker-compose config --format json`,
the real Compose v2) before and after `imggen apply`, and says what apply changed that it must
not: every service keeps its environment (but for the image keys apply owns, which must read as
imggen rendered them), networks and volumes; no service, network or volume appears or goes;
each image is the one `.env` (as rendered by imggen) names; a build context apply added exists
and holds a Dockerfile.

Usage: check_apply.py BEFORE.json AFTER.json RENDERED.env"""

import json
import os
import sys

# Keys imggen owns in the platform's .env files (the platform's contract).
OWNED = {
    "IMAGE_MODE",
    "POSTGRES_HOST_AUTH_METHOD",
    "POSTGRES_TEST_PREBUILT",
    "SQLCMD_TEST_PREBUILT",
    "PAGILA_TEST_PREBUILT",
    "ODBC_DRIVER_URL",
}
# Which variable each platform service's image comes from.
IMAGE_OF = {
    "platform-postgres": "IMAGE_POSTGRES",
    "openmetadata-migrate": "IMAGE_OPENMETADATA_SERVER",
    "openmetadata-server": "IMAGE_OPENMETADATA_SERVER",
    "openmetadata-opensearch": "IMAGE_OPENSEARCH",
}


def rendered_env(path):
    values = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key] = value
    return values


def unowned(environment):
    return {
        k: v
        for k, v in (environment or {}).items()
        if k not in OWNED and not k.startswith("IMAGE_")
    }


def main():
    before, after = (json.load(open(p, encoding="utf-8")) for p in sys.argv[1:3])
    env = rendered_env(sys.argv[3])
    problems = []
    for top in ("services", "networks", "volumes"):
        if sorted(before.get(top, {})) != sorted(after.get(top, {})):
            problems.append(f"{top}: {sorted(before.get(top, {}))} became {sorted(after.get(top, {}))}")
    for name, service in after.get("services", {}).items():
        old = before.get("services", {}).get(name, {})
        for key in ("networks", "volumes", "command", "env_file", "ports", "depends_on"):
            if old.get(key) != service.get(key):
                problems.append(f"{name}: `{key}` changed")
        if unowned(old.get("environment")) != unowned(service.get("environment")):
            problems.append(f"{name}: environment changed beyond the image keys")
        # What compose now reads from the project's .env (through env_file or an
        # `environment:` entry) for a key imggen owns is what imggen rendered.
        for key, value in (service.get("environment") or {}).items():
            if (key.startswith("IMAGE_") or key in OWNED) and key in env and value != env[key]:
                problems.append(f"{name}: compose reads {key}={value!r}, imggen rendered {env[key]!r}")
        variable = IMAGE_OF.get(name)
        if variable and service.get("image") != env.get(variable):
            problems.append(f"{name}: image {service.get('image')!r}, .env says {env.get(variable)!r}")
        build, old_build = service.get("build"), old.get("build")
        if build and (not old_build or old_build.get("context") != build.get("context")):
            # A build apply added: its context is one imggen rendered.
            dockerfile = os.path.join(build["context"], build.get("dockerfile", "Dockerfile"))
            if not os.path.isfile(dockerfile):
                problems.append(f"{name}: build context without {dockerfile}")
        elif old_build and build:
            # The project's own build: only its image build arguments may follow the .env.
            def unowned_build(b):
                rest = {k: v for k, v in b.items() if k != "args"}
                return rest, sorted(b.get("args") or {}), unowned(b.get("args"))
            if unowned_build(old_build) != unowned_build(build):
                problems.append(f"{name}: its own build changed beyond image arguments")
    for problem in problems:
        print(problem)
    print(f"{len(after.get('services', {}))} services checked")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
