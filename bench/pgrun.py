#!/usr/bin/env python3
"""Load runs on PostgreSQL for docs/benchmarks.md (called by bench/run).

One private PostgreSQL (initdb into a temporary folder, run as `nobody` when this runs
as root; fsync, synchronous_commit and full_page_writes off, the same for every server;
pg_stat_statements loaded) pinned to CPU 0 with wrk; each server pinned to CPU 1 and
started fresh for each (server, scenario, repetition), with a pool of 10 connections:
bare hyper (the ceiling), ours + postgres (and with last-write-wins saves, which skip
the digest comparison: what the compare-and-set costs the database; and with
`touch_after` of a minute, so reads do not rewrite rows to slide them), axum +
tower-sessions' sqlx Postgres store, express-session + connect-pg-simple. The session tables are emptied before each run.
Measured: req/s, latency, server CPU per request, PostgreSQL CPU per request (the
postmaster and every backend) and statements per request (pg_stat_statements). Only
the processes this script starts are stopped, by PID.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import loadrun
from loadrun import HERE, Server, create_sessions, free_port, process_cpu_seconds, repeat, wait_port, wrk

SERVERS = {
    "bare hyper": ["bare"],
    "ours + postgres": ["ours-postgres"],
    "ours + postgres (last-write-wins)": ["ours-postgres-lww"],
    "ours + postgres (touch_after 60 s)": ["ours-postgres-touch-after"],
    "axum + tower-sessions postgres (sqlx)": ["ts-postgres"],
    "express-session + connect-pg-simple": ["node", "postgres"],
}
SCENARIOS = {
    "modified": ("/modify", True),
    "read-only": ("/read", True),
    "new visitor writes": ("/modify", False),
}
UNPRIVILEGED = ("65534", "65534")


def pg_bin(name):
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                      key=lambda p: int(p.parts[-3]))
    if not versions:
        sys.exit(f"error: {name} is missing; install it with: apt-get install -y postgresql")
    return str(versions[-1])


def as_server_user(cmd):
    if os.geteuid() != 0:
        return cmd
    uid, gid = UNPRIVILEGED
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *cmd]


class Postgres:
    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="bench-pg-")
        if os.geteuid() == 0:
            os.chown(self.dir, int(UNPRIVILEGED[0]), int(UNPRIVILEGED[1]))
        data = os.path.join(self.dir, "data")
        subprocess.run(as_server_user([pg_bin("initdb"), "-D", data, "-U", "postgres", "-A", "trust",
                                       "-E", "UTF8", "--no-sync"]),
                       check=True, stdout=subprocess.DEVNULL)
        settings = ["fsync=off", "synchronous_commit=off", "full_page_writes=off",
                    "shared_preload_libraries=pg_stat_statements", "max_connections=100"]
        self.proc = subprocess.Popen(
            ["taskset", "-c", "0", *as_server_user(
                [pg_bin("postgres"), "-D", data, "-p", str(self.port), "-h", "127.0.0.1",
                 "-k", self.dir, *[a for s in settings for a in ("-c", s)]])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        time.sleep(0.5)
        self.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def url(self):
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def sql(self, statement):
        out = subprocess.run([pg_bin("psql"), "-X", "-q", "-t", "-A", "-h", "127.0.0.1", "-p",
                              str(self.port), "-U", "postgres", "-d", "postgres", "-c", statement],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()

    def empty_tables(self):
        self.sql("DO $$ BEGIN "
                 "IF to_regclass('public.session') IS NOT NULL THEN TRUNCATE public.session; END IF; "
                 "IF to_regclass('tower_sessions.session') IS NOT NULL THEN TRUNCATE tower_sessions.session; END IF; "
                 "END $$")

    def reset_statements(self):
        self.sql("SELECT pg_stat_statements_reset()")

    def statements(self):
        """Statements executed since the reset, without this script's own."""
        return int(self.sql("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                            "WHERE query NOT ILIKE '%pg_stat_statements%'") or 0)

    def cpu_seconds(self):
        """CPU of the postmaster and every process it started (the backends)."""
        pids = [self.postmaster()]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pids[0]:
                pids.append(int(stat.parent.name))
        total = 0.0
        for pid in pids:
            try:
                total += process_cpu_seconds(pid)
            except OSError:
                pass
        return total

    def postmaster(self):
        # taskset and setpriv exec into the server: the child's pid is the postmaster's.
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(2)  # SIGINT: a fast shutdown
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def one_run(name, scenario, pg, args, tmp):
    path, with_sessions = SCENARIOS[scenario]
    pg.empty_tables()
    server = Server(SERVERS[name], "redis://127.0.0.1:1/")
    try:
        wait_port(server.port)
        cookies_file = None
        if with_sessions:
            if SERVERS[name] == ["bare"]:
                cookies = [f"connect.sid=s%3A{i:032d}.{'x' * 43}" for i in range(args.sessions)]
            else:
                cookies = create_sessions(server.port, args.sessions)
            cookies_file = os.path.join(tmp, "cookies.txt")
            Path(cookies_file).write_text("\n".join(cookies) + "\n")
        wrk(server.port, path, args.warmup, args.connections, cookies_file)
        pg.reset_statements()
        cpu0, pcpu0 = server.cpu_seconds(), pg.cpu_seconds()
        r = wrk(server.port, path, args.duration, args.connections, cookies_file)
        cpu1, pcpu1 = server.cpu_seconds(), pg.cpu_seconds()
        n = max(r["requests"], 1)
        r["cpu_us_per_req"] = (cpu1 - cpu0) * 1e6 / n
        r["pg_cpu_us_per_req"] = (pcpu1 - pcpu0) * 1e6 / n
        r["statements_per_req"] = pg.statements() / n
        return r
    finally:
        server.stop()


def table(results, servers, scenarios):
    med = statistics.median
    lines = []
    for scenario in scenarios:
        rows = results.get(scenario, {})
        base = med(r["rps"] for r in rows["bare hyper"]) if "bare hyper" in rows else None
        ours = rows.get("ours + postgres")
        lines.append(f"\n#### {scenario}\n")
        lines.append("| server | req/s (median) | req/s (range) | × bare hyper | × ours | p50 µs | p99 µs | "
                     "server CPU µs/req | PostgreSQL CPU µs/req | statements/req | non-2xx |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for name in servers:
            runs = rows.get(name)
            if not runs:
                continue
            rps = med(r["rps"] for r in runs)
            vs_ours = f"{rps / med(r['rps'] for r in ours):.2f}" if ours else ""
            lines.append(
                f"| {name} | {rps:,.0f} | {min(r['rps'] for r in runs):,.0f}–{max(r['rps'] for r in runs):,.0f} | "
                f"{rps / base:.2f} | {vs_ours} | {med(r['p50_us'] for r in runs):,.0f} | "
                f"{med(r['p99_us'] for r in runs):,.0f} | {med(r['cpu_us_per_req'] for r in runs):.1f} | "
                f"{med(r['pg_cpu_us_per_req'] for r in runs):.1f} | "
                f"{med(r['statements_per_req'] for r in runs):.2f} | {sum(r['non2xx'] for r in runs)} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--duration", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--sessions", type=int, default=1000)
    p.add_argument("--servers", default=",".join(SERVERS))
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--report", nargs="+", metavar="JSON", help="print the tables of earlier result files and exit")
    p.add_argument("--out", default=str(HERE / "results" / "postgres.json"))
    args = p.parse_args()
    servers = [s for s in args.servers.split(",") if s]
    scenarios = [s for s in args.scenarios.split(",") if s]
    if args.report:
        for f in args.report:
            res = json.loads(Path(f).read_text())
            print(table(res, [s for s in SERVERS if any(s in r for r in res.values())], list(res)))
        return 0
    pg = Postgres()
    os.environ["DATABASE_URL"] = pg.url()
    try:
        results = repeat(servers, scenarios, args.reps,
                         lambda name, scenario, tmp: one_run(name, scenario, pg, args, tmp),
                         lambda r: f"pg cpu {r['pg_cpu_us_per_req']:>6.1f} us/req "
                         f"statements {r['statements_per_req']:.2f}/req non2xx {r['non2xx']}")
    finally:
        pg.stop()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(table(results, servers, scenarios))
    return 0


if __name__ == "__main__":
    loadrun.SERVERS.update(SERVERS)
    sys.exit(main())
