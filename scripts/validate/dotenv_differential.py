"""Differential test of imggen's `.env` reader and writer against the real Compose v2.

Generates random `.env` texts from the pieces people (and attackers) write: `export`, every kind
of blank (space, tab, vertical tab, form feed, NBSP, NEL), `=` and `:`, quotes that span lines
and hold lines that look like assignments, backslashes, comments, CRLF. For each text:

  * imggen (examples/dotenv_rewrite) reads IMAGE_X and sets it to a new value, as `apply` does:
    once dropping the values it replaces, once keeping them as `# before imggen apply, IMAGE_X was …` comments;
  * Compose reads the text before and after (`env_file:` of one service per text, in one
    `docker-compose config` run);
  * after each rewrite Compose must read the new IMAGE_X and every other key as before (the
    kept rewrite must hold a comment for a value Compose read that differs from the new); what
    imggen read must be what Compose read (when imggen gives a decoded value); a text Compose
    refuses, imggen must refuse too, and the other way round.

Usage: dotenv_differential.py DOTENV-REWRITE DOCKER-COMPOSE [CASES] [SEED]
Prints each disagreement; exit 1 on any.
"""

import json
import os
import random
import subprocess
import sys
import tempfile

NEW = "imggen/new:1"
KEYS = ["IMAGE_X", "A", "SECRET", "B_2"]
BLANKS = [" ", "\t", "\v", "\f", "\u00a0", "\u0085", "\u3000"]
# No `$`: Compose interpolates it, and imggen leaves it as written (its values never hold one).
WORD = "abcXYZ019_./-:@%+=,"


def blanks(rng, most=2):
    return "".join(rng.choice(BLANKS) for _ in range(rng.randint(0, most)))


def bare(rng):
    return "".join(rng.choice(WORD) for _ in range(rng.randint(0, 8)))


def quoted(rng):
    quote = rng.choice(['"', "'"])
    parts = []
    for _ in range(rng.randint(0, 4)):
        parts.append(
            rng.choice(
                [
                    bare(rng),
                    "\n",
                    f"\n{rng.choice(KEYS)}=inside-a-quote\n",
                    " # not a comment",
                    "\\" + rng.choice(['"', "'", "n", "\\"]) if quote == '"' else "x",
                    rng.choice(BLANKS),
                ]
            )
        )
    return quote + "".join(parts) + quote


def statement(rng):
    key = rng.choice(KEYS)
    prefix = blanks(rng) + ("export" + rng.choice(BLANKS[:4]) if rng.random() < 0.2 else "")
    separator = blanks(rng, 1) + rng.choice(["=", ":"]) + blanks(rng)
    value = quoted(rng) if rng.random() < 0.5 else bare(rng)
    tail = rng.choice(["", blanks(rng), " # note", "\t#x", blanks(rng) + " # c"])
    return prefix + key + separator + value + tail


def text(rng):
    lines = []
    for _ in range(rng.randint(1, 6)):
        choice = rng.random()
        if choice < 0.1:
            lines.append(blanks(rng) + "# " + bare(rng))
        elif choice < 0.15:
            lines.append(blanks(rng))
        elif choice < 0.3 and lines:
            # On the same line: after a closing quote the next statement starts at once (and
            # may start on a line that began inside the quote); else it is the value's rest.
            lines[-1] += blanks(rng, 1) + statement(rng)
        else:
            lines.append(statement(rng))
    ending = "\r\n" if rng.random() < 0.2 else "\n"
    return ending.join(lines) + (ending if rng.random() < 0.8 else "")


def compose_read(compose, folder, files):
    """{file: {key: value}} as Compose reads each file (env_file), or the error it printed."""
    services = {f"s{i}": {"image": "x", "env_file": [path]} for i, path in enumerate(files)}
    with open(os.path.join(folder, "compose.yml"), "w", encoding="utf-8") as handle:
        json.dump({"services": services}, handle)
    run = subprocess.run(
        [compose, "-f", "compose.yml", "config", "--format", "json"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0 or not run.stdout.strip():
        return run.stderr or f"exit {run.returncode}, no output"
    config = json.loads(run.stdout)["services"]
    return {path: config[f"s{i}"].get("environment") or {} for i, path in enumerate(files)}


def main():
    rewrite, compose = sys.argv[1], sys.argv[2]
    cases = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else random.randrange(1 << 30)
    rng = random.Random(seed)
    problems = []
    with tempfile.TemporaryDirectory() as folder:
        accepted, refused = [], []
        for i in range(cases):
            before = f"case{i}.env"
            with open(os.path.join(folder, before), "w", encoding="utf-8", newline="") as handle:
                handle.write(text(rng))
            run = subprocess.run(
                [rewrite, before, "IMAGE_X", NEW, f"case{i}.after.env", f"case{i}.kept.env"],
                cwd=folder,
                capture_output=True,
                text=True,
            )
            if run.returncode == 3:
                refused.append(before)
            elif run.returncode == 0:
                accepted.append((before, json.loads(run.stdout)))
            else:
                problems.append(f"{before}: dotenv_rewrite failed: {run.stderr}")
        # What imggen refuses, Compose must refuse too (one file at a time).
        for before in refused:
            if isinstance(compose_read(compose, folder, [before]), dict):
                problems.append(f"{before}: imggen finds an unclosed quote, Compose reads it")
        files = [b for b, _ in accepted] + [
            b.replace(".env", suffix) for suffix in (".after.env", ".kept.env") for b, _ in accepted
        ]
        read = compose_read(compose, folder, files)
        if not isinstance(read, dict):
            # Find which: Compose refuses a file imggen read and rewrote.
            for name in files:
                if not isinstance(compose_read(compose, folder, [name]), dict):
                    problems.append(f"{name}: Compose refuses it, imggen read it")
        else:
            for before, imggen_read in accepted:
                old = read[before]
                for suffix in (".after.env", ".kept.env"):
                    after = before.replace(".env", suffix)
                    new = read[after]
                    if new.get("IMAGE_X") != NEW:
                        problems.append(f"{after}: after the rewrite Compose reads IMAGE_X={new.get('IMAGE_X')!r}")
                    for key in set(old) | set(new):
                        if key != "IMAGE_X" and old.get(key) != new.get(key):
                            problems.append(f"{after}: the rewrite changed {key}: {old.get(key)!r} -> {new.get(key)!r}")
                kept = os.path.join(folder, before.replace(".env", ".kept.env"))
                with open(kept, encoding="utf-8", newline="") as handle:
                    commented = "# before imggen apply, IMAGE_X was " in handle.read()
                if old.get("IMAGE_X") not in (None, NEW) and not commented:
                    problems.append(f"{before}: the kept rewrite holds no comment for IMAGE_X={old.get('IMAGE_X')!r}")
                # imggen gives a quoted value with a backslash as written (it equals no value
                # imggen writes); every other value must be Compose's.
                raw = isinstance(imggen_read, str) and imggen_read[:1] in "\"'" and "\\" in imggen_read
                if not raw and imggen_read != old.get("IMAGE_X"):
                    problems.append(f"{before}: imggen reads IMAGE_X={imggen_read!r}, Compose {old.get('IMAGE_X')!r}")
        for problem in problems:
            name = problem.split(":", 1)[0].replace(".after", "").replace(".kept", "")
            path = os.path.join(folder, name)
            shown = open(path, encoding="utf-8", newline="").read() if os.path.exists(path) else ""
            print(f"{problem}\n    text: {shown!r}")
    print(f"{cases} generated .env texts (seed {seed}): {len(refused)} refused by both, "
          f"{len(problems)} disagreements with Compose")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
