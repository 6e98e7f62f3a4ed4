"""Writes N generated profiles into DIR/profiles: variations of the built-ins across the knobs.

Deterministic (no randomness), so every run measures the same set.
Usage: gen_profiles.py DIR N
"""

import os
import sys

BASES = ["alpine-layered", "alpine-prebuilt", "debian-layered", "debian-prebuilt", "corporate-hardened"]


def profile(i):
    lines = [f'extends = "{BASES[i % len(BASES)]}"', f'description = "generated variation {i}"']
    python = []
    if i % 3 == 0:
        python += ["data_science = true", f'pip_packages = ["pkg-{i}"]']
    elif i % 3 == 1:
        python += ["airflow = true", f'tag = "org/python:{i}"']
    if i % 5 == 2:
        python.append('system_packages = ["curl", "git"]')
    if python:
        lines += ["[python]", *python]
    if i % 4 == 0:
        lines += ["[labels]", f'"org.opencontainers.image.revision" = "r{i}"']
    if i % 7 == 0:
        lines += ["[postgres.settings]", f"max_connections = {100 + i}"]
    if i % 11 == 0:
        lines += ["[compose]", f'network = "net_{i}"']
    return "\n".join(lines) + "\n"


def main():
    folder, count = sys.argv[1], int(sys.argv[2])
    os.makedirs(os.path.join(folder, "profiles"), exist_ok=True)
    for i in range(count):
        with open(os.path.join(folder, "profiles", f"gen-{i:05d}.toml"), "w", encoding="utf-8") as f:
            f.write(profile(i))


if __name__ == "__main__":
    main()
