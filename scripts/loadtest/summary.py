"""Prints the load test's figures from locust's CSV, and where the machine's CPU went.

    summary.py STATS_CSV CPU_BEFORE CPU_AFTER LOCUST_CPU_SECONDS

CPU_BEFORE/AFTER are snapshots of /proc/stat's first line (cpu.py snapshot). The machine's
busy time during the run, less the load generator's own CPU time, is what the server side
(gunicorn, the Celery worker and PostgreSQL) used: divided by the requests served it gives the CPU cost of a
request, and 2 cores divided by that cost is the most this machine can serve.
"""

import csv
import os
import sys


def busy_steal_total(line: str) -> tuple[int, int, int]:
    """Busy, stolen and total jiffies from a /proc/stat 'cpu' line.

    Busy is user, nice, system, irq and softirq; idle and iowait are not busy; steal is time
    the hypervisor gave to other machines (not ours to count); guest time is already in user.
    """
    user, nice, system, idle, iowait, irq, softirq, steal = (int(value) for value in line.split()[1:9])
    busy = user + nice + system + irq + softirq
    return busy, steal, busy + idle + iowait + steal


def main() -> None:
    stats_csv, before, after, locust_seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    with open(stats_csv, newline="") as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    total = rows.pop("Aggregated")
    print(
        f"requests/s {float(total['Requests/s']):.1f}, p95 {total['95%']} ms, median {total['50%']} ms, "
        f"errors {total['Failure Count']} of {total['Request Count']}"
    )
    for name, row in rows.items():
        print(
            f"  {name}: {row['Request Count']} requests, median {row['50%']} ms, p95 {row['95%']} ms, "
            f"{row['Failure Count']} errors"
        )
    (busy0, steal0, all0), (busy1, steal1, all1) = busy_steal_total(before), busy_steal_total(after)
    hertz, cores = os.sysconf("SC_CLK_TCK"), os.cpu_count()
    busy_seconds = (busy1 - busy0) / hertz
    steal_seconds = (steal1 - steal0) / hertz
    wall_seconds = (all1 - all0) / hertz / cores
    server_seconds = max(busy_seconds - locust_seconds, 0.0)
    requests = int(total["Request Count"])
    per_request_ms = 1000 * server_seconds / requests if requests else 0.0
    print(
        f"CPU: the machine was {100 * busy_seconds / max(wall_seconds * cores, 1e-9):.0f}% busy on {cores} cores over "
        f"{wall_seconds:.0f} s ({steal_seconds:.0f} s of CPU stolen by the hypervisor); locust used "
        f"{locust_seconds:.0f} s; the server side (gunicorn, Celery, PostgreSQL) "
        f"{server_seconds:.0f} s, {per_request_ms:.0f} ms per request: at most about "
        f"{cores * 1000 / per_request_ms if per_request_ms else 0:.0f} requests/s on this machine"
    )


if __name__ == "__main__":
    main()
