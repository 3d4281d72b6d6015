"""The session's snapshot, conflation and latency (docs/protocol.md sections 5.3, 7.1, 7.2, 9),
in virtual time: subscribe frames, where snapshot events go, the resume position, the clock
offset and the delays."""
from __future__ import annotations

import json

from test_session import EXP, T0, TIME, event, jwt, notices, sends

from globemeet._latency import ClockOffset, DelayWindow, LatencyStats, TimeReader, parse_time_ms
from globemeet.session import ClientSession, Deliver, Notice, NoticeKind, SessionConfig, Timer

TIME_MS = parse_time_ms(TIME)
assert TIME_MS is not None


def ready(time_ms: int | None = None, head: str = "e1-0") -> str:
    frame: dict[str, object] = {"op": "ready", "sub": "s", "tenant": "acme", "exp": EXP, "heartbeat_ms": 20_000, "head": head}
    if time_ms is not None:
        frame["time_ms"] = time_ms
    return json.dumps(frame)


def connect(s: ClientSession, conn: int, time_ms: int | None = None, now: int = T0) -> list[dict[str, object]]:
    """Token, open, ready: the subscribe frames the session then sends."""
    if conn == 1:
        s.start(now, 0.5)
        s.token_obtained(now, 0.5, jwt(EXP))
    else:
        s.timer_fired(now, 0.5, Timer.RECONNECT)
    s.opened(now, 0.5, conn)
    return sends(s.frame(now, 0.5, conn, ready(time_ms)))


def delivered(actions: list[object]) -> list[tuple[str, tuple[int, ...], bool]]:
    return [(a.id, a.handles, a.snapshot) for a in actions if isinstance(a, Deliver)]


def frame(s: ClientSession, conn: int, f: dict[str, object] | str, now: int = T0) -> list[object]:
    return list(s.frame(now, 0.5, conn, f if isinstance(f, str) else json.dumps(f)))


def test_snapshot_and_conflate_go_on_the_subscribe_frame() -> None:
    s = ClientSession(SessionConfig(endpoint="ws://h/v1/events", conflate=True))
    s.subscribe(T0, 0.5, "queue.>", snapshot=True)
    s.subscribe(T0, 0.5, "agent.>")
    assert connect(s, 1) == [{"op": "subscribe", "req": "1", "topics": ["agent.>", "queue.>"],
                              "snapshot": True, "conflate": True}]
    s.take_actions()
    s.subscribe(T0, 0.5, "session.>")  # a later subscribe carries conflate too, and no snapshot
    assert sends(s.take_actions()) == [{"op": "subscribe", "req": "2", "topics": ["session.>"], "conflate": True}]


def test_snapshot_goes_to_the_handle_that_asked_bypasses_duplicates_and_keeps_the_head() -> None:
    s = ClientSession(SessionConfig(endpoint="ws://h/v1/events"))
    wall = s.subscribe(T0, 0.5, "queue.>", snapshot=True)
    log = s.subscribe(T0, 0.5, "queue.>")
    assert connect(s, 1) == [{"op": "subscribe", "req": "1", "topics": ["queue.>"], "snapshot": True}]
    frame(s, 1, {"op": "subscribed", "req": "1", "topics": ["queue.>"], "head": "e1-9"})
    assert s.last_event_id == "e1-9"
    acts = frame(s, 1, event("e1-4", "queue.q1.depth-changed", snapshot=True))
    acts += frame(s, 1, event("e1-9", "queue.q2.depth-changed", snapshot=True))
    assert delivered(acts) == [("e1-4", (wall,), True), ("e1-9", (wall,), True)]
    assert s.last_event_id == "e1-9"  # snapshot ids never move the position
    acts = frame(s, 1, {"op": "snapshotted", "req": "1", "count": 2})
    assert notices(acts) == [Notice(NoticeKind.SNAPSHOTTED, "2", "the snapshot of `queue.>` is complete (2 events)", wall)]
    acts = frame(s, 1, event("e1-10"))
    assert delivered(acts) == [("e1-10", (wall, log), False)]
    assert s.last_event_id == "e1-10"
    # A snapshot event after the snapshot completed belongs to nobody.
    assert delivered(frame(s, 1, event("e1-3", snapshot=True))) == []


def test_the_resume_frame_asks_for_the_snapshot_which_comes_after_reset() -> None:
    s = ClientSession(SessionConfig(endpoint="ws://h/v1/events"))
    wall = s.subscribe(T0, 0.5, "queue.>", snapshot=True)
    connect(s, 1)
    frame(s, 1, {"op": "subscribed", "req": "1", "topics": ["queue.>"], "head": "e1-2"})
    frame(s, 1, {"op": "snapshotted", "req": "1", "count": 0})
    frame(s, 1, event("e1-3"))
    s.closed(T0 + 1, 0.5, 1, 1006, "")
    assert connect(s, 2, now=T0 + 1000) == [{"op": "subscribe", "req": "2", "topics": ["queue.>"], "from": "e1-3",
                                             "snapshot": True}]
    frame(s, 2, {"op": "subscribed", "req": "2", "topics": ["queue.>"], "head": "e1-50"})
    acts = frame(s, 2, {"op": "reset", "reason": "retention_exceeded", "from": "e1-3", "position": "e1-50"})
    assert notices(acts)[0].kind is NoticeKind.RESET
    acts = frame(s, 2, event("e1-41", snapshot=True))
    assert delivered(acts) == [("e1-41", (wall,), True)]
    assert notices(frame(s, 2, {"op": "snapshotted", "req": "2", "count": 1}))[0].kind is NoticeKind.SNAPSHOTTED
    frame(s, 2, {"op": "replayed", "req": "2", "count": 0})
    assert s.last_event_id == "e1-50"
    assert delivered(frame(s, 2, event("e1-51"))) == [("e1-51", (wall,), False)]


def test_a_snapshot_handle_on_a_held_pattern_asks_in_a_frame_of_its_own() -> None:
    s = ClientSession(SessionConfig(endpoint="ws://h/v1/events"))
    first = s.subscribe(T0, 0.5, "queue.>", snapshot=True)
    connect(s, 1)
    frame(s, 1, {"op": "subscribed", "req": "1", "topics": ["queue.>"], "head": "e1-2"})
    frame(s, 1, {"op": "snapshotted", "req": "1", "count": 0})
    second = s.subscribe(T0, 0.5, "queue.>", snapshot=True)
    acts = s.take_actions()
    assert notices(acts) == [Notice(NoticeKind.SUBSCRIBED, "queue.>", "subscribed to `queue.>`", second)]
    assert sends(acts) == [{"op": "subscribe", "req": "2", "topics": ["queue.>"], "snapshot": True}]
    assert notices(frame(s, 1, {"op": "subscribed", "req": "2", "topics": ["queue.>"], "head": "e1-2"})) == []
    assert delivered(frame(s, 1, event("e1-2", snapshot=True))) == [("e1-2", (second,), True)]
    assert [n.handle for n in notices(frame(s, 1, {"op": "snapshotted", "req": "2", "count": 1}))] == [second]
    assert first != second


def test_unsubscribed_snapshot_handle_gets_neither_events_nor_notice() -> None:
    s = ClientSession(SessionConfig(endpoint="ws://h/v1/events"))
    wall = s.subscribe(T0, 0.5, "queue.>", snapshot=True)
    other = s.subscribe(T0, 0.5, "queue.>")
    connect(s, 1)
    frame(s, 1, {"op": "subscribed", "req": "1", "topics": ["queue.>"], "head": "e1-2"})
    s.unsubscribe(T0, 0.5, wall)
    assert delivered(frame(s, 1, event("e1-1", snapshot=True))) == []
    assert notices(frame(s, 1, {"op": "snapshotted", "req": "1", "count": 1})) == []
    assert delivered(frame(s, 1, event("e1-3"))) == [("e1-3", (other,), False)]


def test_delay_uses_the_offset_from_ready_and_live_events_enter_the_stats() -> None:
    s = ClientSession(SessionConfig(endpoint="ws://h/v1/events"))
    s.subscribe(T0, 0.5, "queue.>")
    connect(s, 1, time_ms=T0 + 1_000)  # the server's clock is 1 s ahead
    frame(s, 1, {"op": "subscribed", "req": "1", "topics": ["queue.>"], "head": "e1-0"})
    assert s.latency() == LatencyStats(0, 0, 0, 1_000)
    now = TIME_MS - 1_000 + 40  # 40 ms after the event's time, on the server's clock
    acts = [a for a in s.frame(now, 0.5, 1, event("e1-1")) if isinstance(a, Deliver)]
    assert acts[0].delay_ms == 40
    fast = s.event_fast(now + 10, 1, "e1-2", "queue.q1.depth-changed", TIME)
    assert fast == ((1,), 50)
    assert s.latency() == LatencyStats(2, 40, 50, 1_000)
    # A time that does not parse: no delay, nothing in the stats.
    acts = [a for a in s.frame(now, 0.5, 1, event("e1-3", time="yesterday")) if isinstance(a, Deliver)]
    assert acts[0].delay_ms is None and s.latency().count == 2


def test_pongs_refine_the_offset_shortest_round_trip_wins() -> None:
    s = ClientSession(SessionConfig(endpoint="ws://h/v1/events"))
    s.subscribe(T0, 0.5, "queue.>")
    connect(s, 1, time_ms=T0 + 5_000)
    assert s.latency().clock_offset_ms == 5_000

    def ping_pong(sent: int, rtt: int, server: int) -> None:
        req = sends(s.timer_fired(sent, 0.5, Timer.HEARTBEAT))[0]["req"]
        frame(s, 1, {"op": "pong", "req": req, "time_ms": server}, now=sent + rtt)

    t1 = T0 + 20_000
    ping_pong(t1, 100, t1 + 50 + 2_000)  # midpoint t1+50 -> offset 2,000
    assert s.latency().clock_offset_ms == 2_000
    t2 = t1 + 20_000
    ping_pong(t2, 20, t2 + 10 + 1_500)  # shorter round trip: wins
    assert s.latency().clock_offset_ms == 1_500
    t3 = t2 + 20_000
    ping_pong(t3, 300, t3 + 150 + 9_000)  # longer: the better sample stays
    assert s.latency().clock_offset_ms == 1_500
    # A pong without time_ms (an older server) changes nothing.
    req = sends(s.timer_fired(t3 + 20_000, 0.5, Timer.HEARTBEAT))[0]["req"]
    frame(s, 1, {"op": "pong", "req": req}, now=t3 + 20_001)
    assert s.latency().clock_offset_ms == 1_500


def test_an_older_server_without_time_ms_leaves_the_offset_at_zero() -> None:
    s = ClientSession(SessionConfig(endpoint="ws://h/v1/events"))
    s.subscribe(T0, 0.5, "queue.>")
    connect(s, 1)
    assert s.latency().clock_offset_ms == 0


def test_replayed_and_snapshot_events_stay_out_of_the_stats() -> None:
    s = ClientSession(SessionConfig(endpoint="ws://h/v1/events"))
    s.subscribe(T0, 0.5, "queue.>", snapshot=True)
    connect(s, 1, time_ms=T0)
    frame(s, 1, {"op": "subscribed", "req": "1", "topics": ["queue.>"], "head": "e1-1"})
    acts = [a for a in s.frame(TIME_MS + 7, 0.5, 1, event("e1-1", snapshot=True)) if isinstance(a, Deliver)]
    assert acts[0].delay_ms == 7  # its age: computed, not counted
    frame(s, 1, {"op": "snapshotted", "req": "1", "count": 1})
    s.closed(T0, 0.5, 1, 1006, "")
    connect(s, 2, time_ms=T0)
    frame(s, 2, {"op": "subscribed", "req": "2", "topics": ["queue.>"], "head": "e1-3"})
    s.frame(TIME_MS + 900, 0.5, 2, event("e1-2"))  # replayed
    assert s.event_fast(TIME_MS + 900, 2, "e1-3", "queue.q1.depth-changed", TIME) == ((1,), 900)  # replayed
    assert s.latency().count == 0
    frame(s, 2, {"op": "replayed", "req": "2", "count": 2})
    s.frame(TIME_MS + 30, 0.5, 2, event("e1-4"))  # live
    assert s.latency() == LatencyStats(1, 30, 30, 0)


def test_time_parsing() -> None:
    assert parse_time_ms("1970-01-01T00:00:00Z") == 0
    assert parse_time_ms("1970-01-01T00:00:00.001Z") == 1
    assert parse_time_ms("2026-11-27T18:02:11.204Z") == 1_795_802_531_204
    assert parse_time_ms("2026-11-27T18:02:11.2049Z") == 1_795_802_531_204  # cut to ms
    assert parse_time_ms("2026-11-27T19:02:11.204+01:00") == 1_795_802_531_204
    assert parse_time_ms("2024-02-29T00:00:00Z") == 1_709_164_800_000
    for bad in ("", "2026-11-27", "2026-11-27T18:02:11", "2026-13-01T00:00:00Z", "2026-01-32T00:00:00Z", "2026-02-30T00:00:00Z",
                "2026-11-27T24:00:00Z", "2026-11-27T18:02:11.Z", "2026-11-27T18:02:11.204", "x026-11-27T18:02:11Z"):
        assert parse_time_ms(bad) is None, bad


def test_the_time_reader_reads_what_parse_time_ms_reads() -> None:
    r = TimeReader()
    for text in ("2026-11-27T18:02:11.204Z", "2026-11-27T18:02:11.999Z", "2026-11-27T18:02:11.0x0Z",
                 "2026-11-27T18:02:12.000Z", "2026-11-27T19:02:12.001+01:00", "2026-11-27T18:02:12.5Z",
                 "1969-12-31T23:59:59.250Z", "1969-12-31T23:59:59.999Z", "2026-11-27T18:02:12.001Z"):
        assert r.read(text) == parse_time_ms(text), text


def test_percentiles_are_nearest_rank_over_the_last_thousand() -> None:
    w = DelayWindow()
    for d in range(1, 101):
        w.add(d)
    assert w.stats(0) == LatencyStats(100, 50, 99, 0)
    for _ in range(1_000):
        w.add(7)
    assert w.stats(3) == LatencyStats(1_000, 7, 7, 3)  # count: the events in the window
    c = ClockOffset()
    c.on_pong(100, 90, 5)  # a clock that went backwards: ignored
    assert c.offset_ms == 0


def test_offset_newest_of_equal_round_trips_and_a_ready_without_time() -> None:
    c = ClockOffset()
    c.on_ready(0, 1_000)
    c.on_pong(0, 10, 205)    # round trip 10, offset 200
    c.on_pong(20, 30, 325)   # round trip 10 too, offset 300: the newer wins
    c.on_pong(40, 90, 9_065)  # longer: ignored
    assert c.offset_ms == 300
    c.on_ready(100, None)    # an older server: the offset stays, the pongs go
    assert c.offset_ms == 300
    c.on_pong(200, 250, 625)  # round trip 50, offset 400: the only sample now
    assert c.offset_ms == 400
