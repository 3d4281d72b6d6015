"""Helpers for the live tests: the real globemeet-server (binary from GLOBEMEET_SERVER, default
build/native/server/net/globemeet-server) on a free port with a temp dir, HS256 dev tokens,
OAuth clients, and a TCP proxy that can cut every connection through it."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from conftest import ROOT

ISSUER = "test-issuer"
AUDIENCE = "globemeet-events"


def server_binary() -> Path:
    default = ROOT / os.environ.get("GLOBEMEET_BUILD_DIR", "build/native") / "server/net/globemeet-server"
    return Path(os.environ.get("GLOBEMEET_SERVER", str(default)))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(secret: str, **claims: Any) -> str:
    """An HS256 token the server's dev secret verifies; `claims` override the defaults."""
    now = int(time.time())
    body: dict[str, Any] = {"sub": "user-1", "tenant": "acme", "perms": [">"], "iss": ISSUER, "aud": AUDIENCE,
                            "iat": now, "exp": now + 900, "pub": True}
    body.update(claims)
    head = _b64(json.dumps({"alg": "HS256", "kid": "dev", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(body).encode())
    sig = hmac.new(secret.encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()
    return f"{head}.{payload}.{_b64(sig)}"


class Server:
    """One globemeet-server process; restart() starts it again on the same port and dir."""

    def __init__(self, args: list[str] | None = None, dir: Path | None = None) -> None:
        self.dir = dir or Path(tempfile.mkdtemp(prefix="globemeet-pytest-"))
        self.secret = secrets.token_urlsafe(32)
        (self.dir / "hs256.secret").write_text(self.secret)
        self.args = list(args or [])
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._runs = 0

    def start(self) -> None:
        self._runs += 1
        log = self.dir / f"stdout-{self._runs}.log"
        cmd = [str(server_binary()), "--listen", f"127.0.0.1:{self.port}", "--issuer", ISSUER,
               "--hs256-secret-file", str(self.dir / "hs256.secret"), "--dev", *self.args]
        with open(log, "wb") as out, open(self.dir / f"stderr-{self._runs}.log", "wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for line in log.read_text(errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("msg") == "listening":
                    self.port = int(entry["port"])
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError(f"server did not start: {(self.dir / f'stderr-{self._runs}.log').read_text()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)

    def restart(self) -> None:
        self.kill(signal.SIGTERM)
        self.start()

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/events"

    def token(self, **claims: Any) -> str:
        return mint(self.secret, **claims)


def oauth_clients_file(dir: Path, client_id: str = "wallboard") -> tuple[list[str], str]:
    """A clients file (tenant acme, every topic, may publish): the server args and the secret."""
    secret = secrets.token_urlsafe(24)
    hashed = subprocess.run([str(server_binary()), "hash-secret"], input=secret.encode(), capture_output=True,
                            check=True).stdout.decode().strip()
    path = dir / "clients.json"
    path.write_text(json.dumps({"clients": [{"client_id": client_id, "secret_hash": hashed, "tenant": "acme",
                                             "perms": [">"], "publish": True}]}))
    return ["--clients", str(path)], secret


class Proxy:
    """A TCP proxy on a free port in front of `port`; cut() aborts every connection through it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.cuts = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/events"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        pipes = [asyncio.ensure_future(self._pipe(reader, up_writer)), asyncio.ensure_future(self._pipe(up_reader, writer))]
        for t in pipes:
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            writer.transport.abort()
            self._writers.discard(writer)

    def cut(self) -> None:
        """Every connection through the proxy dies at once, without a close frame (1006)."""
        self.cuts += 1
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def wait_subscriptions(server: Server, count: int, timeout: float = 10) -> None:
    """Waits until the server holds `count` patterns over all connections (its metrics gauge)."""
    import httpx

    async def poll() -> None:
        async with httpx.AsyncClient() as http:
            while True:
                metrics = (await http.get(server.http + "/metrics")).text
                held = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                           if line.startswith("globemeet_subscriptions") and not line.startswith("#"))
                if held >= count:
                    return
                await asyncio.sleep(0.02)
    await asyncio.wait_for(poll(), timeout)
