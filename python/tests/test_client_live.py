"""GlobeMeetWS's own promises, against the real server: bad arguments raise at once, a raising
handler is reported through `error` and the connection carries on, coroutine handlers and
`events()` deliver in order, a final close code ends wait_closed() with the error, and close()
leaves no task behind."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

import globemeet
from globemeet import GlobeMeetError, GlobeMeetWS
from live import Server, wait_subscriptions


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    s.start()
    yield s
    s.stop()


def agent(i: int) -> dict[str, object]:
    return {"type": "agent.online", "subject": f"a-{i}", "data": {"agent_id": f"a-{i}", "queues": ["support"]}}


def test_bad_arguments_raise_before_anything_is_sent() -> None:
    with pytest.raises(GlobeMeetError) as none:
        GlobeMeetWS(endpoint="ws://127.0.0.1:1/v1/events")
    assert none.value.code == "bad_config"
    with pytest.raises(GlobeMeetError) as url:
        GlobeMeetWS(endpoint="http://127.0.0.1:1/v1/events", token="t")
    assert url.value.code == "bad_config"
    with pytest.raises(GlobeMeetError) as last:
        GlobeMeetWS(endpoint="ws://127.0.0.1:1/v1/events", token="t", last_event_id="nope")
    assert last.value.code == "invalid_event_id"
    for bad in (globemeet.BackoffPolicy(min_ms=-1), globemeet.BackoffPolicy(factor=float("nan"))):
        with pytest.raises(GlobeMeetError) as backoff:
            GlobeMeetWS(endpoint="ws://127.0.0.1:1/v1/events", token="t", backoff=bad)
        assert backoff.value.code == "bad_config"
    with pytest.raises(GlobeMeetError):
        GlobeMeetWS(endpoint="ws://127.0.0.1:1/v1/events", token="t", handshake_timeout_ms=0)
    ws = GlobeMeetWS(endpoint="ws://127.0.0.1:1/v1/events", token="t")
    with pytest.raises(GlobeMeetError) as pattern:
        ws.subscribe("queue.sup*", lambda e: None)
    assert pattern.value.code == "invalid_topic" and "must be a whole segment" in pattern.value.message
    with pytest.raises(GlobeMeetError):
        ws.on("nonsense", lambda _: None)  # type: ignore[call-overload]


def test_handler_errors_are_reported_and_delivery_carries_on(server: Server) -> None:
    async def main() -> None:
        errors: list[GlobeMeetError] = []
        seen: list[str] = []
        order: list[str] = []

        def broken(event: globemeet.GlobeMeetEvent) -> None:
            raise ValueError(f"bad {event.id}")

        async def slow(event: globemeet.GlobeMeetEvent) -> None:
            await asyncio.sleep(0.001)
            order.append(event.id)

        async with GlobeMeetWS(endpoint=server.ws, token=server.token()) as ws:
            ws.on("error", errors.append)
            ws.subscribe("agent.>", broken)
            ws.subscribe("agent.>", slow)
            sub = ws.subscribe("agent.>", lambda e: seen.append(e.id))
            await asyncio.wait_for(sub.ready(), 10)
            ids = await globemeet.publish(server.http, server.token(), [agent(i) for i in range(20)])
            async def all_in() -> None:
                while len(order) < 20:
                    await asyncio.sleep(0.01)
            await asyncio.wait_for(all_in(), 10)
            assert seen == ids and order == ids
            assert len(errors) == 20 and errors[0].code == "handler_error"
            assert isinstance(errors[0].__cause__, ValueError)
            assert ws.state == "live"

    asyncio.run(main())


def test_events_iterator_and_typed_events(server: Server) -> None:
    async def main() -> None:
        async with GlobeMeetWS(endpoint=server.ws, token=server.token()) as ws:
            got: list[int] = []

            async def consume() -> None:
                async for event in ws.events("queue.>"):
                    assert isinstance(event, globemeet.QueueDepthChanged)
                    got.append(event.data.depth)
                    assert event.data["depth"] == event.data.depth
                    assert event.data.agents_available is None  # optional and absent
                    if len(got) == 3:
                        break

            consumer = asyncio.ensure_future(consume())
            await wait_subscriptions(server, 1)
            await globemeet.publish(server.http, server.token(), [
                {"type": "queue.depth-changed", "subject": "q", "data": {"queue_id": "q", "depth": d, "longest_wait_seconds": 1}}
                for d in (3, 1, 4)])
            await asyncio.wait_for(consumer, 10)
            assert got == [3, 1, 4]

    asyncio.run(main())


def test_final_close_code_ends_wait_closed_with_the_error() -> None:
    s = Server()
    s.start()
    try:
        async def main() -> None:
            states: list[str] = []
            ws = GlobeMeetWS(endpoint=s.ws, token=s.token(sub="x") + "broken")
            ws.on("state", lambda c: states.append(c.to_state))
            async with ws:
                with pytest.raises(GlobeMeetError) as final:
                    await asyncio.wait_for(ws.wait_closed(), 10)
            assert final.value.code == "closed" and final.value.close_code == 4401
            assert states[-1] == "closed" and ws.final_code == 4401

        asyncio.run(main())
    finally:
        s.stop()


def test_close_leaves_no_task_behind(server: Server) -> None:
    async def main() -> None:
        before = asyncio.all_tasks()
        ws = GlobeMeetWS(endpoint=server.ws, token=server.token())
        sub = ws.subscribe(">", lambda e: None)
        await ws.start()
        await asyncio.wait_for(sub.ready(), 10)
        await ws.close()
        assert asyncio.all_tasks() == before
        assert ws.state == "closed" and ws.final_code == 1000
        await ws.wait_closed()  # closed by the user: returns

    asyncio.run(main())


def test_subscription_states_disconnect_and_connect_resume(server: Server) -> None:
    async def main() -> None:
        got: list[str] = []
        async with GlobeMeetWS(endpoint=server.ws, token=server.token()) as ws:
            sub = ws.subscribe("agent.>", lambda e: got.append(e.id))
            assert sub.state == "subscribing"
            await asyncio.wait_for(sub.ready(), 10)
            assert sub.state == "subscribed"
            first = await globemeet.publish(server.http, server.token(), [agent(1)])
            while got != first:
                await asyncio.sleep(0.01)
            await ws.disconnect()
            assert ws.state == "idle" and sub.state == "subscribing"
            missed = await globemeet.publish(server.http, server.token(), [agent(2), agent(3)])
            reconnect = asyncio.ensure_future(ws.once("reconnect"))
            await ws.connect()
            assert (await asyncio.wait_for(reconnect, 10)).last_event_id == first[0]
            await asyncio.wait_for(sub.ready(), 10)
            while len(got) < 3:
                await asyncio.sleep(0.01)
            assert got == first + missed  # resumed after the last event: nothing lost, nothing twice
            sub.unsubscribe()
            assert sub.state == "unsubscribed"
            with pytest.raises(GlobeMeetError) as ended:
                await sub.ready()
            assert ended.value.code == "unsubscribed"
        with pytest.raises(GlobeMeetError):
            await ws.connect()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_debug_log_shows_each_step_and_never_the_token(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    token = server.token()

    async def main() -> None:
        async with GlobeMeetWS(endpoint=server.ws, token=token) as ws:
            await asyncio.wait_for(ws.subscribe(">", lambda e: None).ready(), 10)

    with caplog.at_level("DEBUG", logger="globemeet"):
        asyncio.run(main())
    lines = [r.getMessage() for r in caplog.records if r.name == "globemeet"]
    assert any("open connection 1" in line for line in lines)
    assert any("send subscribe on connection 1" in line for line in lines)
    assert not any(token in line or token.split(".")[2] in line for line in lines)


def test_close_before_start_closes_without_connecting() -> None:
    async def main() -> None:
        states: list[str] = []
        ws = GlobeMeetWS(endpoint="ws://127.0.0.1:1/v1/events", token="t")
        ws.on("state", lambda c: states.append(c.to_state))
        await ws.close()
        assert ws.state == "closed" and ws.final_code == 1000 and states == ["closed"]
        await ws.wait_closed()
        with pytest.raises(GlobeMeetError):
            await ws.start()

    asyncio.run(main())
