#!/usr/bin/env python3
"""Big sessions (~1 MiB) against the demo server: peak memory, Redis CPU, starvation.

    python3 bench/bigsession.py --demo target/release/examples/demo --label after
    python3 bench/bigsession.py --compare bench/results/bigsession-before.json \
                                          bench/results/bigsession-after.json

Scenarios (every demo and redis-server started fresh on 127.0.0.1 and stopped by PID,
also on errors; every step bounded by a timeout; Python 3.11 standard library only):

1. memory store, peak RSS: a ~1 MiB session (16 x POST /set?bN=<64,000 x>), GET / once,
   the peak reset (`echo 5 > /proc/PID/clear_refs`), then 1,000 concurrent POST /incr
   (1,000 connections opened first, then every request sent at once), VmHWM - VmRSS;
   the same with 1,000 concurrent GET /session (bodies read and discarded). Each run on
   a fresh demo, --reps times.
2. Redis CPU per request vs record size: records planted with SET ... EX 86400 (1 KiB and
   ~1 MiB, each with and without `__sessionMeta`), 50 sequential GET /session (load) and
   50 GET /nope (no session use: the end-of-request touch), `INFO commandstats` after a
   `CONFIG RESETSTAT`. Redis 7 counts commands run inside a script both on their own line
   and inside the EVAL/EVALSHA line, so the plain sum (the headline figure) counts them
   twice; a MONITOR probe (5 more requests) tells top-level calls from script calls, and
   `top_level_us_per_req` removes the double count. Floor: `redis-cli -r 50 GET` of the
   ~1 MiB value.
3. starvation: 80 concurrent GET /session on the ~1 MiB record with meta while a second
   user (a small planted session) makes 40 sequential POST /set?n=i.
"""

import argparse
import asyncio
import base64
import datetime
import hashlib
import hmac
import json
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECRET = "bigsession benchmark secret (no commas: SESSION_SECRET is a comma-separated list)"
BIG_FIELDS, BIG_FIELD_LEN = 16, 64_000
REQ_TIMEOUT = 120.0  # one request, from connect to the last body byte
BURST_TIMEOUT = 300.0  # a whole burst


# ---------------------------------------------------------------- processes

# free_port, wait_port: shared with the load runs.
from loadrun import free_port, wait_port  # noqa: E402


def proc_status_kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def process_cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_process(proc, grace=5.0):
    """SIGTERM, then SIGKILL after `grace` seconds; only this one PID."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class Demo:
    """The demo binary on a free loopback port (PORT=0, the port read from its
    "listening on http://ADDR (store)" line). stdout and stderr are drained by threads
    (the demo logs to stdout), their lines kept for the warning counts."""

    def __init__(self, binary, redis_url=None, start_timeout=20.0):
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "METRICS_PORT")}
        env.update(PORT="0", HOST="127.0.0.1", SESSION_SECRET=SECRET, RUST_LOG="warn")
        if redis_url:
            env["REDIS_URL"] = redis_url
        self.proc = subprocess.Popen([str(binary)], env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.pid = self.proc.pid
        self.lines = []
        ready = queue.Queue()
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=self._drain, args=(stream, ready), daemon=True).start()
        try:
            line = ready.get(timeout=start_timeout)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"{binary} printed no 'listening on' line in {start_timeout} s: {self.lines[-5:]}")
        m = re.search(r"listening on http://([\d.]+):(\d+) \((.*)\)", line)
        if not m:
            self.stop()
            raise RuntimeError(f"{binary} did not start: {line!r}")
        self.port, self.store = int(m.group(2)), m.group(3)

    def _drain(self, stream, ready):
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            self.lines.append(line)
            if "listening on http://" in line:
                ready.put(line)
        ready.put("")  # EOF: unblocks a start that is still waiting

    def log_summary(self):
        levels = Counter()
        for line in self.lines:
            m = re.search(r"\b(ERROR|WARN)\b", line)
            if m:
                levels[m.group(1)] += 1
        first = [l for l in self.lines if re.search(r"\b(ERROR|WARN)\b", l)][:3]
        return {"warn": levels["WARN"], "error": levels["ERROR"],
                "first": [re.sub(r"\x1b\[[0-9;]*m", "", l)[:300] for l in first]}

    def rss_kib(self):
        return proc_status_kib(self.pid, "VmRSS")

    def hwm_kib(self):
        return proc_status_kib(self.pid, "VmHWM")

    def reset_peak(self):
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def cpu_seconds(self):
        return process_cpu_seconds(self.pid)

    def stop(self):
        stop_process(self.proc)


class Resp:
    """A minimal RESP2 client (one blocking socket)."""

    def __init__(self, port, timeout=30.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.sock.makefile("rb")

    def cmd(self, *args):
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            parts += [b"$%d\r\n" % len(b), b, b"\r\n"]
        self.sock.sendall(b"".join(parts))
        return self._read()

    def _read(self):
        line = self.f.readline()
        if not line:
            raise RuntimeError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(f"redis error: {rest.decode()}")
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RuntimeError(f"bad RESP line {line[:50]!r}")

    def close(self):
        self.f.close()
        self.sock.close()


class Redis:
    """A private redis-server on a free loopback port, no persistence."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="bigsession-redis-")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.dir],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.proc.pid
        try:
            wait_port(self.port)
            self.client = Resp(self.port)
        except Exception:
            self.stop()
            raise

    def url(self):
        return f"redis://127.0.0.1:{self.port}/"

    def commandstats(self):
        """{command: (calls, usec)} since the last CONFIG RESETSTAT."""
        stats = {}
        for line in self.client.cmd("INFO", "commandstats").decode().splitlines():
            m = re.match(r"cmdstat_([^:]+):calls=(\d+),usec=(\d+)", line)
            if m:
                stats[m.group(1)] = (int(m.group(2)), int(m.group(3)))
        return stats

    def cpu_seconds(self):
        return process_cpu_seconds(self.pid)

    def stop(self):
        try:
            if getattr(self, "client", None):
                self.client.close()
        finally:
            stop_process(self.proc)
            shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------- HTTP/1.1 client

class Conn:
    """One raw HTTP/1.1 connection to 127.0.0.1:port; bodies are counted, not kept
    (unless asked)."""

    def __init__(self, port):
        self.port = port
        self.r = self.w = None

    async def open(self):
        self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)

    async def send(self, method, path, cookie=None, close=False):
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Length: 0"]
        if cookie:
            head.append(f"Cookie: {cookie}")
        if close:
            head.append("Connection: close")
        self.w.write(("\r\n".join(head) + "\r\n\r\n").encode())
        await self.w.drain()

    async def receive(self, keep_body=False):
        raw = await self.r.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        set_cookies = []
        for l in lines[1:]:
            if ":" in l:
                k, v = l.split(":", 1)
                headers[k.strip().lower()] = v.strip()
                if k.strip().lower() == "set-cookie":
                    set_cookies.append(v.strip())
        body = bytearray() if keep_body else None
        n = 0
        if "content-length" in headers:
            left = int(headers["content-length"])
            while left:
                chunk = await self.r.read(min(left, 1 << 18))
                if not chunk:
                    raise ConnectionError("EOF inside a body")
                left -= len(chunk)
                n += len(chunk)
                if keep_body:
                    body += chunk
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self.r.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.r.readuntil(b"\r\n")
                    break
                chunk = await self.r.readexactly(size + 2)
                n += size
                if keep_body:
                    body += chunk[:-2]
        else:
            while chunk := await self.r.read(1 << 18):
                n += len(chunk)
                if keep_body:
                    body += chunk
        return {"status": status, "body_len": n, "set_cookie": set_cookies,
                "body": bytes(body) if keep_body else None,
                "closes": headers.get("connection", "").lower() == "close"}

    async def request(self, method, path, cookie=None, close=False, keep_body=False):
        if self.w is None:
            await self.open()
        await self.send(method, path, cookie, close)
        res = await self.receive(keep_body)
        if close or res["closes"]:
            self.close()
        return res

    def close(self):
        if self.w is not None:
            self.w.close()
            self.w = self.r = None


def outcome(exc):
    return "timeout" if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) else f"error:{type(exc).__name__}"


async def one(port, method, path, cookie=None, keep_body=False, timeout=REQ_TIMEOUT):
    """One request on its own connection; the response, or {"status": "timeout"|"error:..."}."""
    c = Conn(port)
    t0 = time.perf_counter()
    try:
        res = await asyncio.wait_for(c.request(method, path, cookie, close=True, keep_body=keep_body), timeout)
    except Exception as e:  # noqa: BLE001 - every failure is a counted outcome
        res = {"status": outcome(e), "body_len": 0, "set_cookie": [], "body": None}
    finally:
        c.close()
    res["latency_ms"] = (time.perf_counter() - t0) * 1000
    return res


async def burst(port, n, method, path, cookie):
    """n connections opened first, then n requests sent at once; bodies discarded.
    Returns (per-request results, seconds from the first send to the last response)."""
    conns = [Conn(port) for _ in range(n)]
    opened = await asyncio.wait_for(
        asyncio.gather(*(c.open() for c in conns), return_exceptions=True), 60)
    go = asyncio.Event()

    async def run(c, err):
        if err is not None:
            return {"status": f"connect-{outcome(err)}", "body_len": 0, "latency_ms": 0.0}
        await go.wait()
        t0 = time.perf_counter()
        try:
            res = await asyncio.wait_for(c.request(method, path, cookie, close=True), REQ_TIMEOUT)
        except Exception as e:  # noqa: BLE001
            res = {"status": outcome(e), "body_len": 0}
        finally:
            c.close()
        res["latency_ms"] = (time.perf_counter() - t0) * 1000
        return res

    tasks = [asyncio.create_task(run(c, e if isinstance(e, BaseException) else None))
             for c, e in zip(conns, opened)]
    await asyncio.sleep(0.05)  # every task is parked on the event
    t0 = time.perf_counter()
    go.set()
    results = await asyncio.wait_for(asyncio.gather(*tasks), BURST_TIMEOUT)
    return results, time.perf_counter() - t0


def status_counts(results):
    return dict(sorted(Counter(str(r["status"]) for r in results).items()))


def latency_summary(results):
    lat = sorted(r["latency_ms"] for r in results)
    return {"median_ms": round(statistics.median(lat), 2), "max_ms": round(lat[-1], 2),
            "min_ms": round(lat[0], 2)}


def run_async(coro, timeout):
    return asyncio.run(asyncio.wait_for(coro, timeout))


# ---------------------------------------------------------------- cookies and records

def sign(sid):
    """express's cookie-signature, then encodeURIComponent: connect.sid=s%3A<id>.<sig>."""
    mac = base64.b64encode(hmac.new(SECRET.encode(), sid.encode(), hashlib.sha256).digest())
    value = "s:" + sid + "." + mac.decode().rstrip("=")
    return "connect.sid=" + urllib.parse.quote(value, safe="")


def check_signature(cookie):
    """True if a cookie the demo issued is what sign() computes for its id."""
    value = urllib.parse.unquote(cookie.split("=", 1)[1])
    sid = value[2:].rsplit(".", 1)[0]
    return sign(sid) == cookie


def new_id():
    return base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")


def cookie_json():
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    iso = expires.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (expires.microsecond // 1000)
    return '{"originalMaxAge":86400000,"expires":"%s","httpOnly":true,"path":"/"}' % iso


def record(data, meta):
    """express-session JSON; `__sessionMeta` right after the cookie object."""
    head = '{"cookie":' + cookie_json()
    if meta:
        head += ',"__sessionMeta":{"idleTimeout":1800000}'
    body = json.dumps(data, separators=(",", ":"))
    return (head + "," + body[1:]) if data else head + "}"


def small_data(total, meta):
    """{"pad": "x..."} sized so that the whole record is `total` bytes."""
    base = len(record({"pad": ""}, meta))
    return {"pad": "x" * (total - base)}


def big_data():
    return {f"b{i}": "x" * BIG_FIELD_LEN for i in range(BIG_FIELDS)}


# ---------------------------------------------------------------- scenario 1

async def build_big_session(port):
    cookie = None
    for i in range(BIG_FIELDS):
        res = await one(port, "POST", f"/set?b{i}={'x' * BIG_FIELD_LEN}", cookie)
        if res["status"] != 200:
            raise RuntimeError(f"POST /set b{i}: {res['status']}")
        if cookie is None:
            if not res["set_cookie"]:
                raise RuntimeError("no Set-Cookie from the first POST /set")
            cookie = res["set_cookie"][0].split(";", 1)[0]
    res = await one(port, "GET", "/", cookie)
    if res["status"] != 200:
        raise RuntimeError(f"GET /: {res['status']}")
    res = await one(port, "GET", "/session", cookie)
    return cookie, res["body_len"]


def memory_run(binary, kind, n):
    method, path = {"incr": ("POST", "/incr"), "session": ("GET", "/session")}[kind]
    demo = Demo(binary)
    try:
        cookie, session_bytes = run_async(build_big_session(demo.port), 120)
        if session_bytes < BIG_FIELDS * BIG_FIELD_LEN:
            raise RuntimeError(f"the session is {session_bytes} bytes, expected over {BIG_FIELDS * BIG_FIELD_LEN}")
        demo.reset_peak()
        rss0 = demo.rss_kib()
        hwm0 = demo.hwm_kib()
        cpu0 = demo.cpu_seconds()
        results, secs = run_async(burst(demo.port, n, method, path, cookie), BURST_TIMEOUT + 70)
        hwm1 = demo.hwm_kib()
        cpu1 = demo.cpu_seconds()
        rss1 = demo.rss_kib()
        out = {
            "store": demo.store,
            "session_json_bytes": session_bytes,
            "signature_check": check_signature(cookie),
            "rss_before_mib": round(rss0 / 1024, 1),
            "hwm_after_reset_mib": round(hwm0 / 1024, 1),
            "peak_mib": round(hwm1 / 1024, 1),
            "peak_growth_mib": round((hwm1 - rss0) / 1024, 1),
            "rss_after_mib": round(rss1 / 1024, 1),
            "statuses": status_counts(results),
            "burst_seconds": round(secs, 2),
            "demo_cpu_seconds": round(cpu1 - cpu0, 2),
            "latency": latency_summary(results),
        }
        ok_bodies = [r["body_len"] for r in results if r["status"] == 200]
        if kind == "session":
            out["short_200_bodies"] = sum(1 for b in ok_bodies if b < session_bytes)
        if kind == "incr":
            final = run_async(one(demo.port, "GET", "/session", cookie, keep_body=True), 60)
            out["counter_after"] = json.loads(final["body"]).get("counter") if final["status"] == 200 else None
        out["demo_log"] = demo.log_summary()
        return out
    finally:
        demo.stop()


def scenario_memory(binary, reps, n):
    res = {"incr": [], "session": []}
    for rep in range(reps):
        for kind in ("incr", "session"):
            r = memory_run(binary, kind, n)
            res[kind].append(r)
            print(f"  memory rep {rep + 1} {n} x {'POST /incr' if kind == 'incr' else 'GET /session':12} "
                  f"peak growth {r['peak_growth_mib']:7.1f} MiB (rss {r['rss_before_mib']} -> peak {r['peak_mib']} MiB) "
                  f"{r['statuses']} in {r['burst_seconds']} s"
                  + (f" counter {r['counter_after']}" if kind == "incr" else ""), flush=True)
    return res


# ---------------------------------------------------------------- scenario 2

RECORDS = [("1 KiB", False), ("1 KiB", True), ("1 MiB", False), ("1 MiB", True)]


def plant(redis, size, meta):
    sid = new_id()
    data = small_data(1024, meta) if size == "1 KiB" else big_data()
    value = record(data, meta).encode()
    assert redis.client.cmd("SET", f"sess:{sid}", value, "EX", 86400) == "OK"
    return {"id": sid, "cookie": sign(sid), "record_bytes": len(value),
            "data_json_bytes": len(json.dumps(data, separators=(",", ":")))}


def monitor_probe(redis, port, path, cookie, n=5):
    """Top-level calls and calls from inside scripts, per command, over n requests."""
    mon = socket.create_connection(("127.0.0.1", redis.port), timeout=10)
    try:
        mon.sendall(b"MONITOR\r\n")
        buf = b""
        while b"+OK\r\n" not in buf:
            buf += mon.recv(64)
        buf = buf.split(b"+OK\r\n", 1)[1]

        async def seq():
            c = Conn(port)
            try:
                for _ in range(n):
                    await asyncio.wait_for(c.request("GET", path, cookie), REQ_TIMEOUT)
            finally:
                c.close()
        run_async(seq(), REQ_TIMEOUT * n)
        redis.client.cmd("ECHO", "probe-end")
        while b"probe-end" not in buf:
            chunk = mon.recv(1 << 16)
            if not chunk:
                break
            buf += chunk
    finally:
        mon.close()
    top, inner = Counter(), Counter()
    for line in buf.decode(errors="replace").split("\r\n"):
        m = re.match(r'\+\S+ \[\d+ ([^\]]+)\] "([^"]+)"', line)
        if not m or "probe-end" in line:
            continue
        (inner if m.group(1) == "lua" else top)[m.group(2).lower()] += 1
    return {"top_level_calls_per_req": {k: v / n for k, v in sorted(top.items())},
            "script_calls_per_req": {k: v / n for k, v in sorted(inner.items())}}


def cpu_of(stats, n, probe=None):
    """The headline sum (all cmdstat_ lines but info and config*), the breakdown, and,
    with a MONITOR probe, the sum without the script-inner commands counted twice."""
    used = {k: v for k, v in stats.items() if k != "info" and not k.startswith("config")}
    total = sum(u for _, u in used.values())
    out = {"redis_us_per_req": round(total / n, 2),
           "breakdown": {k: {"calls_per_req": round(c / n, 2), "us_per_req": round(u / n, 2),
                             "us_per_call": round(u / c, 2) if c else 0.0}
                         for k, (c, u) in sorted(used.items())}}
    if probe is not None:
        twice = 0.0
        for cmd, (calls, usec) in used.items():
            name = cmd.split("|")[0]
            i = probe["script_calls_per_req"].get(name, 0.0)
            t = probe["top_level_calls_per_req"].get(name, 0.0)
            if i:
                twice += usec * i / (i + t)
        out["top_level_us_per_req"] = round((total - twice) / n, 2)
        out.update(probe)
    return out


def measure(redis, port, path, cookie, n, expect_status, min_body):
    redis.client.cmd("CONFIG", "RESETSTAT")
    cpu0 = redis.cpu_seconds()

    async def seq():
        c = Conn(port)
        out = []
        try:
            for _ in range(n):
                t0 = time.perf_counter()
                try:
                    r = await asyncio.wait_for(c.request("GET", path, cookie), REQ_TIMEOUT)
                except Exception as e:  # noqa: BLE001
                    c.close()
                    r = {"status": outcome(e), "body_len": 0}
                r["latency_ms"] = (time.perf_counter() - t0) * 1000
                out.append(r)
        finally:
            c.close()
        return out
    results = run_async(seq(), REQ_TIMEOUT * n)
    cpu1 = redis.cpu_seconds()
    stats = redis.commandstats()
    bad = [r for r in results if r["status"] != expect_status or r["body_len"] < min_body]
    return stats, {"statuses": status_counts(results), "unexpected": len(bad),
                   "latency": latency_summary(results),
                   "redis_process_cpu_us_per_req": round((cpu1 - cpu0) * 1e6 / n, 1)}


def scenario_redis_cpu(binary, n=50):
    redis = Redis()
    demo = None
    out = {"requests_per_case": n, "records": {}}
    try:
        demo = Demo(binary, redis.url())
        out["store"] = demo.store
        for size, meta in RECORDS:
            name = f"{size} {'with' if meta else 'no'} meta"
            p = plant(redis, size, meta)
            case = {"record_bytes": p["record_bytes"]}
            for label, path, status, min_body in (("load GET /session", "/session", 200, p["data_json_bytes"]),
                                                  ("touch GET /nope", "/nope", 404, 0)):
                stats, extra = measure(redis, demo.port, path, p["cookie"], n, status, min_body)
                if extra["unexpected"]:
                    raise RuntimeError(f"{name} {label}: {extra['statuses']}, bodies under {min_body} bytes "
                                       "(a planted record that did not load?)")
                probe = monitor_probe(redis, demo.port, path, p["cookie"])
                case[label] = {**cpu_of(stats, n, probe), **extra}
                c = case[label]
                print(f"  redis {name:16} {label:18} {c['redis_us_per_req']:>9.1f} us/req "
                      f"(top-level only {c['top_level_us_per_req']:.1f}; redis process "
                      f"{c['redis_process_cpu_us_per_req']:.0f}) "
                      + " ".join(f"{k}={v['calls_per_req']:g}x{v['us_per_call']:.0f}us"
                                 for k, v in c["breakdown"].items()), flush=True)
            redis.client.cmd("DEL", f"sess:{p['id']}")
            out["records"][name] = case
        # The floor: a plain GET of the ~1 MiB value, copied out to redis-cli.
        p = plant(redis, "1 MiB", True)
        redis.client.cmd("CONFIG", "RESETSTAT")
        subprocess.run(["redis-cli", "-p", str(redis.port), "-r", str(n), "GET", f"sess:{p['id']}"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=60)
        stats = redis.commandstats()
        calls, usec = stats["get"]
        out["floor_redis_cli_get_1mib"] = {"record_bytes": p["record_bytes"], "calls": calls,
                                           "us_per_call": round(usec / calls, 2), "all": cpu_of(stats, n)}
        print(f"  redis floor: redis-cli GET of {p['record_bytes']} bytes: {usec / calls:.1f} us/call", flush=True)
        out["demo_log"] = demo.log_summary()
        return out
    finally:
        if demo:
            demo.stop()
        redis.stop()


# ---------------------------------------------------------------- scenario 3

async def starvation_once(port, big_cookie, small_cookie, readers, writes):
    async def second_user():
        res = []
        c = Conn(port)
        try:
            for i in range(writes):
                t0 = time.perf_counter()
                try:
                    r = await asyncio.wait_for(c.request("POST", f"/set?n={i}", small_cookie), REQ_TIMEOUT)
                except Exception as e:  # noqa: BLE001
                    c.close()
                    r = {"status": outcome(e), "body_len": 0}
                r["latency_ms"] = (time.perf_counter() - t0) * 1000
                res.append(r)
        finally:
            c.close()
        return res

    reader_task = asyncio.create_task(burst(port, readers, "GET", "/session", big_cookie))
    await asyncio.sleep(0.1)  # the readers' connections are open and their requests going out
    t0 = time.perf_counter()
    small = await second_user()
    small_secs = time.perf_counter() - t0
    big, big_secs = await reader_task
    return big, big_secs, small, small_secs


def scenario_starvation(binary, reps, readers=80, writes=40):
    redis = Redis()
    runs = []
    try:
        for rep in range(reps):
            big = plant(redis, "1 MiB", True)
            small = plant(redis, "1 KiB", False)
            demo = Demo(binary, redis.url())
            try:
                cpu0 = redis.cpu_seconds()
                b, b_secs, s, s_secs = run_async(
                    starvation_once(demo.port, big["cookie"], small["cookie"], readers, writes),
                    BURST_TIMEOUT + REQ_TIMEOUT * writes)
                r = {"big_record_bytes": big["record_bytes"],
                     "second_user": {"statuses": status_counts(s), **latency_summary(s),
                                     "seconds": round(s_secs, 2),
                                     "latencies_ms": [round(x["latency_ms"], 2) for x in s]},
                     "readers": {"statuses": status_counts(b), **latency_summary(b),
                                 "seconds": round(b_secs, 2),
                                 "short_200_bodies": sum(1 for x in b if x["status"] == 200
                                                         and x["body_len"] < big["data_json_bytes"])},
                     "redis_process_cpu_seconds": round(redis.cpu_seconds() - cpu0, 2),
                     "demo_log": demo.log_summary()}
            finally:
                demo.stop()
            redis.client.cmd("FLUSHALL")
            runs.append(r)
            su, rd = r["second_user"], r["readers"]
            print(f"  starvation rep {rep + 1}: second user {su['statuses']} median {su['median_ms']} ms "
                  f"max {su['max_ms']} ms; {readers} readers {rd['statuses']} max {rd['max_ms']} ms "
                  f"in {rd['seconds']} s; redis cpu {r['redis_process_cpu_seconds']} s", flush=True)
        return runs
    finally:
        redis.stop()


# ---------------------------------------------------------------- report

def versions():
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
        except Exception as e:  # noqa: BLE001
            return f"unavailable: {e}"
    return {"redis-server": out(["redis-server", "--version"]), "rustc": out(["rustc", "--version"]),
            "python": sys.version.split()[0], "cpus": os.cpu_count()}


def fmt_runs(values, unit=""):
    return " / ".join(f"{v:g}" for v in values) + unit


def compare(before, after):
    b, a = (json.loads(Path(f).read_text()) for f in (before, after))
    rows = []
    for kind, label in (("incr", "1,000 x POST /incr"), ("session", "1,000 x GET /session")):
        if kind not in b.get("memory", {}) or kind not in a.get("memory", {}):
            continue
        g = lambda res, key: fmt_runs([r[key] for r in res["memory"][kind]])  # noqa: E731
        rows.append((f"memory: {label}, peak growth MiB (3 runs)", g(b, "peak_growth_mib"), g(a, "peak_growth_mib")))
        st = lambda res: "; ".join(json.dumps(r["statuses"]) for r in res["memory"][kind])  # noqa: E731
        rows.append((f"memory: {label}, statuses", st(b), st(a)))
        rows.append((f"memory: {label}, burst seconds", g(b, "burst_seconds"), g(a, "burst_seconds")))
        if kind == "incr":
            rows.append(("memory: counter after the burst", g(b, "counter_after"), g(a, "counter_after")))
    if "redis_cpu" in b and "redis_cpu" in a:
        for name in b["redis_cpu"]["records"]:
            for label in ("load GET /session", "touch GET /nope"):
                cb, ca = b["redis_cpu"]["records"][name][label], a["redis_cpu"]["records"][name][label]
                f = lambda c: (f"{c['redis_us_per_req']:.1f} (top-level {c['top_level_us_per_req']:.1f}): "  # noqa: E731
                               + ", ".join(f"{k} {v['calls_per_req']:g}x{v['us_per_call']:.1f}"
                                           for k, v in c["breakdown"].items()))
                rows.append((f"redis µs/req, {name}, {label}", f(cb), f(ca)))
        fb, fa = b["redis_cpu"]["floor_redis_cli_get_1mib"], a["redis_cpu"]["floor_redis_cli_get_1mib"]
        rows.append(("redis floor: redis-cli GET of the ~1 MiB value, µs/call", f"{fb['us_per_call']:.1f}",
                     f"{fa['us_per_call']:.1f}"))
    if "starvation" in b and "starvation" in a:
        for key, label in (("second_user", "second user's 40 POST /set"), ("readers", "80 GET /session")):
            s = lambda res: "; ".join(json.dumps(r[key]["statuses"]) for r in res["starvation"])  # noqa: E731
            rows.append((f"starvation: {label}, statuses", s(b), s(a)))
            for q in ("median_ms", "max_ms"):
                m = lambda res: fmt_runs([r[key][q] for r in res["starvation"]])  # noqa: E731
                rows.append((f"starvation: {label}, {q}", m(b), m(a)))
    lines = ["| scenario | before | after |", "|---|---|---|"]
    lines += [f"| {s} | {x} | {y} |" for s, x, y in rows]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--demo", help="the demo binary (target/release/examples/demo)")
    p.add_argument("--label", help="before, after, current...: names the output file")
    p.add_argument("--reps", type=int, default=3, help="fresh-demo runs of scenarios 1 and 3")
    p.add_argument("--concurrency", type=int, default=1000, help="scenario 1's concurrent requests")
    p.add_argument("--scenarios", default="memory,redis_cpu,starvation")
    p.add_argument("--out", help="default: bench/results/bigsession-<label>.json")
    p.add_argument("--rev", default="", help="the commit the demo was built from (recorded as given)")
    p.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"),
                   help="print a before/after Markdown table of two result files and exit")
    args = p.parse_args()
    if args.compare:
        print(compare(*args.compare))
        return 0
    if not args.demo or not args.label:
        p.error("--demo and --label are required")
    binary = Path(args.demo).resolve()
    if not binary.is_file():
        p.error(f"{binary} is missing")
    out = Path(args.out) if args.out else HERE / "results" / f"bigsession-{args.label}.json"
    result = {"label": args.label, "rev": args.rev, "demo": str(binary),
              "demo_sha256": hashlib.sha256(binary.read_bytes()).hexdigest(),
              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "versions": versions()}
    scenarios = [s for s in args.scenarios.split(",") if s]
    if "memory" in scenarios:
        print(f"==> 1. memory store, peak RSS ({args.reps} runs per burst)", flush=True)
        result["memory"] = scenario_memory(binary, args.reps, args.concurrency)
    if "redis_cpu" in scenarios:
        print("==> 2. Redis CPU per request vs record size", flush=True)
        result["redis_cpu"] = scenario_redis_cpu(binary)
    if "starvation" in scenarios:
        print(f"==> 3. starvation ({args.reps} runs)", flush=True)
        result["starvation"] = scenario_starvation(binary, args.reps)
    result["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"==> wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
