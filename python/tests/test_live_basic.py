"""Live: the issue's example against the real server, verbatim apart from endpoint and token,
plus fetch_token with right and wrong secrets, and publish."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path


import pytest

import globemeet
from globemeet import GlobeMeetError, GlobeMeetWS
from live import Server, oauth_clients_file, wait_subscriptions

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "dashboard.py"


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    args, secret = oauth_clients_file(s.dir)
    s.args += args
    s.client_secret = secret  # type: ignore[attr-defined]
    s.start()
    yield s
    s.stop()


def test_the_example_verbatim(server: Server) -> None:
    # examples/dashboard.py in its own process; it subscribes, then we publish and read what it
    # printed; SIGINT ends it the way Ctrl-C does, through the context manager.
    env = {**os.environ, "GLOBEMEET_ENDPOINT": server.ws, "GLOBEMEET_TOKEN": server.token(), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, str(EXAMPLE)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        async def publish_when_subscribed() -> None:
            # The example holds two patterns once the server's subscription gauge says so.
            token = server.token()
            await wait_subscriptions(server, 2, timeout=20)
            await globemeet.publish(server.http, token, [
                {"type": "queue.depth-changed", "subject": "support", "data": {"queue_id": "support", "depth": 7, "longest_wait_seconds": 42}},
                {"type": "session.connected", "subject": "support", "data": {"session_id": "s-1", "queue_id": "support", "agent_id": "a-17"}},
            ])
        asyncio.run(publish_when_subscribed())
        assert proc.stdout is not None
        lines = [proc.stdout.readline().decode().strip() for _ in range(2)]
        assert lines == ["depth 7 longest wait 42", "agent a-17"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0, proc.stderr.read().decode() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_fetch_token_right_and_wrong_secret(server: Server) -> None:
    secret: str = server.client_secret  # type: ignore[attr-defined]

    async def main() -> None:
        token = await globemeet.fetch_token(server.http, "wallboard", secret)
        assert token.count(".") == 2
        narrowed = await globemeet.fetch_token(server.http, "wallboard", secret, scope="queue.>")
        assert narrowed != token
        with pytest.raises(GlobeMeetError) as wrong:
            await globemeet.fetch_token(server.http, "wallboard", secret + "x")
        assert wrong.value.code == "invalid_client" and wrong.value.status == 401
        with pytest.raises(GlobeMeetError) as unknown:
            await globemeet.fetch_token(server.http, "nobody", secret)
        assert unknown.value.code == "invalid_client"
        # The token it gives opens a live connection.
        async with GlobeMeetWS(endpoint=server.ws, token=token) as ws:
            sub = ws.subscribe("queue.>", lambda e: None)
            await asyncio.wait_for(sub.ready(), 10)
            assert ws.state == "live"

    asyncio.run(main())


def test_publish_refused_names_the_code(server: Server) -> None:
    async def main() -> None:
        with pytest.raises(GlobeMeetError) as bad:
            await globemeet.publish(server.http, server.token(), {"type": "queue.depth-changed", "subject": "q", "data": {}})
        assert bad.value.code == "invalid_event" and bad.value.status == 400
        with pytest.raises(GlobeMeetError) as forbidden:
            await globemeet.publish(server.http, server.token(pub=False), {"type": "agent.online", "subject": "a", "data": {"agent_id": "a"}})
        assert forbidden.value.status == 403

    asyncio.run(main())


def test_publish_splits_large_lists_and_retries_once_with_a_key(server: Server) -> None:
    async def main() -> None:
        events = [{"type": "agent.online", "subject": f"a-{i}", "data": {"agent_id": f"a-{i}"}} for i in range(2500)]
        token = server.token()
        ids = await globemeet.publish(server.http, token, events, idempotency_key="import-1")
        assert len(ids) == 2500 and len(set(ids)) == 2500
        again = await globemeet.publish(server.http, token, events, idempotency_key="import-1")
        assert again == ids  # the retry stored nothing twice: the same ids

    asyncio.run(main())
