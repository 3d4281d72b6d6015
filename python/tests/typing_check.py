"""Type-level promises, checked by mypy (scripts/test), never run: a handler narrows an event
with isinstance and then knows its data's types, by attribute and by key; the `on` listeners
get typed payloads. (assert_type needs Python 3.11's typing: checked with --python-version 3.11.)"""
from typing import Any, Literal, assert_type

import globemeet
from globemeet import GlobeMeetEvent, GlobeMeetWS


def handler(e: GlobeMeetEvent) -> None:
    if isinstance(e, globemeet.QueueDepthChanged):
        assert_type(e.data.depth, int)
        assert_type(e.data["depth"], int)
        assert_type(e.data.longest_wait_seconds, float)
        assert_type(e.data.agents_available, int | None)
        assert_type(e.type, Literal["queue.depth-changed"])
    if isinstance(e, globemeet.SessionConnected):
        assert_type(e.data.agent_id, str)
        assert_type(e.data["agent_id"], str)
    if isinstance(e, globemeet.AgentOnline):
        assert_type(e.data.queues, list[str] | None)
    assert_type(e.data["anything"], Any)  # extra fields pass through
    assert_type(e.snapshot, bool)
    assert_type(e.delay_ms, int | None)


def on_state(c: globemeet.StateChange) -> None: ...
def on_reset(r: globemeet.Reset) -> None: ...
async def on_error(e: globemeet.GlobeMeetError) -> None: ...
def on_snapshot(s: globemeet.Snapshotted) -> None: ...


async def snapshot_count(sub: globemeet.Subscription) -> None:
    assert_type(await sub.snapshotted(), int)


def listeners(ws: GlobeMeetWS) -> None:
    # Each name takes a listener of its payload (mypy cannot infer a lambda's parameter
    # through overloads: it sees Any there, so these use functions).
    ws.on("state", on_state)
    ws.on("error", on_error)
    ws.on("reset", on_reset)
    # The wrong payload is refused (warn_unused_ignores would flag the ignore otherwise):
    ws.on("state", on_reset)  # type: ignore[call-overload]
    ws.subscribe("queue.>", handler)
    ws.on("snapshot", on_snapshot)
    sub = ws.subscribe("queue.>", handler, snapshot=True)
    assert_type(sub.snapshot, bool)
    assert_type(ws.latency().p99_ms, int)
