#!/usr/bin/env python3
"""Work per request, counted rather than timed: user-space instructions, heap allocations
and clock reads per request of each load-run server, under valgrind's callgrind.

    python3 bench/instructions.py [--out FILE]

Each (server, scenario) runs twice on a fresh server under callgrind, with N1 and N2
sequential keep-alive requests after the same set-up (50 sessions created by
`GET /modify`); the difference divided by N2 - N1 is the cost of one request, free of
start-up and set-up. Counts are exact and do not depend on the machine's load, unlike
the load runs' CPU times; they leave out the kernel's work (system calls, TCP). Heap
allocations are calls to malloc, calloc, realloc and the aligned allocators; clock reads
are calls to clock_gettime (through the vDSO). The memory-store servers only: a Redis
server would add its own process. Loopback only; each server is stopped by PID.

SHA-256: valgrind does not offer the CPU's SHA extensions, so the `sha2` crate runs its
portable code under it and each SHA-256 compression counts about 3,400 instructions
that take a fraction of that natively. A second pair of runs counts only the
instructions inside `sha2::sha256::compress256` (callgrind's --toggle-collect), so the
tables can show the work with and without them.
"""

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import tempfile
from pathlib import Path

import loadrun

HERE = Path(__file__).resolve().parent
SERVERS = {"bare hyper": "bare", "ours + memory": "ours-memory",
           "axum + tower-sessions memory": "ts-memory", "the demo (memory store)": "demo"}
SHA = ["--toggle-collect=sha2::sha256::compress256"]
# name -> (path, whether requests carry one of the sessions' cookies)
SCENARIOS = {"no cookie untouched": ("/none", False), "read-only": ("/read", True),
             "modified": ("/modify", True), "new visitor writes": ("/modify", False)}
ALLOC = {"malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign"}


def callee_calls(path):
    """Calls per callee name in a callgrind output file (name compression resolved)."""
    names, calls, callee = {}, {}, None
    for line in Path(path).read_text().splitlines():
        m = re.match(r"c?fn=\((\d+)\)(?: (.*))?$", line)
        if m:
            if m.group(2):
                names[m.group(1)] = m.group(2)
            callee = names.get(m.group(1)) if line.startswith("cfn=") else None
            continue
        if callee and line.startswith("calls="):
            calls[callee] = calls.get(callee, 0) + int(line[6:].split()[0])
            callee = None
    return calls


def one(kind, path, with_cookie, n, extra=()):
    """Counts of a fresh server of `kind` answering n requests (after the set-up)."""
    out = tempfile.mktemp(prefix="bench-callgrind-")
    env = dict(os.environ, PORT="0", RUST_LOG="off")
    if kind == "demo":
        cmd = [str(loadrun.DEMO_BIN)]
        env.pop("RUST_LOG")  # as shipped: its default filter
        path = loadrun.DEMO_ROUTES[path]
    else:
        cmd = [str(loadrun.server_bin(kind)), kind]
    modify = loadrun.DEMO_ROUTES["/modify"] if kind == "demo" else "/modify"
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                             *extra, *cmd], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        line = ""
        while "listening on" not in line:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{cmd} did not start")
        port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        cookies = []
        for _ in range(50):
            conn.request("GET", modify)
            r = conn.getresponse()
            r.read()
            cookies.append((r.getheader("Set-Cookie") or "none=").split(";")[0])
        for i in range(n):
            headers = {"Cookie": cookies[i % 50]} if with_cookie else {}
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            r.read()
            assert r.status == 200, r.status
        conn.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    text = Path(out).read_text()
    total = int(re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M).group(1))
    calls = callee_calls(out)
    os.unlink(out)
    return {"instructions": total,
            "allocations": sum(v for k, v in calls.items() if k in ALLOC),
            "clock_reads": sum(v for k, v in calls.items() if "clock_gettime" in k)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n1", type=int, default=500)
    p.add_argument("--n2", type=int, default=2500)
    p.add_argument("--out", default=str(HERE / "results" / "instructions.json"))
    args = p.parse_args()
    results = {}
    for scenario, (path, with_cookie) in SCENARIOS.items():
        for name, kind in SERVERS.items():
            a = one(kind, path, with_cookie, args.n1)
            b = one(kind, path, with_cookie, args.n2)
            per = {k: (b[k] - a[k]) / (args.n2 - args.n1) for k in a}
            a = one(kind, path, with_cookie, args.n1, SHA)
            b = one(kind, path, with_cookie, args.n2, SHA)
            per["sha256_instructions"] = (b["instructions"] - a["instructions"]) / (args.n2 - args.n1)
            results[f"{scenario}|{name}"] = per
            print(f"{scenario:20} {name:30} {per['instructions']:9.0f} instructions "
                  f"({per['sha256_instructions']:6.0f} in SHA-256) "
                  f"{per['allocations']:6.1f} allocations {per['clock_reads']:5.2f} clock reads",
                  flush=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(table(results))


def table(results):
    """The Markdown table and, per scenario, our overhead as a share of tower-sessions'."""
    lines = ["| scenario | server | instructions/request | over bare hyper | of which SHA-256 "
             "| over bare hyper, SHA-256 left out | allocations/request | clock reads/request |",
             "|---|---|---|---|---|---|---|---|"]
    ratios = []
    for scenario in SCENARIOS:
        bare = results[f"{scenario}|bare hyper"]
        over = {}
        for name in SERVERS:
            r = results.get(f"{scenario}|{name}")
            if r is None:
                continue
            sha = r.get("sha256_instructions", 0)
            over[name] = (r["instructions"] - bare["instructions"],
                          r["instructions"] - sha - bare["instructions"])
            lines.append(f"| {scenario} | {name} | {r['instructions']:,.0f} | {over[name][0]:,.0f} | "
                         f"{sha:,.0f} | {over[name][1]:,.0f} | {r['allocations']:.1f} | "
                         f"{r['clock_reads']:.2f} |")
        ours, ts = over.get("ours + memory"), over.get("axum + tower-sessions memory")
        if ours and ts and ts[0] > 0 and ts[1] > 0:
            ratios.append(f"- {scenario}: {ours[0] / ts[0]:.2f} ({ours[1] / ts[1]:.2f} with "
                          "SHA-256 left out)")
    return "\n".join(lines + ["", "Our overhead over bare hyper as a share of tower-sessions':"]
                     + ratios)


if __name__ == "__main__":
    main()
