"""Runs a command RUNS times (cold processes) and prints the median wall time and the peak RSS.

Usage: measure.py RUNS CWD COMMAND...   → prints `median_ms peak_rss_mb`
Peak RSS is read from GNU time (`/usr/bin/time -f %M`) on the last run.
With MEASURE_CLEAN=PATH (relative to CWD), PATH is removed before every run: a first render.
With MEASURE_SETUP=BASH-COMMAND, that command runs (untimed) before every run, after the clean.
With MEASURE_WARMUP=N, the command runs N times untimed first, so that the timed runs read files
from the page cache (this machine's kernel evicts pages it has not seen used for a while).
"""

import os
import shutil
import statistics
import subprocess
import sys
import time


def main():
    runs, cwd, command = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    times = []
    clean = os.environ.get("MEASURE_CLEAN")
    setup = os.environ.get("MEASURE_SETUP")

    def prepare():
        if clean:
            shutil.rmtree(os.path.join(cwd, clean), ignore_errors=True)
            # The removal's own writes reach the disk before the clock starts: a command that
            # flushes (imggen makes its files durable) must not pay for the harness's deletes.
            os.sync()
        if setup:
            subprocess.run(["bash", "-c", setup], check=True, stdout=subprocess.DEVNULL)

    for _ in range(int(os.environ.get("MEASURE_WARMUP", "0"))):
        prepare()
        subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    for _ in range(runs):
        prepare()
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    prepare()
    rss = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *command], cwd=cwd, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    ).stderr.strip().splitlines()[-1]
    print(f"{statistics.median(times):.2f} {int(rss) / 1024:.1f}")


if __name__ == "__main__":
    main()
