#!/usr/bin/env python3
"""End-to-end load runs for docs/benchmarks.md (called by bench/run).

Every server is started fresh for each (server, scenario, repetition) on 127.0.0.1,
pinned to CPU 1 (a 1-worker tokio runtime, or Node's one thread); wrk -t1 -c32 runs
pinned to CPU 0, as does the private redis-server this script starts (with
`--workers 2`, servers get two worker threads and everything floats on CPUs 0-1: the
scaling check). Repetitions are
interleaved (rep 1 of every server and scenario, then rep 2, ...). Only the processes
this script starts are stopped, by PID. Results: a JSON file and a Markdown table.
"""

import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVER_BIN = HERE / "target" / "release" / "bench-server"
# The same server built with `--features peers` (tower-sessions), in its own target dir.
PEERS_BIN = HERE / "target" / "peers" / "release" / "bench-server"
# The README's demo (memory store), built by `cargo build --release --example demo`.
DEMO_BIN = HERE.parent / "target" / "release" / "examples" / "demo"
# The demo's routes doing the bench routes' work: `/` increments `views`, `/session`
# reads the data, `/health` never touches the session.
DEMO_ROUTES = {"/modify": "/", "/read": "/session", "/none": "/health"}
# Worker threads of the Rust servers (`--workers`); more than 1 unpins them.
WORKERS = 1


def server_bin(kind):
    """The binary that serves `kind`: the tower-sessions kinds come from the peers build."""
    return PEERS_BIN if kind.startswith("ts-") else SERVER_BIN
SECRET = "a benchmark secret of reasonable length"

SERVERS = {
    "bare hyper": ["bare"],
    "ours + memory": ["ours-memory"],
    "ours + redis": ["ours-redis"],
    "ours + redis (last-write-wins)": ["ours-redis-lww"],
    "ours + sealed h3 cookie": ["ours-sealed-h3"],
    "ours + sealed h3 2.x cookie": ["ours-sealed-h3v2"],
    "the demo (memory store)": ["demo"],
    "axum + tower-sessions memory": ["ts-memory"],
    "axum + tower-sessions redis (fred)": ["ts-redis"],
    "express-session memory": ["node", "memory"],
    "express-session + connect-redis": ["node", "redis"],
    "h3 useSession (sealed cookie)": ["node-h3", "h3"],
    "h3 2.x useSession (sealed cookie)": ["node-h3", "h3v2"],
}

# The sealed-cookie servers: a run of their own (bench/run), not part of the default set.
SEALED_SERVERS = ["bare hyper", "ours + memory", "ours + sealed h3 cookie",
                  "ours + sealed h3 2.x cookie", "h3 useSession (sealed cookie)",
                  "h3 2.x useSession (sealed cookie)", "express-session memory"]
SEALED_SCENARIOS = "modified,read-only,new visitor writes,no cookie untouched"

# name -> (path, cookie mode): "sessions" = round-robin over pre-created sessions,
# "garbage" = one forged cookie for every request, None = no cookie.
SCENARIOS = {
    "modified": ("/modify", "sessions"),
    "read-only": ("/read", "sessions"),
    "new visitor writes": ("/modify", None),
    "no cookie untouched": ("/none", None),
    "garbage cookie": ("/read", "garbage"),
}
# Run only for in-memory stores: the store is first filled with over a million sessions
# by new visitors (a long warm-up), then new visitors are measured.
BIG = "new visitor, 1M+ sessions in memory"
BIG_SERVERS = ["ours + memory", "axum + tower-sessions memory"]
GARBAGE = "connect.sid=s%3AnotAnId.forgedsignatureforgedsignatureforgedsig; id=forged-id-value"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def process_cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Redis:
    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="bench-redis-")
        self.proc = subprocess.Popen(
            ["taskset", "-c", cpus("0"), "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def url(self):
        return f"redis://127.0.0.1:{self.port}/"

    def cmd(self, *args):
        out = subprocess.run(["redis-cli", "-p", str(self.port), *args],
                             capture_output=True, text=True, check=True)
        return out.stdout

    def command_calls(self):
        """Total calls per command since the last reset, without INFO itself."""
        total = 0
        for line in self.cmd("INFO", "commandstats").splitlines():
            m = re.match(r"cmdstat_([a-z|]+):calls=(\d+)", line)
            if m and m.group(1) not in ("info", "flushall", "config|resetstat"):
                total += int(m.group(2))
        return total

    def cpu_seconds(self):
        return process_cpu_seconds(self.proc.pid)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Server:
    def __init__(self, spec, redis_url):
        env = dict(os.environ, REDIS_URL=redis_url, PORT="0", RUST_LOG="off",
                   WORKERS=str(WORKERS))
        if spec[0] == "node":
            cmd = ["node", str(HERE / "node" / "server.js"), spec[1]]
        elif spec[0] == "node-h3":
            cmd = ["node", str(HERE / "node" / "h3-sealed.mjs"), spec[1]]
        elif spec[0] == "demo":
            # As shipped: its default log filter (info), the memory store.
            cmd = [str(DEMO_BIN)]
            for k in ("RUST_LOG", "REDIS_URL", "WORKERS"):
                env.pop(k)
        else:
            cmd = [str(server_bin(spec[0])), spec[0]]
        self.proc = subprocess.Popen(["taskset", "-c", cpus("1"), *cmd], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError(f"{cmd} did not start: {line!r}")
        self.port = int(m.group(1))
        self.pid = self.proc.pid

    def cpu_seconds(self):
        return process_cpu_seconds(self.pid)

    def peak_rss_kib(self):
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def cpus(one):
    """The CPU list for a process pinned to `one`: both CPUs with more than one worker."""
    return one if WORKERS == 1 else "0,1"


def route(name, path):
    """The path of `name` that does the work of the bench route `path`."""
    return DEMO_ROUTES[path] if SERVERS.get(name) == ["demo"] else path


def create_sessions(port, n, path="/modify"):
    """n sessions via GET `path` (the bench's /modify); returns their `name=value` cookies."""
    cookies = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(n):
        conn.request("GET", path)
        res = conn.getresponse()
        res.read()
        sc = res.getheader("Set-Cookie")
        if not sc:
            raise RuntimeError("no session cookie from /modify")
        cookies.append(sc.split(";", 1)[0])
    conn.close()
    return cookies


def probe_round_trips(redis, port, path, cookies, n=100):
    """Client commands (round trips) per request, counted with MONITOR over `n`
    sequential requests; commands run inside Lua scripts are not round trips."""
    mon = socket.create_connection(("127.0.0.1", redis.port))
    mon.sendall(b"MONITOR\r\n")
    mon.recv(64)  # +OK
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for i in range(n):
        headers = {"Cookie": cookies[i % len(cookies)]} if cookies else {}
        conn.request("GET", path, headers=headers)
        conn.getresponse().read()
    conn.close()
    # A marker command: everything before it in the stream belongs to the probe.
    redis.cmd("ECHO", "probe-end")
    buf = b""
    mon.settimeout(10)
    while b"probe-end" not in buf:
        chunk = mon.recv(1 << 16)
        if not chunk:
            break
        buf += chunk
    mon.close()
    lines = buf.decode(errors="replace").split("\r\n")
    calls = [l for l in lines if '"' in l and "lua]" not in l and "probe-end" not in l]
    return len(calls) / n


def wrk(port, path, duration, connections, cookies_file=None, cookie=None):
    env = dict(os.environ, BENCH_PATH=path, BENCH_COOKIES=cookies_file or "", BENCH_COOKIE=cookie or "")
    out = subprocess.run(
        ["taskset", "-c", cpus("0"), "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency",
         "-s", str(HERE / "scenario.lua"), f"http://127.0.0.1:{port}{path}"],
        env=env, capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    lat = {}
    for q in ("50", "99"):
        m = re.search(rf"\s{q}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        lat[q] = value * {"us": 1, "ms": 1000, "s": 1_000_000}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "requests": total, "p50_us": lat["50"], "p99_us": lat["99"],
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else ""}


def one_run(name, scenario, redis, args, tmp):
    path, mode = SCENARIOS[scenario] if scenario != BIG else ("/modify", None)
    path = route(name, path)
    redis.cmd("FLUSHALL")
    server = Server(SERVERS[name], redis.url())
    try:
        wait_port(server.port)
        cookies_file = None
        if mode == "sessions":
            if SERVERS[name] == ["bare"]:
                # No sessions to create: cookies of the same size, for the same requests.
                cookies = [f"connect.sid=s%3A{i:032d}.{'x' * 43}" for i in range(args.sessions)]
            else:
                cookies = create_sessions(server.port, args.sessions, route(name, "/modify"))
            cookies_file = os.path.join(tmp, "cookies.txt")
            Path(cookies_file).write_text("\n".join(cookies) + "\n")
        cookie = GARBAGE if mode == "garbage" else None
        warm = wrk(server.port, path, args.prefill if scenario == BIG else args.warmup,
                   args.connections, cookies_file, cookie)
        redis.cmd("CONFIG", "RESETSTAT")
        cpu0, rcpu0 = server.cpu_seconds(), redis.cpu_seconds()
        r = wrk(server.port, path, args.duration, args.connections, cookies_file, cookie)
        cpu1, rcpu1 = server.cpu_seconds(), redis.cpu_seconds()
        r["redis_cpu_us_per_req"] = (rcpu1 - rcpu0) * 1e6 / max(r["requests"], 1)
        r["redis_cmds_per_req"] = redis.command_calls() / max(r["requests"], 1)
        probe_cookies = (Path(cookies_file).read_text().split() if cookies_file
                         else [cookie] if cookie else [])
        r["redis_round_trips_per_req"] = probe_round_trips(redis, server.port, path, probe_cookies)
        r["cpu_us_per_req"] = (cpu1 - cpu0) * 1e6 / max(r["requests"], 1)
        r["peak_rss_mib"] = server.peak_rss_kib() / 1024
        if scenario == BIG:
            r["sessions_before"] = warm["requests"]
        return r
    finally:
        server.stop()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--duration", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--sessions", type=int, default=1000)
    p.add_argument("--servers", default=",".join(
        s for s in SERVERS if "sealed" not in s))
    p.add_argument("--sealed", action="store_true",
                   help="the sealed-cookie run: " + ", ".join(SEALED_SERVERS))
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--report", nargs="+", metavar="JSON",
                   help="print the tables of earlier result files and exit")
    p.add_argument("--big", action="store_true",
                   help=f"run only the scenario {BIG!r} (memory stores)")
    p.add_argument("--prefill", type=int, default=25, help="seconds of new visitors before --big is measured")
    p.add_argument("--workers", type=int, default=1,
                   help="worker threads of the Rust servers (2: the scaling check)")
    p.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    args = p.parse_args()
    global WORKERS
    WORKERS = args.workers
    servers = [s for s in args.servers.split(",") if s]
    scenarios = [s for s in args.scenarios.split(",") if s]
    if args.sealed:
        servers, scenarios = SEALED_SERVERS, SEALED_SCENARIOS.split(",")
    if args.report:
        for f in args.report:
            res = json.loads(Path(f).read_text())
            print(table(res, [s for s in SERVERS if any(s in r for r in res.values())], list(res)))
        return 0
    if args.big:
        servers, scenarios = [s for s in servers if s in BIG_SERVERS], [BIG]
    redis = Redis()
    try:
        results = repeat(servers, scenarios, args.reps,
                         lambda name, scenario, tmp: one_run(name, scenario, redis, args, tmp),
                         lambda r: f"redis {r['redis_round_trips_per_req']:.2f} "
                         f"({r['redis_cmds_per_req']:.2f} incl. scripts)/req "
                         f"redis cpu {r['redis_cpu_us_per_req']:.1f} us/req "
                         f"rss {r['peak_rss_mib']:.0f} MiB non2xx {r['non2xx']}"
                         + (f" sessions before {r['sessions_before']:,}" if "sessions_before" in r else ""))
    finally:
        redis.stop()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(table(results, servers, scenarios))


def repeat(servers, scenarios, reps, run, details):
    """Interleaved repetitions (rep 1 of every scenario and server, the first server
    rotating, then rep 2, ...) of `run(name, scenario, tmp)`; prints each result with
    `details(result)`; returns {scenario: {server: [results]}}."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(reps):
            order = servers[rep % len(servers):] + servers[:rep % len(servers)]
            for scenario in scenarios:
                for name in order:
                    r = run(name, scenario, tmp)
                    results.setdefault(scenario, {}).setdefault(name, []).append(r)
                    print(f"rep {rep + 1} {scenario:22} {name:38} {r['rps']:>10.0f} req/s "
                          f"p50 {r['p50_us']:>7.0f} us p99 {r['p99_us']:>7.0f} us "
                          f"cpu {r['cpu_us_per_req']:>6.1f} us/req " + details(r), flush=True)
    return results


def redis_cpu(runs):
    """Median Redis CPU per request, for runs that used Redis (and recorded it)."""
    values = [r["redis_cpu_us_per_req"] for r in runs if "redis_cpu_us_per_req" in r]
    if not values or not any(r["redis_round_trips_per_req"] for r in runs):
        return ""
    return f"{statistics.median(values):.1f}"


def table(results, servers, scenarios):
    med = statistics.median
    lines = []
    for scenario in scenarios:
        rows = results.get(scenario, {})
        base = med(r["rps"] for r in rows["bare hyper"]) if "bare hyper" in rows else None
        lines.append(f"\n#### {scenario}\n")
        lines.append("| server | req/s (median) | req/s (range) | × bare hyper | p50 µs | p99 µs | server CPU µs/req | peak RSS MiB | Redis commands/req (incl. inside scripts) | Redis CPU µs/req | non-2xx |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for name in servers:
            runs = rows.get(name)
            if not runs:
                continue
            rps = med(r["rps"] for r in runs)
            ratio = f"{rps / base:.2f}" if base else ""
            lines.append(
                f"| {name} | {rps:,.0f} | {min(r['rps'] for r in runs):,.0f}–{max(r['rps'] for r in runs):,.0f} | "
                f"{ratio} | {med(r['p50_us'] for r in runs):,.0f} | "
                f"{med(r['p99_us'] for r in runs):,.0f} | {med(r['cpu_us_per_req'] for r in runs):.1f} | "
                f"{max(r['peak_rss_mib'] for r in runs):.0f} | {med(r['redis_round_trips_per_req'] for r in runs):.2f} "
                f"({med(r['redis_cmds_per_req'] for r in runs):.2f}) | "
                f"{redis_cpu(runs)} | "
                f"{sum(r['non2xx'] for r in runs)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
