"""Compares a built image's configuration (`buildah inspect --type image` or `docker image
inspect`, on stdin) with the Dockerfile it was built from: the last USER, HEALTHCHECK (its
command), ENV names, EXPOSEd ports, and CMD/ENTRYPOINT in JSON form must all be in the image.
Prints what differs; exit 1 then.

Usage: buildah inspect --type image TAG | config_matches.py DOCKERFILE
       docker image inspect TAG | config_matches.py DOCKERFILE"""

import json
import re
import shlex
import sys


def instructions(path):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"\\\n", " ", text)  # continuation lines
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            yield keyword.upper(), rest.strip()


def main():
    inspected = json.load(sys.stdin)
    # docker prints a list of images, each with its "Config"; buildah one image, its Docker
    # configuration under "Docker"/"config".
    config = inspected[0]["Config"] if isinstance(inspected, list) else inspected["Docker"]["config"]
    problems = []
    user = healthcheck = None
    for keyword, rest in instructions(sys.argv[1]):
        if keyword == "FROM":
            user = healthcheck = None  # a new stage
        elif keyword == "USER":
            user = rest
        elif keyword == "HEALTHCHECK":
            healthcheck = rest
        elif keyword == "ENV":
            for name in re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", rest):
                if not any(e.startswith(name + "=") for e in config.get("Env") or []):
                    problems.append(f"ENV {name} missing")
        elif keyword == "EXPOSE":
            for port in rest.split():
                port = port if "/" in port else port + "/tcp"
                if port not in (config.get("ExposedPorts") or {}):
                    problems.append(f"EXPOSE {port} missing")
        elif keyword in ("CMD", "ENTRYPOINT") and rest.startswith("["):
            key = "Cmd" if keyword == "CMD" else "Entrypoint"
            if config.get(key) != json.loads(rest):
                problems.append(f"{keyword} {rest} is {config.get(key)}")
    if user is not None and config.get("User") != user:
        problems.append(f"USER {user} is {config.get('User')!r}")
    if healthcheck is not None:
        built = config.get("Healthcheck") or {}
        command = healthcheck.split(" CMD ", 1)[-1].strip()
        words = json.loads(command) if command.startswith("[") else shlex.split(command)
        if not built or not all(w in " ".join(built.get("Test", [])) for w in words):
            problems.append(f"HEALTHCHECK {command} is {built or 'missing'}")
    for problem in problems:
        print(problem)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
