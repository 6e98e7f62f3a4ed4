"""Runs a command RUNS times (cold processes) and prints the median wall time and the peak RSS.

Usage: measure.py RUNS CWD COMMAND...   → prints `median_ms peak_rss_mb`
Peak RSS is read from GNU time (`/usr/bin/time -f %M`) on the last run.
"""

import statistics
import subprocess
import sys
import time


def main():
    runs, cwd, command = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    rss = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *command], cwd=cwd, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    ).stderr.strip().splitlines()[-1]
    print(f"{statistics.median(times):.2f} {int(rss) / 1024:.1f}")


if __name__ == "__main__":
    main()
