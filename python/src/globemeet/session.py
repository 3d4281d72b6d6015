"""The client's connection state machine, sans I/O: the Python twin of
core/include/globemeet/core/client_session.hpp, whose theory of operation applies word for word.

The session never touches a socket, a clock or a random source. An adapter feeds it inputs,
each stamped with the time (Unix milliseconds) and a random number in [0, 1), and performs the
actions it returns, in order:

    inputs:  start, token_obtained / token_failed, opened, frame, event_received, closed,
             timer_fired, subscribe / unsubscribe (the user), stop
    actions: Open, Send, Close, ArmTimer, CancelTimer, RequestToken (with a reason), Deliver,
             StateChanged, Notice (reconnected, reset, overflow, error, subscription_failed,
             revoked, token_expiring, subscribed, snapshotted)

Every connection has a number; an input about one the session has given up on is ignored, so
the adapter never reasons about races. Timers are identified by kind: arming a kind replaces
its deadline; a timer_fired for a kind not armed is ignored. Adapters report a refused handshake
as a close: network failure 1006, HTTP 401 4401, 403 4403, 429 4029, other 4xx 4400, 5xx 1011.

Snapshot and latency (docs/protocol.md section 9): a handle subscribed with snapshot=True puts
`"snapshot":true` on every subscribe frame that carries its pattern (the resume frame too, so a
`reset` brings the snapshot); one added to a pattern the connection already holds asks for it
in a frame of its own. Snapshot events go only to the handles waiting for a snapshot on this
connection, bypass duplicate suppression and never move the last id; `snapshotted` ends the
wait with Notice SNAPSHOTTED (detail: the count) per handle. Every delivered event whose `time`
parses carries its delay (local clock + offset - time); live ones (not replayed, not snapshot)
enter latency().

Each input method returns the actions it produced (and take_actions() returns any left), so a
test steps the machine and compares whole action values, as tests/core does for the C++ core.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Union

from globemeet import _codec, _topic
from globemeet._backoff import BackoffPolicy, backoff_delay
from globemeet._event_id import ResumeState, Verdict, parse_event
from globemeet._latency import ClockOffset, DelayWindow, LatencyStats, TimeReader
from globemeet._event_id import parse as parse_position

SUBPROTOCOL = "globemeet-events.v1"
MAX_TOPICS_PER_SUBSCRIBE = 64
_MAX_BACKOFF_ATTEMPT = 64
_EXPIRED_TOKENS_BEFORE_GIVING_UP = 2
_RATE_WINDOW_MS = 1_000  # the server's request-rate window (docs/protocol.md section 10)

CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_VIOLATION = 1008
CLOSE_HANDSHAKE_TIMEOUT = 4002
CLOSE_HEARTBEAT_TIMEOUT = 4003
_CLOSE_TOKEN_EXPIRED = 4001
_CLOSE_INVALID_TOKEN = 4401
_CLOSE_TOO_MANY_CONNECTIONS = 4029


class State(str, enum.Enum):
    IDLE = "idle"
    FETCHING_TOKEN = "fetching_token"
    CONNECTING = "connecting"
    AUTHENTICATING = "authenticating"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


class Timer(str, enum.Enum):
    RECONNECT = "reconnect"   # backoff elapsed: connect again
    HANDSHAKE = "handshake"   # open + ready must happen before this
    HEARTBEAT = "heartbeat"   # send a `ping`
    PONG = "pong"             # the `pong` for the last ping is overdue
    REFRESH = "refresh"       # ask for a new token before `exp`
    STABLE = "stable"         # up long enough to reset the backoff
    RESEND = "resend"         # requests refused as rate_limited go out again


class TokenReason(str, enum.Enum):
    CONNECT = "connect"       # a connection needs a token and the session holds none it can use
    REFRESH = "refresh"       # the token nears `exp`, or a refresh is retried
    EXPIRING = "expiring"     # the server warned with `expiring`
    EXPIRED = "expired"       # the server closed with 4001
    REFUSED = "refused"       # the server closed with 4401 (e.g. a new signing key)


class NoticeKind(str, enum.Enum):
    RECONNECTED = "reconnected"
    RESET = "reset"
    OVERFLOW = "overflow"
    ERROR = "error"
    SUBSCRIPTION_FAILED = "subscription_failed"
    REVOKED = "revoked"
    TOKEN_EXPIRING = "token_expiring"
    SUBSCRIBED = "subscribed"
    SNAPSHOTTED = "snapshotted"   # the snapshot `handle` asked for is complete: detail is the count


@dataclass(frozen=True)
class SessionConfig:
    endpoint: str
    token_in_header: bool = True     # native: Authorization header; else an `auth` frame
    token_provider: bool = False     # request_token reaches a provider that can mint a new token
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    handshake_timeout_ms: int = 10_000
    refresh_before_ms: int = 60_000
    stable_after_ms: int = 10_000
    default_heartbeat_ms: int = 20_000
    conflate: bool = False           # every subscribe carries "conflate": true (section 7.1)


# ---- actions -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Open:
    connection: int
    url: str
    subprotocol: str
    authorization: str    # "Bearer <jwt>" or "" (then the session sends `auth`)
    last_event_id: str    # for the Last-Event-ID header; "" when none


@dataclass(frozen=True)
class Send:
    connection: int
    text: str


@dataclass(frozen=True)
class Close:
    connection: int
    code: int
    reason: str


@dataclass(frozen=True)
class ArmTimer:
    timer: Timer
    at_ms: int


@dataclass(frozen=True)
class CancelTimer:
    timer: Timer


@dataclass(frozen=True)
class RequestToken:
    reason: TokenReason


@dataclass(frozen=True)
class Deliver:
    # After `frame`: the decoded frame object. After `event_received`: None (the adapter hands
    # the user the event it fed in). `handles`: the subscriptions whose pattern matches.
    # `snapshot`: a snapshot event (section 5.3), for the handles waiting for their snapshot.
    # `delay_ms`: local clock + server offset - the event's `time`; None when `time` does not parse.
    event: dict[str, Any] | None
    id: str
    topic: str
    handles: tuple[int, ...]
    snapshot: bool = False
    delay_ms: int | None = None


@dataclass(frozen=True)
class StateChanged:
    from_state: State
    to_state: State
    code: int
    reason: str


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    detail: str
    message: str
    handle: int = 0
    close_code: int = 0
    close_reason: str = ""


Action = Union[Open, Send, Close, ArmTimer, CancelTimer, RequestToken, Deliver, StateChanged, Notice]


def is_final_close_code(code: int) -> bool:
    """docs/protocol.md section 8: final codes stop the client; all others reconnect."""
    if code in (1000, 1002, 1003, 1007, 1008, 1009):
        return True
    return 4400 <= code <= 4499


def _seconds_to_ms(s: int) -> int:
    return min(max(s, 0), 900_000_000_000) * 1000


class _Pending:
    __slots__ = ("what", "topics")

    def __init__(self, what: str, topics: list[str]) -> None:
        self.what = what   # subscribe, unsubscribe, refresh, ping
        self.topics = topics


class ClientSession:
    """See the module docstring. Not thread-safe; one adapter drives it."""

    def __init__(self, config: SessionConfig) -> None:
        self.config = config
        self._state = State.IDLE
        self._actions: list[Action] = []
        self._armed: dict[Timer, int] = {}
        self._final_code = 0
        # Token.
        self._token: str | None = None
        self._token_exp_ms: int | None = None
        self._token_requested = False
        self._connect_reason = TokenReason.CONNECT
        self._expired_in_a_row = 0
        self._refused_token_replaced = False
        # Resume and the user's subscriptions (they outlive connections).
        self._resume = ResumeState()
        self._next_handle = 1
        self._handle_pattern: dict[int, str] = {}
        self._pattern_handles: dict[str, list[int]] = {}
        # Topic names seen (valid ones only) -> the handles they match; emptied whenever the
        # subscriptions change. Spares the grammar check and the matching per event.
        self._topic_handles: dict[str, tuple[int, ...]] = {}
        self._snapshot_handles: set[int] = set()   # handles subscribed with snapshot=True
        # On the current connection: the subscribe each such handle awaits its snapshot from,
        # and the handles that had it (or whose resume made it unnecessary).
        self._snapshot_req: dict[int, str] = {}
        self._snapshot_had: set[int] = set()
        # Latency: the server clock, the live events' delays, the events' `time` read.
        self._clock = ClockOffset()
        self._delays = DelayWindow()
        self._times = TimeReader()
        # Reconnecting.
        self._attempt = 0
        self._closing_delay_ms: int | None = None
        self._ever_ready = False
        self._next_req = 1
        # The current connection.
        self._connection = 0
        self._connection_active = False
        self._connection_patterns: set[str] = set()
        self._confirmed_patterns: set[str] = set()
        self._unsubscribe_again: set[str] = set()  # unsubscribes refused as rate_limited
        self._from_req = ""        # the subscribe that carried `from`, until its `replayed`
        self._replaying = False    # between that request's `subscribed` and `replayed`
        self._resume_refused = False
        self._head_req = ""
        self._pending: dict[str, _Pending] = {}
        self._heartbeat_ms = 0
        self._connection_exp_ms = 0
        self._ping_req = ""
        self._ping_sent_ms = 0
        self._refresh_failures = 0

    # ---- queries -------------------------------------------------------------------------
    @property
    def state(self) -> State:
        return self._state

    @property
    def final_code(self) -> int:
        return self._final_code

    @property
    def last_event_id(self) -> str | None:
        return self._resume.last()

    def set_last_event_id(self, event_id: str) -> bool:
        """Before start(), to resume after a restart; False when not an id or already started."""
        if self._state is not State.IDLE:
            return False
        return self._resume.set_last(event_id)

    def take_actions(self) -> list[Action]:
        actions, self._actions = self._actions, []
        return actions

    def pattern_of(self, handle: int) -> str | None:
        return self._handle_pattern.get(handle)

    def latency(self) -> LatencyStats:
        """p50/p99 of the delay over the last 1,000 live events, and the clock offset."""
        return self._delays.stats(self._clock.offset_ms)

    # ---- helpers -------------------------------------------------------------------------
    def _set_state(self, to: State, code: int, reason: str) -> None:
        if to is self._state:
            return
        self._actions.append(StateChanged(self._state, to, code, reason))
        self._state = to

    def _arm(self, timer: Timer, at_ms: int) -> None:
        self._armed[timer] = at_ms
        self._actions.append(ArmTimer(timer, at_ms))

    def _cancel(self, timer: Timer) -> None:
        if self._armed.pop(timer, None) is not None:
            self._actions.append(CancelTimer(timer))

    def _notice(self, kind: NoticeKind, detail: str, message: str, handle: int = 0) -> None:
        self._actions.append(Notice(kind, detail, message, handle))

    def _request_id(self) -> str:
        req = str(self._next_req)
        self._next_req += 1
        return req

    def _send(self, text: str) -> None:
        self._actions.append(Send(self._connection, text))

    def _request_token(self, reason: TokenReason) -> None:
        if self._token_requested:
            return
        self._token_requested = True
        self._actions.append(RequestToken(reason))

    def _token_usable(self, now_ms: int) -> bool:
        return self._token is not None and (
            self._token_exp_ms is None or self._token_exp_ms - self.config.refresh_before_ms > now_ms)

    def _retry_delay(self, failures: int, random01: float) -> tuple[int, int]:
        """The backoff delay for `failures` failures so far, and the count after this one."""
        delay = backoff_delay(self.config.backoff, failures, random01)
        return delay, failures + 1 if failures < _MAX_BACKOFF_ATTEMPT else failures

    # ---- connection lifecycle ----------------------------------------------------------------
    def _begin_connect(self, now_ms: int) -> None:
        if self._token_usable(now_ms):
            self._open_connection(now_ms)
            return
        self._set_state(State.FETCHING_TOKEN, 0, "a token is needed")
        self._request_token(self._connect_reason)

    def _open_connection(self, now_ms: int) -> None:
        assert self._token is not None
        self._connection += 1
        self._connection_active = True
        self._connection_patterns.clear()
        self._confirmed_patterns.clear()
        self._resume_refused = False
        self._head_req = ""
        self._pending.clear()
        self._from_req = ""
        self._replaying = False
        self._ping_req = ""
        self._refresh_failures = 0
        self._heartbeat_ms = self.config.default_heartbeat_ms
        self._connection_exp_ms = 0
        self._set_state(State.CONNECTING, 0, "")
        self._actions.append(Open(
            self._connection, self.config.endpoint, SUBPROTOCOL,
            "Bearer " + self._token if self.config.token_in_header else "",
            self._resume.last() or ""))
        self._arm(Timer.HANDSHAKE, now_ms + self.config.handshake_timeout_ms)

    def _leave_connection(self) -> None:
        for k in (Timer.HANDSHAKE, Timer.HEARTBEAT, Timer.PONG, Timer.REFRESH, Timer.STABLE, Timer.RESEND):
            self._cancel(k)
        self._connection_active = False
        self._connection_patterns.clear()
        self._confirmed_patterns.clear()
        self._unsubscribe_again.clear()
        self._pending.clear()
        self._from_req = ""
        self._replaying = False
        self._snapshot_req.clear()
        self._snapshot_had.clear()
        self._ping_req = ""

    def _reconnect_later(self, now_ms: int, random01: float, code: int, reason: str) -> None:
        delay, self._attempt = self._retry_delay(self._attempt, random01)
        if code == _CLOSE_TOO_MANY_CONNECTIONS:
            delay = max(delay, self.config.backoff.min_ms)
        if self._closing_delay_ms is not None:
            delay = max(delay, self._closing_delay_ms)
            self._closing_delay_ms = None
        self._set_state(State.RECONNECTING, code, reason)
        self._arm(Timer.RECONNECT, now_ms + delay)

    def _drop_connection(self, now_ms: int, random01: float, code: int, reason: str) -> None:
        self._actions.append(Close(self._connection, code, reason))
        self._leave_connection()
        self._reconnect_later(now_ms, random01, code, reason)

    def _finish(self, code: int, reason: str) -> None:
        for k in [t for t in Timer if t in self._armed]:
            self._cancel(k)
        self._connection_active = False
        self._final_code = code
        self._set_state(State.CLOSED, code, reason)

    def _give_up(self, code: int, reason: str) -> None:
        # Ends the session for a reason the user did not choose, and says so.
        for k in [t for t in Timer if t in self._armed]:
            self._cancel(k)
        message = f"stopped for good after close {code}"
        if reason:
            message += ": " + reason
        self._actions.append(Notice(NoticeKind.ERROR, "closed", message, 0, code, reason))
        self._finish(code, reason)

    def _arm_refresh(self, now_ms: int) -> None:
        # refresh_before_ms ahead of `exp`; a shorter-lived token halfway to its expiry.
        at = self._connection_exp_ms - self.config.refresh_before_ms
        if at <= now_ms:
            at = now_ms + max(0, (self._connection_exp_ms - now_ms) // 2)
        self._arm(Timer.REFRESH, at)

    def _retry_refresh_later(self, now_ms: int, random01: float) -> None:
        delay, self._refresh_failures = self._retry_delay(self._refresh_failures, random01)
        self._arm(Timer.REFRESH, now_ms + delay)

    # ---- subscriptions -------------------------------------------------------------------
    def _send_subscribe(self, topics: list[str]) -> None:
        for begin in range(0, len(topics), MAX_TOPICS_PER_SUBSCRIBE):
            req = self._request_id()
            chunk = topics[begin:begin + MAX_TOPICS_PER_SUBSCRIBE]
            # `from` is honoured only while the connection holds nothing (section 5.1).
            first = not self._connection_patterns
            from_id = self._resume.last() if first and not self._resume_refused else None
            if first and from_id is None:
                self._head_req = req
            if from_id is not None:
                self._from_req = req
            # `snapshot` when a handle of one of its patterns asked and has not had it on this
            # connection; those handles await it now.
            snapshot = False
            for pattern in chunk:
                for handle in self._pattern_handles.get(pattern, ()):
                    if handle in self._snapshot_handles and handle not in self._snapshot_had:
                        snapshot = True
                        self._snapshot_req[handle] = req
            self._connection_patterns.update(chunk)
            self._pending[req] = _Pending("subscribe", chunk)
            self._send(_codec.encode_subscribe(req, chunk, from_id, snapshot, self.config.conflate))

    def _drop_pattern(self, pattern: str, kind: NoticeKind, detail: str, message: str) -> None:
        self._topic_handles.clear()
        handles = self._pattern_handles.pop(pattern, None)
        if handles is None:
            return
        for handle in handles:
            self._notice(kind, detail, message, handle)
            self._forget(handle)

    def _forget(self, handle: int) -> None:
        self._handle_pattern.pop(handle, None)
        self._snapshot_handles.discard(handle)
        self._snapshot_req.pop(handle, None)
        self._snapshot_had.discard(handle)

    def _snapshot_done(self, req: str, count: int | None) -> None:
        # The handles awaiting the snapshot of `req` stop waiting; with `count`, each is told.
        if not req:
            return
        for handle in sorted(h for h, r in self._snapshot_req.items() if r == req):
            del self._snapshot_req[handle]
            self._snapshot_had.add(handle)
            if count is not None:
                pattern = self._handle_pattern[handle]
                self._notice(NoticeKind.SNAPSHOTTED, str(count),
                             f"the snapshot of `{pattern}` is complete ({count} events)", handle)

    def _handles_for(self, topic_name: str) -> tuple[int, ...]:
        out: list[int] = []
        for pattern, handles in self._pattern_handles.items():
            if _topic.matches(pattern, topic_name):
                out.extend(handles)
        out.sort()
        return tuple(out)

    # ---- server frames -------------------------------------------------------------------
    def _on_frame(self, now_ms: int, random01: float, data: str | bytes) -> None:
        try:
            f = _codec.decode_server(data)
        except _codec.FrameError as e:
            self._notice(NoticeKind.ERROR, "bad_frame", e.message)
            return
        op: str = f["op"]
        # Nothing but `ready` comes before `ready`, except a refused request or `closing`.
        if self._state is State.AUTHENTICATING:
            expected = op in ("ready", "closing", "error")
        else:
            expected = op != "ready"
        if not expected:
            self._notice(NoticeKind.ERROR, "bad_frame", f"unexpected `{op}` while {self._state.value}")
            return
        getattr(self, "_on_" + op)(now_ms, random01, f)

    def _on_ready(self, now_ms: int, random01: float, f: dict[str, Any]) -> None:
        self._cancel(Timer.HANDSHAKE)
        self._clock.on_ready(now_ms, f.get("time_ms"))
        self._refused_token_replaced = False
        self._set_state(State.LIVE, 0, "")
        hb: int = f["heartbeat_ms"]
        self._heartbeat_ms = hb if hb > 0 else self.config.default_heartbeat_ms
        self._connection_exp_ms = _seconds_to_ms(f["exp"])
        self._send_subscribe(sorted(self._pattern_handles))
        self._arm(Timer.HEARTBEAT, now_ms + self._heartbeat_ms)
        self._arm_refresh(now_ms)
        self._arm(Timer.STABLE, now_ms + self.config.stable_after_ms)
        if self._ever_ready:
            self._notice(NoticeKind.RECONNECTED, "", "live again; resuming after the last event")
        self._ever_ready = True

    def _on_subscribed(self, now_ms: int, random01: float, f: dict[str, Any]) -> None:
        req = f.get("req", "")
        self._pending.pop(req, None)
        if req and req == self._from_req:
            self._replaying = True  # replayed events follow until `replayed`: not live latency
        head = f.get("head")
        # The head answering the connection's first subscribe (sent without `from`) is the
        # position to resume from until an event arrives: an outage before it loses nothing.
        if req == self._head_req and self._resume.last() is None and head is not None:
            self._resume.set_last(head)
        for pattern in f["topics"]:
            if pattern not in self._connection_patterns or pattern in self._confirmed_patterns:
                continue
            self._confirmed_patterns.add(pattern)
            for handle in self._pattern_handles.get(pattern, ()):
                self._notice(NoticeKind.SUBSCRIBED, pattern, f"subscribed to `{pattern}`", handle)

    def _on_replayed(self, now_ms: int, random01: float, f: dict[str, Any]) -> None:
        req = f.get("req", "")
        if req and req == self._from_req:
            self._replaying = False
            self._from_req = ""
        self._snapshot_done(req, None)  # the resume was possible: the replay brought them up to date

    def _on_snapshotted(self, now_ms: int, random01: float, f: dict[str, Any]) -> None:
        self._snapshot_done(f.get("req", ""), f["count"])

    def _on_unsubscribed(self, now_ms: int, random01: float, f: dict[str, Any]) -> None:
        req = f.get("req", "")
        if req:
            self._pending.pop(req, None)
        reason: str = f["reason"]
        for pattern in f["topics"]:
            self._connection_patterns.discard(pattern)
            self._confirmed_patterns.discard(pattern)
            # Anything but the client's own request takes the pattern away from the user.
            if reason != "requested":
                self._drop_pattern(pattern, NoticeKind.REVOKED, reason, f"the server removed `{pattern}`")

    def _on_refreshed(self, now_ms: int, random01: float, f: dict[str, Any]) -> None:
        self._pending.pop(f.get("req", ""), None)
        self._connection_exp_ms = _seconds_to_ms(f["exp"])
        self._refresh_failures = 0
        self._arm_refresh(now_ms)

    def _on_pong(self, now_ms: int, random01: float, f: dict[str, Any]) -> None:
        req = f.get("req", "")
        if not self._ping_req or req != self._ping_req:
            return  # not the pong we wait for
        self._pending.pop(req, None)
        self._ping_req = ""
        self._clock.on_pong(self._ping_sent_ms, now_ms, f.get("time_ms"))
        self._cancel(Timer.PONG)
        self._arm(Timer.HEARTBEAT, max(now_ms, self._ping_sent_ms + self._heartbeat_ms))

    def _on_event(self, now_ms: int, random01: float, f: dict[str, Any]) -> None:
        self._event(now_ms, random01, f["id"], f["topic"], f["time"], f.get("snapshot") is True, f)

    def _delay(self, now_ms: int, time_text: str) -> int | None:
        sent = self._times.read(time_text)
        return None if sent is None else now_ms + self._clock.offset_ms - sent

    def _snapshot_receivers(self, topic_name: str) -> tuple[int, ...]:
        # The handles awaiting a snapshot whose pattern matches.
        return tuple(h for h in sorted(self._snapshot_req) if _topic.matches(self._handle_pattern[h], topic_name))

    def _event(self, now_ms: int, random01: float, event_id: str, topic_name: str, time_text: str,
               snapshot: bool, frame: dict[str, Any] | None) -> Deliver | None:
        # The topic must be a name (handles are matched against it); checked before the id is
        # taken as the last one, so a refused event leaves the resume position alone.
        problem = _topic.validate_name(topic_name)
        if problem is not None:
            self._notice(NoticeKind.ERROR, "bad_frame", "member 'topic': " + problem)
            return None
        if snapshot:
            # Older than the connection's position: no duplicate suppression, no new last id.
            if parse_event(event_id) is None:
                self._notice(NoticeKind.ERROR, "bad_frame", f"event id `{event_id[:64]}` is not an event id")
                return None
            handles = self._snapshot_receivers(topic_name)
            if not handles:
                return None
            action = Deliver(frame, event_id, topic_name, handles, True, self._delay(now_ms, time_text))
            self._actions.append(action)
            return action
        verdict = self._resume.accept(event_id)
        if verdict is Verdict.DELIVER:
            handles = self._handles_for(topic_name)
            if not handles:
                return None
            delay = self._delay(now_ms, time_text)
            if delay is not None and not self._replaying:
                self._delays.add(delay)
            action = Deliver(frame, event_id, topic_name, handles, False, delay)
            self._actions.append(action)
            return action
        if verdict is Verdict.EPOCH_CHANGED:
            self._notice(NoticeKind.ERROR, "epoch_changed",
                         f"event `{event_id}` is from another epoch without a `reset`")
            self._drop_connection(now_ms, random01, CLOSE_PROTOCOL_VIOLATION,
                                  "event from another epoch without reset")
        elif verdict is Verdict.INVALID_ID:
            self._notice(NoticeKind.ERROR, "bad_frame", f"event id `{event_id[:64]}` is not an event id")
        return None

    def _on_reset(self, now_ms: int, random01: float, f: dict[str, Any]) -> None:
        position: str | None = f.get("position")
        self._resume.reset_to(position)
        parsed = parse_position(position) if position is not None else None
        if parsed is None:
            where = "from the start of the log"
        elif parsed.seq != 0:
            where = f"after {parsed}"
        else:
            where = f"from the start of epoch {parsed.epoch}"
        from_id = f.get("from") or "nothing"
        self._notice(NoticeKind.RESET, f["reason"], f"resume from {from_id} impossible; continuing {where}")

    def _on_overflow(self, now_ms: int, random01: float, f: dict[str, Any]) -> None:
        self._notice(NoticeKind.OVERFLOW, f.get("last_id") or "",
                     f"the server fell {f['lag_ms']} ms behind; reconnecting to resume")

    def _on_expiring(self, now_ms: int, random01: float, f: dict[str, Any]) -> None:
        self._notice(NoticeKind.TOKEN_EXPIRING, "",
                     f"the token expires at {f['exp']} (grace {f['grace_ms']} ms)")
        self._request_token(TokenReason.EXPIRING)

    def _on_closing(self, now_ms: int, random01: float, f: dict[str, Any]) -> None:
        self._closing_delay_ms = max(0, f["reconnect_after_ms"])

    def _on_error(self, now_ms: int, random01: float, f: dict[str, Any]) -> None:
        req = f.get("req", "")
        request = self._pending.pop(req, None) if req else None
        code: str = f["code"]
        message: str = f["message"]
        if request is None:
            self._notice(NoticeKind.ERROR, code, message)
            return
        if code == "rate_limited":
            self._on_rate_limited(now_ms, random01, req, request)
            return
        if request.what == "subscribe":
            self._on_subscribe_refused(code, message, f.get("topic", ""), request.topics)
        elif request.what == "refresh":
            # The refused token must not open the next connection either.
            self._notice(NoticeKind.ERROR, code, message)
            self._token = None
            self._token_exp_ms = None
            self._retry_refresh_later(now_ms, random01)
        elif request.what == "ping":
            # A refused ping (rate_limited) still proves the connection alive.
            self._notice(NoticeKind.ERROR, code, message)
            if req == self._ping_req:
                self._ping_req = ""
                self._cancel(Timer.PONG)
                self._arm(Timer.HEARTBEAT, max(now_ms, self._ping_sent_ms + self._heartbeat_ms))
        else:
            self._notice(NoticeKind.ERROR, code, message)

    def _on_rate_limited(self, now_ms: int, random01: float, req: str, request: _Pending) -> None:
        # Refused for coming too fast: nothing was applied and nothing is wrong that the
        # application could act on (no notice). Sent again after the server's one-second window.
        if request.what == "subscribe":
            for pattern in request.topics:
                self._connection_patterns.discard(pattern)
        elif request.what == "unsubscribe":
            for pattern in request.topics:
                if pattern not in self._pattern_handles:
                    self._unsubscribe_again.add(pattern)
        elif request.what == "refresh":
            self._retry_refresh_later(now_ms, random01)  # the token is good, only early: keep it
            return
        else:  # ping: still proof that the connection is alive; the next ping will come
            if req == self._ping_req:
                self._ping_req = ""
                self._cancel(Timer.PONG)
                self._arm(Timer.HEARTBEAT, max(now_ms, self._ping_sent_ms + self._heartbeat_ms))
            return
        if Timer.RESEND not in self._armed:
            self._arm(Timer.RESEND, now_ms + _RATE_WINDOW_MS)

    def _resend(self) -> None:
        # What rate_limited held back: every wanted pattern the connection does not hold, and
        # every unwanted one it still does.
        wanted = [p for p in sorted(self._pattern_handles) if p not in self._connection_patterns]
        if wanted:
            self._send_subscribe(wanted)
        unwanted = sorted(p for p in self._unsubscribe_again if p not in self._pattern_handles)
        self._unsubscribe_again.clear()
        if unwanted:
            req = self._request_id()
            self._pending[req] = _Pending("unsubscribe", unwanted)
            self._send(_codec.encode_unsubscribe(req, unwanted))

    def _on_subscribe_refused(self, code: str, message: str, topic: str, topics: list[str]) -> None:
        # A refused `subscribe` applied none of its patterns.
        retry: list[str] = []
        for pattern in topics:
            if pattern in self._connection_patterns:
                self._connection_patterns.discard(pattern)
                if pattern in self._pattern_handles:
                    retry.append(pattern)
        if code in ("invalid_topic", "forbidden_topic"):
            if topic not in retry:
                # The culprit is not named: every pattern of the request fails.
                for pattern in retry:
                    self._drop_pattern(pattern, NoticeKind.SUBSCRIPTION_FAILED, code, message)
                return
            self._drop_pattern(topic, NoticeKind.SUBSCRIPTION_FAILED, code, message)
            retry.remove(topic)
            self._send_subscribe(retry)  # the innocent rest, once more
        elif code == "too_many_subscriptions":
            for pattern in retry:
                self._drop_pattern(pattern, NoticeKind.SUBSCRIPTION_FAILED, code, message)
        elif code == "resume_not_allowed":
            self._resume_refused = True
            self._send_subscribe(retry)
        else:
            self._notice(NoticeKind.ERROR, code, message)

    # ---- inputs ----------------------------------------------------------------------------
    def start(self, now_ms: int, random01: float) -> list[Action]:
        if self._state is State.IDLE:
            self._begin_connect(now_ms)
        return self.take_actions()

    def token_obtained(self, now_ms: int, random01: float, token: str) -> list[Action]:
        self._token_requested = False
        if self._state is State.CLOSED:
            return self.take_actions()
        exp_s = _codec.jwt_expiry(token)
        exp_ms = _seconds_to_ms(exp_s) if exp_s is not None else None
        expired = exp_ms is not None and exp_ms <= now_ms
        if self._state is State.FETCHING_TOKEN:
            if expired:
                self._expired_in_a_row += 1
                if self._expired_in_a_row >= _EXPIRED_TOKENS_BEFORE_GIVING_UP:
                    self._give_up(_CLOSE_TOKEN_EXPIRED, "token expired and the provider gave no fresh one")
                else:
                    self._reconnect_later(now_ms, random01, 0, "the token provider returned an expired token")
                return self.take_actions()
            self._expired_in_a_row = 0
            self._connect_reason = TokenReason.CONNECT
            self._token = token
            self._token_exp_ms = exp_ms
            self._open_connection(now_ms)
            return self.take_actions()
        if expired:
            if self._state is State.LIVE:
                self._retry_refresh_later(now_ms, random01)
            return self.take_actions()
        self._expired_in_a_row = 0
        newer = exp_ms is None or exp_ms > self._connection_exp_ms
        self._token = token
        self._token_exp_ms = exp_ms
        if self._state is not State.LIVE:
            return self.take_actions()  # kept for the next connection
        if not newer:
            self._retry_refresh_later(now_ms, random01)  # the server already has this one
            return self.take_actions()
        req = self._request_id()
        self._pending[req] = _Pending("refresh", [])
        self._send(_codec.encode_refresh(req, token))
        return self.take_actions()

    def token_failed(self, now_ms: int, random01: float, reason: str) -> list[Action]:
        self._token_requested = False
        if self._state is State.FETCHING_TOKEN:
            self._notice(NoticeKind.ERROR, "token_unavailable", reason)
            self._reconnect_later(now_ms, random01, 0, "the token provider failed: " + reason)
        elif self._state is State.LIVE:
            # The connection keeps its token until the server closes it with 4001.
            self._notice(NoticeKind.ERROR, "token_unavailable", reason)
            self._retry_refresh_later(now_ms, random01)
        return self.take_actions()

    def opened(self, now_ms: int, random01: float, connection: int) -> list[Action]:
        if self._connection_active and connection == self._connection and self._state is State.CONNECTING:
            if not self.config.token_in_header:
                assert self._token is not None
                self._send(_codec.encode_auth(self._token))
            self._set_state(State.AUTHENTICATING, 0, "")
        return self.take_actions()

    def frame(self, now_ms: int, random01: float, connection: int, data: str | bytes) -> list[Action]:
        if (self._connection_active and connection == self._connection
                and self._state in (State.AUTHENTICATING, State.LIVE)):
            self._on_frame(now_ms, random01, data)
        return self.take_actions()

    def event_received(self, now_ms: int, random01: float, connection: int, event_id: str,
                       topic_name: str, time_text: str = "", snapshot: bool = False) -> list[Action]:
        """An `event` frame the adapter parsed and checked itself (see _codec.check_event_envelope):
        only id, topic, time and the snapshot mark decide; the Deliver action then carries
        event=None."""
        if self._connection_active and connection == self._connection:
            if self._state is State.AUTHENTICATING:
                self._notice(NoticeKind.ERROR, "bad_frame", "unexpected `event` while authenticating")
            elif self._state is State.LIVE:
                self._event(now_ms, random01, event_id, topic_name, time_text, snapshot, None)
        return self.take_actions()

    def event_fast(self, now_ms: int, connection: int, event_id: str, topic_name: str,
                   time_text: str) -> tuple[tuple[int, ...], int | None] | None:
        """The adapter's hot path: a checked event (not a snapshot event) while live with nothing
        else pending. Returns the handles to call (empty: a duplicate, or nobody subscribed) and
        the event's delay, or None when the event needs the full path (event_received), e.g.
        another epoch or a bad topic."""
        if (self._actions or not self._connection_active or connection != self._connection
                or self._state is not State.LIVE):
            return None
        handles = self._topic_handles.get(topic_name)
        if handles is None:
            if _topic.validate_name(topic_name) is not None:
                return None
            if len(self._topic_handles) >= 4096:
                self._topic_handles.clear()
            handles = self._topic_handles[topic_name] = self._handles_for(topic_name)
        verdict = self._resume.accept(event_id)
        if verdict is Verdict.DELIVER:
            if not handles:
                return handles, None
            delay = self._delay(now_ms, time_text)
            if delay is not None and not self._replaying:
                self._delays.add(delay)
            return handles, delay
        if verdict is Verdict.DUPLICATE:
            return (), None
        return None

    def closed(self, now_ms: int, random01: float, connection: int, code: int, reason: str) -> list[Action]:
        if not self._connection_active or connection != self._connection:
            return self.take_actions()
        self._leave_connection()
        # A refused token is no proof that every token would be: a server that restarted with a
        # new signing key refuses all it issued before. The provider is asked once.
        ask_for_new_token = (code == _CLOSE_INVALID_TOKEN and self.config.token_provider
                             and not self._refused_token_replaced)
        if ask_for_new_token:
            self._refused_token_replaced = True
        if is_final_close_code(code) and not ask_for_new_token:
            self._give_up(code, reason)
            return self.take_actions()
        if code == _CLOSE_TOKEN_EXPIRED or ask_for_new_token:
            self._token = None
            self._token_exp_ms = None
            self._connect_reason = TokenReason.REFUSED if ask_for_new_token else TokenReason.EXPIRED
        self._reconnect_later(now_ms, random01, code, reason)
        return self.take_actions()

    def timer_fired(self, now_ms: int, random01: float, timer: Timer) -> list[Action]:
        if self._armed.pop(timer, None) is None:
            return self.take_actions()  # cancelled or replaced: a stale expiry
        state = self._state
        if timer is Timer.RECONNECT:
            if state is State.RECONNECTING:
                self._begin_connect(now_ms)
        elif timer is Timer.HANDSHAKE:
            if state in (State.CONNECTING, State.AUTHENTICATING):
                self._drop_connection(now_ms, random01, CLOSE_HANDSHAKE_TIMEOUT,
                                      "no ready within the handshake timeout")
        elif timer is Timer.HEARTBEAT:
            if state is State.LIVE:
                self._ping_req = self._request_id()
                self._ping_sent_ms = now_ms
                self._pending[self._ping_req] = _Pending("ping", [])
                self._send(_codec.encode_ping(self._ping_req))
                self._arm(Timer.PONG, now_ms + self._heartbeat_ms)
        elif timer is Timer.PONG:
            if state is State.LIVE:
                self._drop_connection(now_ms, random01, CLOSE_HEARTBEAT_TIMEOUT, "no pong within heartbeat_ms")
        elif timer is Timer.REFRESH:
            if state is State.LIVE:
                self._request_token(TokenReason.REFRESH)
        elif timer is Timer.STABLE:
            if state is State.LIVE:
                self._attempt = 0
        elif timer is Timer.RESEND:
            if state is State.LIVE:
                self._resend()
        return self.take_actions()

    def subscribe(self, now_ms: int, random01: float, pattern: str, snapshot: bool = False) -> int:
        """A handle (never 0); raises ValueError (invalid_topic) for a malformed pattern. Its
        actions wait in take_actions(). With `snapshot`, the handle gets the current state of
        its pattern first (section 5.3), and again after every `reset`."""
        problem = _topic.validate_pattern(pattern)
        if problem is not None:
            raise ValueError(problem)
        handle = self._next_handle
        self._next_handle += 1
        self._handle_pattern[handle] = pattern
        self._topic_handles.clear()
        handles = self._pattern_handles.setdefault(pattern, [])
        handles.append(handle)
        if snapshot:
            self._snapshot_handles.add(handle)
        if self._state is not State.LIVE:
            return handle
        held = pattern in self._connection_patterns
        if held and pattern in self._confirmed_patterns:
            self._notice(NoticeKind.SUBSCRIBED, pattern, f"subscribed to `{pattern}`", handle)
        # A held pattern is asked for again when this handle wants its current state (section
        # 5.3); the server answers a held pattern as usual.
        if (len(handles) == 1 and not held) or (held and snapshot):
            self._send_subscribe([pattern])
        return handle

    def unsubscribe(self, now_ms: int, random01: float, handle: int) -> list[Action]:
        pattern = self._handle_pattern.get(handle)
        if pattern is None:
            return self.take_actions()
        self._forget(handle)
        self._topic_handles.clear()
        handles = self._pattern_handles.get(pattern, [])
        if handle in handles:
            handles.remove(handle)
        if handles:
            return self.take_actions()
        self._pattern_handles.pop(pattern, None)
        self._confirmed_patterns.discard(pattern)
        if self._state is not State.LIVE or pattern not in self._connection_patterns:
            return self.take_actions()
        self._connection_patterns.discard(pattern)
        req = self._request_id()
        self._pending[req] = _Pending("unsubscribe", [pattern])
        self._send(_codec.encode_unsubscribe(req, [pattern]))
        return self.take_actions()

    def disconnect(self, now_ms: int, random01: float) -> list[Action]:
        """Close normally and wait in `idle` until start() again; subscriptions, the resume
        position and the token are kept, so the next start() resumes where this stopped."""
        if self._state in (State.CLOSED, State.IDLE):
            return self.take_actions()
        if self._connection_active:
            self._actions.append(Close(self._connection, CLOSE_NORMAL, "client disconnected"))
            self._leave_connection()
        for k in [t for t in Timer if t in self._armed]:
            self._cancel(k)
        self._attempt = 0  # the user chose the pause: the next start() is not a retry
        self._closing_delay_ms = None
        self._set_state(State.IDLE, CLOSE_NORMAL, "disconnected by the client")
        return self.take_actions()

    def stop(self, now_ms: int, random01: float) -> list[Action]:
        """Close normally and stay closed."""
        if self._state is not State.CLOSED:
            if self._connection_active:
                self._actions.append(Close(self._connection, CLOSE_NORMAL, "client stopped"))
                self._leave_connection()
            self._finish(CLOSE_NORMAL, "stopped by the client")
        return self.take_actions()
