"""The Python client's event path against plain `websockets` + json.loads (issue 14), the
Python twin of bench/lib/sdk_events.mjs: one real globemeet-server (--log memory), two
subscribers in separate processes on the same stream in the same run, (a) websockets +
json.loads per frame, (b) a GlobeMeetWS subscriber with a plain-function handler. A burst is
published over POST /v1/events (batches of 1,000); each subscriber counts its events, its wall
time from the first to the last event and its own CPU time (time.process_time) over that span.
Reported: events/s (wall), CPU per event (µs), capacity (events per CPU-second) and the ratio.

    python bench/lib/python_client.py [--server PATH] [--events N] [--rounds N] [--json FILE]
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "bench"


def mint(secret: str, **claims: Any) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    now = int(time.time())
    body = {"sub": "bench", "tenant": "bench", "perms": [">"], "iss": ISSUER, "aud": "globemeet-events",
            "iat": now, "exp": now + 3600, **claims}
    head = b64(json.dumps({"alg": "HS256", "kid": "dev", "typ": "JWT"}).encode())
    payload = b64(json.dumps(body).encode())
    sig = hmac.new(secret.encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()
    return f"{head}.{payload}.{b64(sig)}"


# ---- a subscriber (child process) ----------------------------------------------------------
class Counter:
    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.first = self.last = 0.0
        self.cpu_first = self.cpu_last = 0.0
        self.done = asyncio.Event()
        self.problems: list[str] = []

    def event(self) -> None:
        if self.count == 0:
            self.first = time.perf_counter()
            self.cpu_first = time.process_time()
        self.count += 1
        self.last = time.perf_counter()
        if self.count == self.expected:
            self.cpu_last = time.process_time()
            self.done.set()


def say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def plain(url: str, token: str, c: Counter) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed
    try:
        await plain_session(connect, url, token, c)
    except ConnectionClosed as e:
        # No reconnect here: a dropped plain client is incomplete (e.g. overflow, 4000).
        c.problems.append(f"closed {e.rcvd.code if e.rcvd else 1006}")
    c.done.set()


async def plain_session(connect: Any, url: str, token: str, c: Counter) -> None:
    async with connect(url, subprotocols=["globemeet-events.v1"], additional_headers={"Authorization": f"Bearer {token}"},  # type: ignore[list-item]
                       compression=None, ping_interval=None, max_size=1 << 20, proxy=None) as ws:
        async for message in ws:
            f = json.loads(message)
            op = f["op"]
            if op == "event":
                c.event()
                if c.done.is_set():
                    return
            elif op == "ready":
                await ws.send(json.dumps({"op": "subscribe", "req": "1", "topics": [">"]}))
            elif op == "subscribed":
                say({"ready": True})
            elif op != "pong":
                c.problems.append(op)


async def ours(url: str, token: str, c: Counter) -> None:
    sys.path.insert(0, str(ROOT / "python" / "src"))
    from globemeet import GlobeMeetWS
    async with GlobeMeetWS(endpoint=url, token=token) as ws:
        ws.on("overflow", lambda o: c.problems.append(f"overflow at {o.last_id}"))
        ws.on("reset", lambda r: c.problems.append(f"reset {r.reason}"))
        ws.on("error", lambda e: c.problems.append(f"error {e.code}"))
        ws.on("state", lambda s: c.problems.append(f"reconnect after {s.code}") if s.to_state == "reconnecting" else None)
        sub = ws.subscribe(">", lambda e: c.event())
        await sub.ready()
        say({"ready": True})
        await c.done.wait()


async def child(kind: str, url: str, token: str, expected: int, timeout: float) -> None:
    c = Counter(expected)
    run = plain if kind == "plain" else ours
    task = asyncio.ensure_future(run(url, token, c))
    try:
        await asyncio.wait_for(c.done.wait(), timeout)
    except asyncio.TimeoutError:
        pass
    if c.count < expected:
        c.cpu_last = time.process_time()  # incomplete: CPU up to now, wall up to its last event
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    say({"result": {"kind": kind, "count": c.count, "expected": expected, "seconds": c.last - c.first,
                    "cpu_s": c.cpu_last - c.cpu_first, "problems": c.problems[:10]}})


# ---- the orchestrator ----------------------------------------------------------------------
def start_server(binary: Path, dir: Path) -> tuple[subprocess.Popen[bytes], int, str]:
    secret = secrets.token_urlsafe(32)
    (dir / "hs256.secret").write_text(secret)
    log = dir / "stdout.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(binary), "--listen", "127.0.0.1:0", "--dev", "--log", "memory", "--issuer", ISSUER,
                                 "--hs256-secret-file", str(dir / "hs256.secret")], stdout=out, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") == "listening":
                return proc, int(entry["port"]), secret
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError("the server did not start")


async def publish_burst(port: int, token: str, total: int) -> float:
    import httpx
    bodies = []
    for start in range(0, total, 1000):
        n = min(1000, total - start)
        bodies.append(json.dumps({"events": [{"type": "queue.depth-changed", "subject": "support",
                                              "data": {"queue_id": "support", "depth": (start + i) % 100,
                                                       "longest_wait_seconds": 42}} for i in range(n)]}))
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as http:
        queue = list(reversed(bodies))

        async def worker() -> None:
            while queue:
                r = await http.post(f"http://127.0.0.1:{port}/v1/events", content=queue.pop(),
                                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                if r.status_code != 200:
                    raise RuntimeError(f"publish answered {r.status_code}: {r.text}")
        await asyncio.gather(*(worker() for _ in range(4)))
    return time.perf_counter() - started


def summary(r: dict[str, Any]) -> dict[str, Any]:
    us = r["cpu_s"] * 1e6 / r["count"] if r["count"] else float("nan")
    return {"subscriber": "plain websockets + json.loads" if r["kind"] == "plain" else "GlobeMeetWS",
            "events": r["count"], "complete": r["count"] == r["expected"],
            "events_per_s": round(r["count"] / r["seconds"]) if r["seconds"] > 0 else 0,
            "cpu_us_per_event": round(us, 2), "capacity_per_core_s": round(1e6 / us) if us == us and us > 0 else 0,
            "problems": "; ".join(r["problems"]) or "-"}


async def orchestrate(args: argparse.Namespace) -> None:
    binary = Path(args.server)
    runs = []
    for round_ in range(1, args.rounds + 1):
        dir = Path(tempfile.mkdtemp(prefix="globemeet-py-bench-"))
        proc, port, secret = start_server(binary, dir)
        children: list[asyncio.subprocess.Process] = []
        try:
            url = f"ws://127.0.0.1:{port}/v1/events"
            token = mint(secret)
            for kind in ("plain", "ours"):
                children.append(await asyncio.create_subprocess_exec(
                    sys.executable, __file__, "--child", kind, "--url", url, "--token", token,
                    "--events", str(args.events), stdout=asyncio.subprocess.PIPE))
            for c in children:
                assert c.stdout is not None
                assert json.loads(await c.stdout.readline()).get("ready")
            publish_s = await publish_burst(port, mint(secret, sub="publisher", pub=True), args.events)
            results = []
            for c in children:
                assert c.stdout is not None
                results.append(json.loads(await c.stdout.readline())["result"])
                await c.wait()
            rows = [summary(r) for r in results]
            plain_row, ours_row = rows
            ratio = round(ours_row["capacity_per_core_s"] / plain_row["capacity_per_core_s"], 2)
            wall = round(ours_row["events_per_s"] / plain_row["events_per_s"], 2)
            print(f"round {round_}: {args.events} events published in {publish_s:.2f} s")
            for row in rows:
                print("  " + json.dumps(row))
            print(f"GlobeMeetWS / plain websockets: {ratio}x per CPU-second, {wall}x in events/s (wall)")
            runs.append({"round": round_, "rows": rows, "capacity_ratio": ratio, "wall_ratio": wall})
        finally:
            for c in children:
                if c.returncode is None:
                    c.kill()
                    await c.wait()
            proc.kill()
            proc.wait()
            shutil.rmtree(dir, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"server": str(binary), "runs": runs}, indent=2))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--server", default=os.environ.get("GLOBEMEET_SERVER", str(ROOT / "build/native/server/net/globemeet-server")))
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--json")
    p.add_argument("--child")
    p.add_argument("--url")
    p.add_argument("--token")
    args = p.parse_args()
    if args.child:
        asyncio.run(child(args.child, args.url, args.token, args.events, max(30.0, args.events / 2000)))
    else:
        asyncio.run(orchestrate(args))


if __name__ == "__main__":
    main()
