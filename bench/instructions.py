#!/usr/bin/env python3
"""Work per request, counted rather than timed: user-space instructions, heap allocations
and clock reads per request of each load-run server, under valgrind's callgrind.

    python3 bench/instructions.py [--bin bench/target/release/bench-server] [--out FILE]

Each (server, scenario) runs twice on a fresh server under callgrind, with N1 and N2
sequential keep-alive requests after the same set-up (50 sessions created by
`GET /modify`); the difference divided by N2 - N1 is the cost of one request, free of
start-up and set-up. Counts are exact and do not depend on the machine's load, unlike
the load runs' CPU times; they leave out the kernel's work (system calls, TCP). Heap
allocations are calls to malloc, calloc, realloc and the aligned allocators; clock reads
are calls to clock_gettime (through the vDSO). The memory-store servers only: a Redis
server would add its own process. Loopback only; each server is stopped by PID.
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

HERE = Path(__file__).resolve().parent
SERVERS = {"bare hyper": "bare", "ours + memory": "ours-memory",
           "axum + tower-sessions memory": "ts-memory"}
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


def one(binary, kind, path, with_cookie, n):
    out = tempfile.mktemp(prefix="bench-callgrind-")
    env = dict(os.environ, PORT="0", RUST_LOG="off")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                             str(binary), kind], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(re.search(r":(\d+)", proc.stdout.readline()).group(1))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        cookies = []
        for _ in range(50):
            conn.request("GET", "/modify")
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
    p.add_argument("--bin", default=str(HERE / "target" / "release" / "bench-server"))
    p.add_argument("--n1", type=int, default=500)
    p.add_argument("--n2", type=int, default=2500)
    p.add_argument("--out", default=str(HERE / "results" / "instructions.json"))
    args = p.parse_args()
    results = {}
    for scenario, (path, with_cookie) in SCENARIOS.items():
        for name, kind in SERVERS.items():
            a = one(args.bin, kind, path, with_cookie, args.n1)
            b = one(args.bin, kind, path, with_cookie, args.n2)
            per = {k: (b[k] - a[k]) / (args.n2 - args.n1) for k in a}
            results[f"{scenario}|{name}"] = per
            print(f"{scenario:20} {name:30} {per['instructions']:9.0f} instructions "
                  f"{per['allocations']:6.1f} allocations {per['clock_reads']:5.2f} clock reads",
                  flush=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print("\n| scenario | server | instructions/request | overhead over bare hyper | "
          "allocations/request | clock reads/request |")
    print("|---|---|---|---|---|---|")
    for scenario in SCENARIOS:
        bare = results[f"{scenario}|bare hyper"]["instructions"]
        for name in SERVERS:
            r = results[f"{scenario}|{name}"]
            print(f"| {scenario} | {name} | {r['instructions']:,.0f} | "
                  f"{r['instructions'] - bare:,.0f} | {r['allocations']:.1f} | "
                  f"{r['clock_reads']:.2f} |")


if __name__ == "__main__":
    main()
