"""The conformance driver for the Python client (tests/conformance/README.md, protocol
version 1): commands on stdin, observations on stdout, one JSON object per line. It maps
commands to GlobeMeetWS calls and GlobeMeetWS callbacks to observations, nothing more."""
from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from globemeet import BackoffPolicy, GlobeMeetError, GlobeMeetWS, Snapshotted, Subscription


def out(obs: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obs) + "\n")
    sys.stdout.flush()


class Driver:
    def __init__(self) -> None:
        self.client: GlobeMeetWS | None = None
        self.subs: dict[str, Subscription] = {}
        self.pending_token: asyncio.Future[str] | None = None

    def subs_for(self, pattern: str) -> list[str]:
        return [name for name, s in self.subs.items() if s.pattern == pattern]

    def subscribe(self, sub: str, pattern: str, snapshot: bool = False) -> None:
        assert self.client is not None

        def handler(event: Any) -> None:
            out({"obs": "event", "sub": sub, "id": event.id, "topic": event.topic, "type": event.type,
                 "snapshot": event.snapshot, "delay_ms": event.delay_ms})
        try:
            self.subs[sub] = self.client.subscribe(pattern, handler, snapshot=snapshot)
        except GlobeMeetError as e:
            out({"obs": "subscribe_error", "sub": sub, "code": e.code, "message": e.message})

    async def get_token(self, reason: str) -> str:
        self.pending_token = asyncio.get_running_loop().create_future()
        out({"obs": "token_request", "reason": reason})
        return await self.pending_token

    async def connect(self, cmd: dict[str, Any]) -> None:
        options: dict[str, Any] = cmd.get("options") or {}
        defaults = BackoffPolicy()
        backoff = BackoffPolicy(min_ms=options.get("backoff_base_ms", defaults.min_ms),
                                max_ms=options.get("backoff_max_ms", defaults.max_ms))
        kwargs: dict[str, Any] = {"endpoint": cmd["endpoint"], "backoff": backoff}
        if "handshake_timeout_ms" in options:
            kwargs["handshake_timeout_ms"] = options["handshake_timeout_ms"]
        if "refresh_before_ms" in options:
            kwargs["refresh_before_ms"] = options["refresh_before_ms"]
        if cmd.get("token") is not None:
            kwargs["token"] = cmd["token"]
        else:
            kwargs["get_token"] = self.get_token
        if cmd.get("last_event_id") is not None:
            kwargs["last_event_id"] = cmd["last_event_id"]
        if options.get("conflate"):
            kwargs["conflate"] = True
        client = self.client = GlobeMeetWS(**kwargs)
        client.on("state", lambda c: out({"obs": "state", "from": c.from_state, "to": c.to_state, "code": c.code}))
        client.on("reconnect", lambda _: out({"obs": "reconnect"}))
        client.on("reset", lambda r: out({"obs": "reset", "reason": r.reason}))
        client.on("overflow", lambda o: out({"obs": "overflow", "last_id": o.last_id}))

        def error(e: GlobeMeetError) -> None:
            if e.code == "closed":
                out({"obs": "error", "code": "closed", "close_code": e.close_code, "reason": e.reason})
            else:
                out({"obs": "error", "code": e.code, "close_code": 0, "message": e.message})
        client.on("error", error)

        def failed(f: Any) -> None:
            for sub in self.subs_for(f.pattern):
                out({"obs": "subscription_failed", "sub": sub, "code": f.code})
        client.on("subscription_failed", failed)

        def revoked(r: Any) -> None:
            for sub in self.subs_for(r.pattern):
                out({"obs": "revoked", "sub": sub})
        client.on("revoked", revoked)
        client.on("token_expiring", lambda _: out({"obs": "token_expiring"}))

        def snapshotted(s: Snapshotted) -> None:
            for name, held in self.subs.items():
                if held is s.subscription:
                    out({"obs": "snapshotted", "sub": name, "count": s.count})
        client.on("snapshot", snapshotted)
        for entry in cmd.get("subscribe") or []:
            self.subscribe(entry["sub"], entry["pattern"], bool(entry.get("snapshot")))
        await client.start()

    def answer_token(self, token: str | None, message: str | None) -> None:
        pending, self.pending_token = self.pending_token, None
        if pending is None or pending.done():
            out({"obs": "driver_error", "message": "no token request is pending"})
            return
        if token is not None:
            pending.set_result(token)
        else:
            pending.set_exception(RuntimeError(message or "refused by the harness"))

    async def handle(self, cmd: dict[str, Any]) -> bool:
        name = cmd.get("cmd")
        if name == "connect":
            await self.connect(cmd)
        elif name == "subscribe":
            self.subscribe(cmd["sub"], cmd["pattern"], bool(cmd.get("snapshot")))
        elif name == "unsubscribe":
            sub = self.subs.pop(cmd["sub"], None)
            if sub is not None:
                sub.unsubscribe()
        elif name == "token":
            self.answer_token(cmd["token"], None)
        elif name == "token_error":
            self.answer_token(None, cmd.get("message"))
        elif name == "last_event_id":
            out({"obs": "last_event_id", "id": self.client.last_event_id if self.client else None})
        elif name == "latency":
            if self.client is not None:
                stats = self.client.latency()
                out({"obs": "latency", "count": stats.count, "p50_ms": stats.p50_ms, "p99_ms": stats.p99_ms,
                     "clock_offset_ms": stats.clock_offset_ms})
        elif name == "close":
            if self.client is not None:
                await self.client.close()
                out({"obs": "closed", "code": self.client.final_code})
        elif name == "exit":
            return False
        else:
            out({"obs": "driver_error", "message": f"unknown command {name}"})
        return True


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    driver = Driver()
    out({"obs": "hello", "client": "python", "auth": "header"})
    # Commands run one after another (a `close` finishes before the next command is read).
    while line := await reader.readline():
        if not line.strip():
            continue
        try:
            if not await driver.handle(json.loads(line)):
                break
        except Exception as e:
            out({"obs": "driver_error", "message": f"{type(e).__name__}: {e}"})
    if driver.client is not None:
        await driver.client.close()


if __name__ == "__main__":
    asyncio.run(main())
