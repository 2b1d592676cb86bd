#!/usr/bin/env python3
"""Turns the measurements of bench/run.sh (target/bench/results.txt, micro.txt) into bench/results/<date>.md.

Usage: report.py WORK_DIR OUTPUT.md COMMAND
"""

import os
import platform
import re
import subprocess
import sys


def kv(text):
    return dict(part.split("=", 1) for part in text.split() if "=" in part)


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception as err:  # a missing tool must not lose the results
        return f"unavailable ({err})"


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return [
        f"- CPU: {cpu}, `nproc` = {os.cpu_count()}",
        f"- memory: {mem_kb / 1024 / 1024:.1f} GiB",
        f"- kernel: {platform.release()}",
        f"- {sh('rustc', '--version')}; {sh('wrk', '--version').splitlines()[0] if sh('wrk', '--version') else 'wrk'}",
        f"- PostgreSQL: {sh('psql', '-XtAc', 'SHOW server_version', os.environ.get('BENCH_POSTGRES_URL', 'postgres://postgres@127.0.0.1:5432/postgres'))}"
        f" (synchronous_commit = {sh('psql', '-XtAc', 'SHOW synchronous_commit', os.environ.get('BENCH_POSTGRES_URL', 'postgres://postgres@127.0.0.1:5432/postgres'))})",
        f"- load generator on the same machine as the server (2 wrk threads); load average before the run: {os.environ.get('BENCH_LOADAVG', 'unknown')}",
    ]


def main():
    work, output, command = sys.argv[1:4]
    wrk, loads, rss, datasets, encrypts, decisions, notes = [], {}, {}, {}, {}, {}, {}
    with open(os.path.join(work, "results.txt")) as f:
        for line in f:
            kind, _, rest = line.strip().partition("|")
            if kind == "wrk":
                wrk.append(kv(rest))
            elif kind in ("load", "rss", "dataset", "encrypt"):
                d = kv(rest)
                key = (d["target"], d.get("mode", "plain"), d["size"])
                {"load": loads, "rss": rss, "dataset": datasets, "encrypt": encrypts}[kind][key] = d
            elif kind == "decisions":
                d = kv(rest)
                decisions[(d["target"], d["size"])] = d
            else:
                notes[kind] = rest
    micro = {}
    criterion = {}
    micro_path = os.path.join(work, "micro.txt")
    if os.path.exists(micro_path):
        text = open(micro_path).read()
        for m in re.finditer(r"^MICRO(-BUILD)? (.*)$", text, re.M):
            d = kv(m.group(2))
            micro[(d["engine"], bool(m.group(1)))] = d | {"raw": m.group(2)}
        for m in re.finditer(r"^decision/(\S+)\s+time:\s+\[([^\]]+)\]", text, re.M):
            criterion[m.group(1)] = m.group(2)

    def find(target, size, scenario, conns, mode="plain"):
        for d in wrk:
            if (d["target"], d.get("mode", "plain"), d["size"], d["scenario"], d["connections"]) == (
                    target, mode, size, scenario, str(conns)):
                return d
        return None

    out = [f"# Warden benchmark, {os.path.basename(output)[:-3]}", "", "## Machine", ""]
    out += machine()
    out += ["", "## Command", "", "```sh", command, "```", "",
            "Modes: *plain* = field encryption and decision logging off; *encrypted* = the loaded database converted "
            "with `warden encrypt` and served with `AUTH_ENABLE_ENCRYPTION=true`; *decisions* = encrypted and "
            "`AUTH_ENABLE_DECISION_LOGGING=true`.", ""]

    out += [f"## HTTP load (wrk, 2 threads, {os.environ.get('BENCH_DURATION', '10s')} per row)", "",
            "| target | mode | dataset | scenario | connections | requests/s | p50 ms | p99 ms | non-2xx | socket errors | real writes/s |",
            "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for d in wrk:
        writes = d["writes_per_s"] if d["scenario"] in ("add", "remove") else ""
        out.append(f"| {d['target']} | {d.get('mode', 'plain')} | {d['size']} | {d['scenario']} | {d['connections']} | {d['rps']} | "
                   f"{float(d['p50_ms']):.2f} | {float(d['p99_ms']):.2f} | {d['non2xx']} | {d['socket_errors']} | {writes} |")
    out += ["", "`add` / `remove` insert or delete one membership of a user no other request uses; *real writes/s* "
            "counts only answers with `created: true` / `removed: true`.", ""]

    out += ["## Load time and memory", "",
            "| target | mode | dataset | SQL load of the dataset s | `warden encrypt` s | server start to /ping s | first has_permission (model load) s | VmRSS after first check MiB | VmRSS after the run MiB |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for key, d in loads.items():
        after = rss.get(key, {}).get("after_run_kb")
        encrypt = encrypts.get(key, {}).get("seconds")
        out.append(f"| {key[0]} | {key[1]} | {key[2]} | {float(datasets.get(key, {}).get('seconds', 'nan')):.1f} | "
                   f"{f'{float(encrypt):.1f}' if encrypt else '–'} | {float(d['ready_s']):.2f} | "
                   f"{float(d['first_check_s']):.3f} | {int(d['rss_kb']) / 1024:.0f} | "
                   f"{int(after) / 1024 if after else float('nan'):.0f} |")
    out.append("")

    peer64 = find("peer", "small", "has_permission", 64)
    peer16 = find("peer", "small", "has_permission", 16)
    out += ["## The peer (`auth` 3.7.1, gunicorn 4 sync workers, SQLite, audit on)", ""]
    if "peer-failed" in notes:
        out += [f"The peer could not be measured: {notes['peer-failed']}", ""]
    if peer64:
        out += ["| has_permission, small dataset | connections | requests/s | p50 ms | p99 ms | Warden ÷ peer |",
                "|---|---:|---:|---:|---:|---:|"]
        out.append(f"| peer | 64 | {peer64['rps']} | {float(peer64['p50_ms']):.1f} | {float(peer64['p99_ms']):.1f} | |")
        if peer16:
            out.append(f"| peer (the issue's 16 connections) | 16 | {peer16['rps']} | {float(peer16['p50_ms']):.1f} | {float(peer16['p99_ms']):.1f} | |")
        for backend in ("sqlite", "postgres"):
            for mode in ("plain", "encrypted"):
                w = find(f"warden-{backend}", "small", "has_permission", 64, mode)
                if w:
                    out.append(f"| Warden, {backend}, {mode} | 64 | {w['rps']} | {float(w['p50_ms']):.2f} | {float(w['p99_ms']):.2f} | "
                               f"**{float(w['rps']) / max(float(peer64['rps']), 1):.0f}×** |")
        out.append("")

    # The cost of encryption and decision logging on the check path.
    rows = []
    for backend in ("sqlite", "postgres"):
        for size in ("small", "large"):
            base = find(f"warden-{backend}", size, "has_permission", 64)
            for mode in ("plain", "encrypted", "decisions"):
                w = find(f"warden-{backend}", size, "has_permission", 64, mode)
                if not w:
                    continue
                vs = f"{float(w['rps']) / float(base['rps']) * 100:.0f} %" if base else ""
                recorded = ""
                if mode == "decisions" and (f"warden-{backend}", size) in decisions:
                    # Only has_permission records decisions; user_permissions is a listing, not a decision.
                    answered = int(w["requests"])
                    got = int(decisions[(f"warden-{backend}", size)]["recorded"])
                    recorded = f"{got} of {answered} ({got / max(answered, 1) * 100:.1f} %)"
                rows.append(f"| {backend} | {size} | {mode} | {w['rps']} | {vs} | {float(w['p50_ms']):.2f} | {float(w['p99_ms']):.2f} | {recorded} |")
    if rows:
        out += ["## The cost of encryption and decision logging on a check (has_permission, 64 connections)", "",
                "| backend | dataset | mode | requests/s | of plain | p50 ms | p99 ms | decisions in the trail / checks answered |",
                "|---|---|---|---:|---:|---:|---:|---|"] + rows + [
                "", "The trail count is taken before the measured run (after the warm-up) and after the server stopped, "
                "so a few of the warm-up's last decisions may land in it.", ""]

    out += ["## Decision function in process (large dataset)", ""]
    if micro:
        out += ["| engine | build s | calls timed | mean ns | p50 ns | p99 ns | p99.9 ns | criterion time per call [low est high] |",
                "|---|---:|---:|---:|---:|---:|---:|---|"]
        for engine in ("timer-only", "warden", "casbin"):
            d = micro.get((engine, False))
            if not d:
                continue
            build = micro.get((engine, True), {})
            out.append(f"| {engine} {d.get('users', '') and '(users=' + d['users'] + ')'} | {build.get('seconds', '')} | {d['calls']} | "
                       f"{d['mean_ns']} | {d['p50_ns']} | {d['p99_ns']} | {d['p999_ns']} | "
                       f"{criterion.get(engine + '_large', '')} |")
        out.append("")
    else:
        out += ["Not run (BENCH_MICRO=0).", ""]

    # Targets.
    out += ["## Targets", "", "| target | measured | met? |", "|---|---|---|"]

    def row(name, measured, ok):
        out.append(f"| {name} | {measured} | {'met' if ok else '**not met**'} |")

    for backend in ("sqlite", "postgres"):
        w = find(f"warden-{backend}", "small", "has_permission", 64, "encrypted")
        if w and peer64:
            ratio = float(w["rps"]) / max(float(peer64["rps"]), 1)
            row(f"has_permission ≥ 100× the peer ({backend}, encrypted)", f"{ratio:.0f}× ({w['rps']} vs {peer64['rps']} req/s)", ratio >= 100)
        for size in ("small", "large"):
            w = find(f"warden-{backend}", size, "has_permission", 64, "encrypted")
            if w:
                row(f"has_permission p99 ≤ 5 ms at 64 connections ({backend}, {size}, encrypted)", f"{float(w['p99_ms']):.2f} ms", float(w["p99_ms"]) <= 5)
        for mode in ("plain", "encrypted"):
            s = find(f"warden-{backend}", "small", "has_permission", 64, mode)
            l = find(f"warden-{backend}", "large", "has_permission", 64, mode)
            if s and l:
                ratio = float(l["rps"]) / float(s["rps"])
                row(f"large-dataset check throughput within 20 % of small ({backend}, {mode})", f"{ratio * 100:.0f} % of small ({l['rps']} vs {s['rps']} req/s)", ratio >= 0.8)
        for mode in ("plain", "encrypted"):
            flat = find(f"warden-{backend}", "large", "has_permission", 64, mode)
            scoped = find(f"warden-{backend}", "full", "has_permission_scoped", 64, mode)
            if flat and scoped:
                ratio = float(scoped["rps"]) / float(flat["rps"])
                row(f"has_permission at a resource (full dataset) within 10 % of the flat check (large) ({backend}, {mode})", f"{ratio * 100:.0f} % ({scoped['rps']} vs {flat['rps']} req/s)", ratio >= 0.9)
        w = micro.get(("warden", False))
    c = micro.get(("casbin", False))
    if w:
        row("decision function p99 ≤ 2 µs", f"{w['p99_ns']} ns (mean {w['mean_ns']} ns; timer overhead included)", int(w["p99_ns"]) <= 2000)
    if w and c:
        ratio = float(c["mean_ns"]) / max(float(w["mean_ns"]), 1)
        row("decision function ≥ 100× faster than casbin-rs", f"{ratio:,.0f}× (mean {c['mean_ns']} ns vs {w['mean_ns']} ns; casbin users={c.get('users')})", ratio >= 100)
    for size in ("small", "large"):
        for mode in ("plain", "encrypted"):
            d = find("warden-postgres", size, "add", 32, mode)
            if d:
                row(f"writes on PostgreSQL ≥ 2 000 memberships/s, 32 clients ({size}, {mode})", f"{d['writes_per_s']}/s (p99 {float(d['p99_ms']):.1f} ms)", float(d["writes_per_s"]) >= 2000)
    out.append("")

    with open(output, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
