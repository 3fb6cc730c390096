#!/usr/bin/env python3
"""Summarises run-comparison.sh's summary.tsv and memory.tsv as Markdown tables.

For each server, workload and connection count: the median and the best requests/s over the rounds,
the median p50 and p99 latency, and the median 1-minute load average seen at the end of the runs.
Usage: python3 summarize.py /tmp/http-bench [/tmp/http-bench-2 ...]
"""
import statistics
import sys
from collections import defaultdict


def millis(text):
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float("nan")


def main(folders):
    runs = defaultdict(list)
    memory = defaultdict(list)
    order = []
    for folder in folders:
        with open(f"{folder}/summary.tsv") as f:
            next(f)
            for line in f:
                r = line.rstrip("\n").split("\t")
                if len(r) < 10 or not r[4]:
                    continue
                key = (r[1], r[2], int(r[3]))
                if r[1] not in order:
                    order.append(r[1])
                runs[key].append((float(r[4]), millis(r[5]), millis(r[6]), int(r[7]), r[8], float(r[9])))
        try:
            with open(f"{folder}/memory.tsv") as f:
                for line in f:
                    r = line.rstrip("\n").split("\t")
                    fields = dict(x.split("=", 1) for x in r[3:])
                    memory[r[2]].append(fields)
        except FileNotFoundError:
            pass
    workloads = []
    for key in runs:
        if (key[1], key[2]) not in workloads:
            workloads.append((key[1], key[2]))
    def table(title, cell):
        print(f"\n{title}\n")
        print("| workload | conns | " + " | ".join(order) + " |")
        print("|---|---:|" + "---:|" * len(order))
        for workload, conns in workloads:
            cells = [cell(runs.get((server, workload, conns), [])) for server in order]
            print(f"| {workload} | {conns} | " + " | ".join(cells) + " |")

    def throughput(rs):
        if not rs:
            return ""
        text = f"{statistics.median(r[0] for r in rs):,.0f} ({max(r[0] for r in rs):,.0f})"
        errors = sum(1 for r in rs if r[4] != "none" or r[3] > 0)
        return text + (f" [{errors}/{len(rs)} with socket errors]" if errors else "")

    def latency(rs):
        if not rs:
            return ""
        return (f"{statistics.median(r[1] for r in rs):.1f} / "
                f"{statistics.median(r[2] for r in rs):.0f}")

    table("Requests/s: median over the rounds (best round in brackets)", throughput)
    table("Latency, ms: median over the rounds of p50 / p99", latency)
    loads = [r[5] for rs in runs.values() for r in rs]
    print(f"\nruns: {sum(len(v) for v in runs.values())}; load average (1 min) at the runs: "
          f"min {min(loads):.1f}, median {statistics.median(loads):.1f}, max {max(loads):.1f}")
    print("\n| server | serves on | idle RSS MiB | peak RSS MiB | OS threads after load | own jars | own jars MiB |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for server in order:
        ms = memory.get(server, [])
        if not ms:
            continue
        idle = statistics.median(int(m["idle_rss_kib"]) for m in ms) / 1024
        peak = statistics.median(int(m["peak_rss_kib"]) for m in ms) / 1024
        threads = statistics.median(int(m["os_threads"]) for m in ms)
        print(f"| {server} | {ms[0]['thread']} | {idle:.0f} | {peak:.0f} | {threads:.0f} | "
              f"{ms[0]['deps_jars']} | {int(ms[0]['deps_kib']) / 1024:.1f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
