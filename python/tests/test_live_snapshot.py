"""Live, against the real server: the current state on subscribe (docs/protocol.md 5.3), the
conflate option accepted (7.1), and each event's delay and latency() (7.2)."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

import globemeet
from globemeet import GlobeMeetWS
from live import Server


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    s.start()
    yield s
    s.stop()


def depth(queue: str, value: int) -> dict[str, object]:
    return {"type": "queue.depth-changed", "subject": queue,
            "data": {"queue_id": queue, "depth": value, "longest_wait_seconds": 0}}


def test_snapshot_then_live_with_delays(server: Server) -> None:
    # A snapshot subscription gets the latest event of each matching topic first, marked, then
    # the live ones; a plain one of the same pattern only the live ones; the snapshot does not
    # move the resume position; live events carry a delay and enter latency().
    async def main() -> None:
        token = server.token()
        ids = await globemeet.publish(server.http, token, [depth("q1", 1), depth("q1", 2), depth("q2", 5)])
        wall: list[globemeet.GlobeMeetEvent] = []
        plain: list[globemeet.GlobeMeetEvent] = []
        live = asyncio.Event()

        def on_plain(e: globemeet.GlobeMeetEvent) -> None:
            plain.append(e)
            live.set()
        async with GlobeMeetWS(endpoint=server.ws, token=token, conflate=True) as ws:
            snap = ws.subscribe("queue.*.depth-changed", wall.append, snapshot=True)
            other = ws.subscribe("queue.*.depth-changed", on_plain)
            assert await asyncio.wait_for(snap.snapshotted(), 30) == 2
            await asyncio.wait_for(other.ready(), 30)
            assert [(e.id, e.snapshot, e.data["depth"]) for e in wall] == [(ids[1], True, 2), (ids[2], True, 5)]
            assert plain == []
            assert ws.last_event_id == ids[2]  # the head: snapshot ids never move it
            [fresh] = await globemeet.publish(server.http, token, [depth("q1", 3)])
            await asyncio.wait_for(live.wait(), 30)
            await asyncio.sleep(0)
            for e in (wall[-1], plain[0]):
                assert (e.id, e.snapshot) == (fresh, False) and e.delay_ms is not None
            stats = ws.latency()
            # One machine, one clock: the offset is near zero (a minute catches a unit or sign error).
            assert stats.count == 1 and abs(stats.clock_offset_ms) < 60_000
    asyncio.run(main())


def test_reset_brings_the_snapshot_in_place_of_the_replay() -> None:
    # The client pauses; retention drops the event it had; on resume the server sends `reset`
    # and, because the subscription asked for the snapshot, the current state instead of the
    # lost events, then live ones from the new position.
    s = Server(["--retention-events", "3"])
    s.start()

    async def main() -> None:
        token = s.token()
        seen: list[globemeet.GlobeMeetEvent] = []
        resets: list[str] = []
        snapshots: list[int] = []
        async with GlobeMeetWS(endpoint=s.ws, token=token) as ws:
            ws.on("reset", lambda r: resets.append(r.reason))
            ws.on("snapshot", lambda x: snapshots.append(x.count))
            sub = ws.subscribe("queue.>", seen.append, snapshot=True)
            assert await asyncio.wait_for(sub.snapshotted(), 30) == 0
            [first] = await globemeet.publish(s.http, token, [depth("q1", 1)])
            while ws.last_event_id != first:
                await asyncio.sleep(0.01)
            await ws.disconnect()
            ids = await globemeet.publish(s.http, token, [depth("q1", 2), depth("q2", 1), depth("q3", 1),
                                                          depth("q1", 3), depth("q2", 2)])
            again = asyncio.get_running_loop().create_future()
            ws.on("snapshot", lambda x: again.done() or again.set_result(x.count))
            await ws.connect()
            assert await asyncio.wait_for(again, 30) == 3
            assert resets == ["retention_exceeded"] and snapshots == [0, 3]
            # The latest event of each topic, in id order, marked; none of the lost ones.
            assert [(e.id, e.snapshot) for e in seen] == [(first, False), (ids[2], True), (ids[3], True), (ids[4], True)]
            assert ws.last_event_id == ids[4]
    try:
        asyncio.run(main())
    finally:
        s.stop()
