"""Two commands timed side by side: runs alternate (A, B, A, B, …) so both see the same machine.

Usage: side_by_side.py RUNS CWD_A CWD_B -- COMMAND_A... -- COMMAND_B...
Prints `median_a_ms median_b_ms ratio` (ratio = A / B). Each run is a cold process; a
command's folder is emptied of the files the command writes before each run (the
`SIDE_BY_SIDE_CLEAN_A`/`_B` environment variables name them, space-separated), so every
run does the same work.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time


def clean(cwd, names):
    for name in names.split():
        path = os.path.join(cwd, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)


def timed(cwd, command, names):
    clean(cwd, names)
    # The removal's own writes reach the disk before the clock starts (see measure.py).
    os.sync()
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def main():
    runs, cwd_a, cwd_b = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    rest = sys.argv[4:]
    first = rest.index("--")
    second = rest.index("--", first + 1)
    command_a, command_b = rest[first + 1:second], rest[second + 1:]
    clean_a = os.environ.get("SIDE_BY_SIDE_CLEAN_A", "")
    clean_b = os.environ.get("SIDE_BY_SIDE_CLEAN_B", "")
    a, b = [], []
    for _ in range(runs):
        a.append(timed(cwd_a, command_a, clean_a))
        b.append(timed(cwd_b, command_b, clean_b))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{ma:.2f} {mb:.2f} {ma / mb:.2f}")


if __name__ == "__main__":
    main()
