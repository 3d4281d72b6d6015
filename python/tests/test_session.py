"""The sans-I/O session in virtual time: each test steps the machine with explicit times and
random numbers and compares whole actions, as tests/core does for core/client_session."""
from __future__ import annotations

import base64
import json
from collections.abc import Sequence

import pytest

from globemeet.session import (
    ArmTimer, CancelTimer, ClientSession, Close, Deliver, Notice, NoticeKind, Open, RequestToken, Send,
    SessionConfig, State, StateChanged, Timer, TokenReason, is_final_close_code,
)

T0 = 1_800_000_000_000  # virtual Unix time, ms
EXP = T0 // 1000 + 900


def jwt(exp: int) -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln"


def ready(exp: int = EXP, head: str = "e1-0", heartbeat_ms: int = 20_000) -> str:
    return json.dumps({"op": "ready", "sub": "s", "tenant": "acme", "exp": exp, "heartbeat_ms": heartbeat_ms, "head": head})


TIME = "2026-11-27T18:02:11.204Z"


def event(eid: str, topic: str = "queue.q1.depth-changed", time: str = TIME, snapshot: bool = False) -> str:
    frame = {"op": "event", "specversion": "1.0", "id": eid, "source": "/tenants/acme/queues/q1",
             "type": "queue.depth-changed", "subject": "q1", "time": time,
             "topic": topic, "tenant": "acme", "data": {"queue_id": "q1", "depth": 1, "longest_wait_seconds": 0}}
    if snapshot:
        frame["snapshot"] = True
    return json.dumps(frame)


def sends(actions: Sequence[object]) -> list[dict[str, object]]:
    return [json.loads(a.text) for a in actions if isinstance(a, Send)]


def notices(actions: Sequence[object]) -> list[Notice]:
    return [a for a in actions if isinstance(a, Notice)]


def live_session(provider: bool = False, pattern: str = "queue.>") -> tuple[ClientSession, int]:
    s = ClientSession(SessionConfig(endpoint="ws://h/v1/events", token_provider=provider))
    s.subscribe(T0, 0.5, pattern)
    acts = s.start(T0, 0.5)
    assert acts == [StateChanged(State.IDLE, State.FETCHING_TOKEN, 0, "a token is needed"),
                    RequestToken(TokenReason.CONNECT)]
    acts = s.token_obtained(T0, 0.5, jwt(EXP))
    assert acts[1] == Open(1, "ws://h/v1/events", "globemeet-events.v1", "Bearer " + jwt(EXP), "")
    s.opened(T0, 0.5, 1)
    acts = s.frame(T0, 0.5, 1, ready())
    assert sends(acts) == [{"op": "subscribe", "req": "1", "topics": [pattern]}]
    acts = s.frame(T0, 0.5, 1, json.dumps({"op": "subscribed", "req": "1", "topics": [pattern], "head": "e1-0"}))
    assert acts == [Notice(NoticeKind.SUBSCRIBED, pattern, f"subscribed to `{pattern}`", 1)]
    return s, 1


def test_head_of_first_subscribe_is_the_resume_position_and_resume_uses_it() -> None:
    s, conn = live_session()
    assert s.last_event_id == "e1-0"
    acts = s.closed(T0 + 5, 0.5, conn, 1006, "")
    assert acts[-1] == ArmTimer(Timer.RECONNECT, T0 + 5 + 250)  # full jitter: 0.5 * (500 + 1)
    acts = s.timer_fired(T0 + 255, 0.5, Timer.RECONNECT)
    assert any(isinstance(a, Open) and a.last_event_id == "e1-0" for a in acts)
    s.opened(T0 + 256, 0.5, 2)
    acts = s.frame(T0 + 257, 0.5, 2, ready())
    assert sends(acts) == [{"op": "subscribe", "req": "2", "topics": ["queue.>"], "from": "e1-0"}]
    assert notices(acts)[-1].kind is NoticeKind.RECONNECTED


def test_events_delivered_once_in_order_duplicates_dropped() -> None:
    s, conn = live_session()
    acts = s.frame(T0, 0.5, conn, event("e1-3"))
    assert [a.id for a in acts if isinstance(a, Deliver)] == ["e1-3"]
    assert s.frame(T0, 0.5, conn, event("e1-3")) == []
    assert s.frame(T0, 0.5, conn, event("e1-2")) == []
    assert s.event_fast(T0, conn, "e1-4", "queue.q1.depth-changed", TIME)[0] == (1,)
    assert s.event_fast(T0, conn, "e1-4", "queue.q1.depth-changed", TIME) == ((), None)
    assert s.event_fast(T0, conn, "e1-5", "agent.a.busy", TIME) == ((), None)  # nobody subscribed
    assert s.last_event_id == "e1-5"


def test_event_from_another_epoch_without_reset_closes_1008_and_keeps_the_old_id() -> None:
    s, conn = live_session()
    s.frame(T0, 0.5, conn, event("e1-3"))
    assert s.event_fast(T0, conn, "f2-1", "queue.q1.depth-changed", TIME) is None
    acts = s.event_received(T0, 0.5, conn, "f2-1", "queue.q1.depth-changed")
    assert notices(acts)[0].detail == "epoch_changed"
    assert Close(conn, 1008, "event from another epoch without reset") in acts
    assert s.last_event_id == "e1-3" and s.state is State.RECONNECTING


def test_reset_moves_the_position() -> None:
    s, conn = live_session()
    acts = s.frame(T0, 0.5, conn, json.dumps({"op": "reset", "reason": "epoch_changed", "from": "e1-0", "position": "f2-0"}))
    assert notices(acts)[0].kind is NoticeKind.RESET and notices(acts)[0].detail == "epoch_changed"
    assert s.last_event_id == "f2-0"
    assert [a.id for a in s.frame(T0, 0.5, conn, event("f2-1")) if isinstance(a, Deliver)] == ["f2-1"]


@pytest.mark.parametrize("code,final", [(1000, True), (1001, False), (1002, True), (1003, True), (1006, False),
                                        (1007, True), (1008, True), (1009, True), (1011, False), (1012, False),
                                        (4000, False), (4001, False), (4003, False), (4029, False), (4099, False),
                                        (4400, True), (4401, True), (4403, True), (4499, True), (3000, False)])
def test_close_code_classes(code: int, final: bool) -> None:
    assert is_final_close_code(code) == final
    s, conn = live_session()
    acts = s.closed(T0, 0.5, conn, code, "why")
    if final:
        assert notices(acts)[-1] == Notice(NoticeKind.ERROR, "closed", f"stopped for good after close {code}: why", 0, code, "why")
        assert s.state is State.CLOSED and s.final_code == code
    else:
        assert s.state is State.RECONNECTING


def test_4401_asks_a_provider_once_then_gives_up() -> None:
    s, conn = live_session(provider=True)
    s.closed(T0, 0.0, conn, 4401, "bad signature")
    acts = s.timer_fired(T0, 0.0, Timer.RECONNECT)
    assert RequestToken(TokenReason.REFUSED) in acts
    s.token_obtained(T0, 0.0, jwt(EXP))
    acts = s.closed(T0, 0.0, 2, 4401, "bad signature")
    assert s.state is State.CLOSED and notices(acts)[-1].close_code == 4401


def test_fixed_token_stops_at_4401() -> None:
    s, conn = live_session(provider=False)
    s.closed(T0, 0.0, conn, 4401, "")
    assert s.state is State.CLOSED


def test_token_reasons_refresh_expiring_expired() -> None:
    s, conn = live_session(provider=True)
    # The refresh timer is armed 60 s before exp.
    acts = s.timer_fired(EXP * 1000 - 60_000, 0.5, Timer.REFRESH)
    assert acts == [RequestToken(TokenReason.REFRESH)]
    acts = s.token_obtained(EXP * 1000 - 60_000, 0.5, jwt(EXP + 900))
    assert sends(acts) == [{"op": "refresh", "req": "2", "token": jwt(EXP + 900)}]
    s.frame(T0, 0.5, conn, json.dumps({"op": "refreshed", "req": "2", "exp": EXP + 900}))
    acts = s.frame(T0, 0.5, conn, json.dumps({"op": "expiring", "exp": EXP + 900, "grace_ms": 30000}))
    assert acts[-1] == RequestToken(TokenReason.EXPIRING)
    s.token_failed(T0, 0.5, "down")
    s.closed(T0, 0.0, conn, 4001, "token expired")
    assert RequestToken(TokenReason.EXPIRED) in s.timer_fired(T0, 0.0, Timer.RECONNECT)


def test_two_expired_tokens_in_a_row_end_the_session() -> None:
    s = ClientSession(SessionConfig(endpoint="ws://h/v1/events", token_provider=True))
    s.start(T0, 0.5)
    s.token_obtained(T0, 0.0, jwt(T0 // 1000 - 10))
    assert s.state is State.RECONNECTING
    s.timer_fired(T0, 0.0, Timer.RECONNECT)
    acts = s.token_obtained(T0, 0.0, jwt(T0 // 1000 - 10))
    assert s.state is State.CLOSED and s.final_code == 4001 and notices(acts)[-1].detail == "closed"


def test_heartbeat_and_pong_timeout() -> None:
    s, conn = live_session()
    acts = s.timer_fired(T0 + 20_000, 0.5, Timer.HEARTBEAT)
    assert sends(acts) == [{"op": "ping", "req": "2"}] and ArmTimer(Timer.PONG, T0 + 40_000) in acts
    acts = s.timer_fired(T0 + 40_000, 0.5, Timer.PONG)
    assert Close(conn, 4003, "no pong within heartbeat_ms") in acts and s.state is State.RECONNECTING


def test_refused_subscription_drops_the_culprit_and_retries_the_rest() -> None:
    s = ClientSession(SessionConfig(endpoint="ws://h/v1/events"))
    s.subscribe(T0, 0.5, "agent.>")
    s.subscribe(T0, 0.5, "queue.>")
    s.start(T0, 0.5)
    s.token_obtained(T0, 0.5, jwt(EXP))
    s.opened(T0, 0.5, 1)
    assert sends(s.frame(T0, 0.5, 1, ready()))[0]["topics"] == ["agent.>", "queue.>"]
    acts = s.frame(T0, 0.5, 1, json.dumps({"op": "error", "req": "1", "code": "forbidden_topic", "message": "no", "topic": "agent.>"}))
    assert notices(acts)[0] == Notice(NoticeKind.SUBSCRIPTION_FAILED, "forbidden_topic", "no", 1)
    assert sends(acts) == [{"op": "subscribe", "req": "2", "topics": ["queue.>"]}]


def test_closing_delays_the_reconnect_and_stop_leaves_nothing_armed() -> None:
    s, conn = live_session()
    s.frame(T0, 0.5, conn, json.dumps({"op": "closing", "reason": "drain", "reconnect_after_ms": 5000}))
    acts = s.closed(T0, 0.0, conn, 1001, "")
    assert ArmTimer(Timer.RECONNECT, T0 + 5000) in acts
    acts = s.stop(T0, 0.5)
    assert CancelTimer(Timer.RECONNECT) in acts and s.state is State.CLOSED and s.final_code == 1000


def test_invalid_pattern_raises_before_anything_is_sent() -> None:
    s = ClientSession(SessionConfig(endpoint="ws://h/v1/events"))
    with pytest.raises(ValueError, match="must be a whole segment"):
        s.subscribe(T0, 0.5, "queue.sup*")
    # A pattern that can never match a three-segment name is refused the same way.
    with pytest.raises(ValueError, match="can never match a topic name"):
        s.subscribe(T0, 0.5, "queue.support")
    assert s.take_actions() == []


def test_disconnect_waits_in_idle_and_start_resumes() -> None:
    s, conn = live_session()
    s.frame(T0, 0.5, conn, event("e1-7"))
    acts = s.disconnect(T0, 0.5)
    assert Close(conn, 1000, "client disconnected") in acts and s.state is State.IDLE
    acts = s.start(T0, 0.5)
    assert any(isinstance(a, Open) and a.last_event_id == "e1-7" for a in acts)


def test_resume_not_allowed_is_retried_without_from() -> None:
    s, conn = live_session()
    s.frame(T0, 0.5, conn, event("e1-4"))
    s.closed(T0, 0.0, conn, 1006, "")
    s.timer_fired(T0, 0.0, Timer.RECONNECT)
    s.opened(T0, 0.5, 2)
    assert sends(s.frame(T0, 0.5, 2, ready()))[0]["from"] == "e1-4"
    acts = s.frame(T0, 0.5, 2, json.dumps({"op": "error", "req": "2", "code": "resume_not_allowed", "message": "m"}))
    assert sends(acts) == [{"op": "subscribe", "req": "3", "topics": ["queue.>"]}]


def test_too_many_subscriptions_fails_every_pattern_of_the_request() -> None:
    s, conn = live_session()
    h2 = s.subscribe(T0, 0.5, "agent.>")
    acts = s.take_actions()
    assert sends(acts) == [{"op": "subscribe", "req": "2", "topics": ["agent.>"]}]
    acts = s.frame(T0, 0.5, conn, json.dumps({"op": "error", "req": "2", "code": "too_many_subscriptions", "message": "m"}))
    assert notices(acts) == [Notice(NoticeKind.SUBSCRIPTION_FAILED, "too_many_subscriptions", "m", h2)]
    assert s.pattern_of(h2) is None


def test_a_refused_ping_still_proves_the_connection_alive() -> None:
    s, conn = live_session()
    s.timer_fired(T0 + 20_000, 0.5, Timer.HEARTBEAT)
    acts = s.frame(T0 + 20_001, 0.5, conn, json.dumps({"op": "error", "req": "2", "code": "rate_limited", "message": "m"}))
    assert CancelTimer(Timer.PONG) in acts and ArmTimer(Timer.HEARTBEAT, T0 + 40_000) in acts
    assert notices(acts) == []  # only early, not wrong: nothing to tell the application


def test_rate_limited_subscribe_and_unsubscribe_go_out_again_a_second_later() -> None:
    s, conn = live_session()  # holds queue.> (handle 1); req 1 was its subscribe
    h_agent = s.subscribe(T0, 0.5, "agent.>")
    h_session = s.subscribe(T0, 0.5, "session.>")
    assert sends(s.take_actions()) == [{"op": "subscribe", "req": "2", "topics": ["agent.>"]},
                                       {"op": "subscribe", "req": "3", "topics": ["session.>"]}]
    limited = {"op": "error", "code": "rate_limited", "message": "more than 100 requests per second"}
    acts = s.frame(T0, 0.5, conn, json.dumps({**limited, "req": "2"}))
    assert acts == [ArmTimer(Timer.RESEND, T0 + 1_000)]
    s.frame(T0, 0.5, conn, json.dumps({"op": "subscribed", "req": "3", "topics": ["session.>"], "head": "e1-0"}))
    assert sends(s.unsubscribe(T0, 0.5, h_session)) == [{"op": "unsubscribe", "req": "4", "topics": ["session.>"]}]
    assert s.frame(T0, 0.5, conn, json.dumps({**limited, "req": "4"})) == []

    acts = s.timer_fired(T0 + 1_000, 0.5, Timer.RESEND)
    assert sends(acts) == [{"op": "subscribe", "req": "5", "topics": ["agent.>"]},
                           {"op": "unsubscribe", "req": "6", "topics": ["session.>"]}]
    acts = s.frame(T0 + 1_000, 0.5, conn, json.dumps({"op": "subscribed", "req": "5", "topics": ["agent.>"], "head": "e1-0"}))
    assert acts == [Notice(NoticeKind.SUBSCRIBED, "agent.>", "subscribed to `agent.>`", h_agent)]


def test_rate_limited_refresh_keeps_the_token_and_retries() -> None:
    s, conn = live_session(provider=True)
    s.timer_fired(EXP * 1000 - 60_000, 0.5, Timer.REFRESH)
    newer = jwt(EXP + 840)
    assert sends(s.token_obtained(EXP * 1000 - 60_000, 0.5, newer)) == [{"op": "refresh", "req": "2", "token": newer}]
    acts = s.frame(EXP * 1000 - 60_000, 0.5, conn, json.dumps(
        {"op": "error", "req": "2", "code": "rate_limited", "message": "more than 100 requests per second"}))
    assert acts == [ArmTimer(Timer.REFRESH, EXP * 1000 - 60_000 + 250)]


def test_handshake_timeout_closes_4002_and_4029_waits_at_least_the_minimum() -> None:
    s = ClientSession(SessionConfig(endpoint="ws://h/v1/events"))
    s.start(T0, 0.5)
    s.token_obtained(T0, 0.5, jwt(EXP))
    acts = s.timer_fired(T0 + 10_000, 0.5, Timer.HANDSHAKE)
    assert Close(1, 4002, "no ready within the handshake timeout") in acts
    s.timer_fired(T0 + 20_000, 0.0, Timer.RECONNECT)
    acts = s.closed(T0 + 20_000, 0.0, 2, 4029, "handshake refused with HTTP 429")
    assert ArmTimer(Timer.RECONNECT, T0 + 20_000 + 500) in acts  # random 0 would give 0


def test_a_token_no_newer_than_the_connections_is_not_sent_but_retried() -> None:
    s, conn = live_session(provider=True)
    s.timer_fired(EXP * 1000 - 60_000, 0.5, Timer.REFRESH)
    acts = s.token_obtained(EXP * 1000 - 60_000, 0.0, jwt(EXP))
    assert sends(acts) == [] and acts == [ArmTimer(Timer.REFRESH, EXP * 1000 - 60_000)]


def test_late_inputs_about_an_abandoned_connection_are_ignored() -> None:
    s, conn = live_session()
    s.timer_fired(T0 + 20_000, 0.5, Timer.HEARTBEAT)
    s.timer_fired(T0 + 40_000, 0.5, Timer.PONG)  # gives connection 1 up
    assert s.frame(T0, 0.5, conn, event("e1-9")) == []
    assert s.closed(T0, 0.5, conn, 1000, "late") == []
    assert s.state is State.RECONNECTING and s.last_event_id == "e1-0"
