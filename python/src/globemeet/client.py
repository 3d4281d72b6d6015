"""GlobeMeetWS: the asyncio adapter over the sans-I/O session (session.py). It makes no
protocol decisions: it feeds the session its inputs (sockets opening, frames, closes, timers,
tokens, the user's subscriptions) and performs the actions the session returns, in order.

Delivery is in order and applies backpressure: an async handler (or a full `events()` queue)
is awaited before the next frame is read, so a consumer that falls behind slows the socket,
and the server, not memory, decides (`overflow`, then a reconnect that resumes)."""
from __future__ import annotations

import asyncio
import inspect
import json
import logging
import math
import random
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, Union, overload

import websockets
from websockets.asyncio.client import ClientConnection, connect

from globemeet import _codec
from globemeet._backoff import BackoffPolicy
from globemeet._event import Event, EventData
from globemeet._latency import LatencyStats
from globemeet.catalogue import CATALOGUE, GlobeMeetEvent
from globemeet.errors import GlobeMeetError
from globemeet.session import (
    SUBPROTOCOL, Action, ArmTimer, CancelTimer, ClientSession, Close, Deliver, Notice, NoticeKind,
    Open, RequestToken, Send, SessionConfig, State, StateChanged, Timer,
)

_log = logging.getLogger("globemeet")

# ---- what listeners receive ------------------------------------------------------------------


@dataclass(frozen=True)
class StateChange:
    """A state transition; `code` is the close code that caused it (0 if none)."""
    from_state: str
    to_state: str
    code: int
    reason: str


@dataclass(frozen=True)
class Reconnected:
    """Live again after a reconnect; resume from `last_event_id` is under way."""
    last_event_id: str | None


@dataclass(frozen=True)
class Reset:
    """The server could not resume (retention_exceeded, epoch_changed, future_id): events were lost."""
    reason: str
    message: str


@dataclass(frozen=True)
class Overflow:
    """The server dropped the connection because the client fell behind; it resumes."""
    last_id: str


@dataclass(frozen=True)
class Revoked:
    """The server removed a subscription (the token no longer permits its pattern)."""
    pattern: str
    reason: str


@dataclass(frozen=True)
class SubscriptionFailed:
    """The server refused a subscription (forbidden_topic, invalid_topic, too_many_subscriptions)."""
    pattern: str
    code: str
    message: str


@dataclass(frozen=True)
class Subscribed:
    """The server applied a subscription's pattern (on each connection)."""
    pattern: str


@dataclass(frozen=True)
class Snapshotted:
    """The snapshot a subscription asked for is complete (`count` events of the current state
    came before it); live events follow. Again after every `reset` that brought a snapshot."""
    pattern: str
    count: int
    subscription: Subscription


@dataclass(frozen=True)
class TokenExpiring:
    """The server warned that the token expires soon; a refresh is under way."""
    message: str


EventName = Literal["state", "reconnect", "reset", "overflow", "error", "revoked",
                    "subscription_failed", "token_expiring", "subscribed", "snapshot"]
_EVENT_NAMES = frozenset(EventName.__args__)  # type: ignore[attr-defined]
P = TypeVar("P")
Listener = Callable[[P], Union[None, Awaitable[None], object]]
Handler = Callable[[GlobeMeetEvent], Union[None, Awaitable[None], object]]
TokenProvider = Callable[[str], Union[Awaitable[str], str]]


class Subscription:
    """One `subscribe()`. `state`: `subscribing` until the server applied the pattern (and
    again from a lost connection until the next one applied it), `subscribed` while events
    flow; final: `failed` (refused), `revoked` (removed by the server), `unsubscribed` (by
    you, or the client closed). `await ready()` returns once it is subscribed and raises
    GlobeMeetError if it ends first. unsubscribe() ends it (again: no effect). Made with
    `snapshot=True`, `await snapshotted()` returns once its snapshot is complete."""

    __slots__ = ("pattern", "snapshot", "_handler", "_handle", "_client", "_state", "_settled", "_end_code",
                 "_snapshot_done", "_snapshot_count")

    def __init__(self, client: GlobeMeetWS, pattern: str, handler: Handler, handle: int, snapshot: bool) -> None:
        self.pattern = pattern
        self.snapshot = snapshot
        self._handler = handler
        self._handle = handle
        self._client = client
        self._state = "subscribing"
        self._settled = asyncio.Event()  # set while subscribed or once ended
        self._end_code = ""
        self._snapshot_done = asyncio.Event()  # set once a snapshot completed, or once ended
        self._snapshot_count = 0

    @property
    def state(self) -> str:
        return self._state

    @property
    def active(self) -> bool:
        return self._state in ("subscribing", "subscribed")

    def unsubscribe(self) -> None:
        if self.active:
            self._end("unsubscribed", "unsubscribed")
            self._client._unsubscribe(self)

    async def ready(self) -> None:
        """Returns once the server has applied the pattern (at once while subscribed)."""
        while True:
            await self._settled.wait()
            if self._state == "subscribed":
                return
            if not self.active:
                raise GlobeMeetError(self._end_code, f"subscription {self.pattern!r} ended: {self._state}")

    async def snapshotted(self) -> int:
        """Returns the number of snapshot events once the subscription's snapshot is complete
        (at once if one is). Raises GlobeMeetError if it ends first, or `bad_config` for a
        subscription made without snapshot=True."""
        if not self.snapshot:
            raise GlobeMeetError("bad_config", f"subscription {self.pattern!r} did not ask for a snapshot")
        await self._snapshot_done.wait()
        if self._snapshot_count < 0:
            raise GlobeMeetError(self._end_code, f"subscription {self.pattern!r} ended: {self._state}")
        return self._snapshot_count

    def _snapshotted(self, count: int) -> None:
        self._snapshot_count = count
        self._snapshot_done.set()

    def _confirm(self) -> None:
        if self.active:
            self._state = "subscribed"
            self._settled.set()

    def _lost(self) -> None:
        if self._state == "subscribed":
            self._state = "subscribing"
            self._settled.clear()

    def _end(self, state: str, code: str) -> None:
        if self.active:
            self._state = state
            self._end_code = code
            self._settled.set()
            if not self._snapshot_done.is_set():
                self._snapshot_count = -1  # ended before its snapshot
                self._snapshot_done.set()


class _Connection:
    __slots__ = ("number", "task", "ws", "outbox", "writer", "close_request")

    def __init__(self, number: int) -> None:
        self.number = number
        self.task: asyncio.Task[None] | None = None
        self.ws: ClientConnection | None = None
        self.outbox: asyncio.Queue[str | tuple[int, str]] = asyncio.Queue()
        self.writer: asyncio.Task[None] | None = None
        self.close_request: tuple[int, str] | None = None  # closed by the session mid-handshake


_HANDSHAKE_ABORT_S = 1.0  # a connection closed mid-handshake gets this long to finish it


def _describe(action: Action) -> str:
    # One line per step for the `globemeet` logger at DEBUG, without secrets: an Open loses its
    # authorization, a Send shows only its op.
    if isinstance(action, Send):
        match = re.search(r'"op":"(\w+)"', action.text)
        return f"send {match.group(1) if match else '?'} on connection {action.connection}"
    if isinstance(action, Open):
        return f"open connection {action.connection} to {action.url}"
    return repr(action)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _close_code_for_status(status: int) -> int:
    # The session's contract: HTTP refusals become close codes.
    if status == 401:
        return 4401
    if status == 403:
        return 4403
    if status == 429:
        return 4029
    if 400 <= status < 500:
        return 4400
    return 1011


class GlobeMeetWS:
    """A GlobeMeet event socket that reconnects, resumes and refreshes its token by itself.

    Use as `async with GlobeMeetWS(endpoint=..., token=...) as ws:` (or `await ws.start()` and
    `await ws.close()`). Pass `token` (a fixed JWT) or `get_token` (an async provider called
    with the reason: connect, refresh, expiring, expired, refused), not both."""

    def __init__(self, *, endpoint: str, token: str | None = None,
                 get_token: TokenProvider | None = None, last_event_id: str | None = None,
                 backoff: BackoffPolicy | None = None, handshake_timeout_ms: int = 10_000,
                 refresh_before_ms: int = 60_000, events_queue_size: int = 1024, conflate: bool = False) -> None:
        if (token is None) == (get_token is None):
            raise GlobeMeetError("bad_config", "GlobeMeetWS: pass `token` or `get_token` (exactly one)")
        if token is not None and (not isinstance(token, str) or not token):
            raise GlobeMeetError("bad_config", "GlobeMeetWS: `token` must be a non-empty string")
        if not isinstance(endpoint, str) or not endpoint.startswith(("ws://", "wss://")):
            raise GlobeMeetError("bad_config", f"GlobeMeetWS: endpoint {endpoint!r} is not a ws:// or wss:// URL")
        def whole(value: object) -> bool:
            return isinstance(value, int) and not isinstance(value, bool) and value >= 0
        policy = backoff or BackoffPolicy()
        if not (whole(policy.min_ms) and whole(policy.max_ms)):
            raise GlobeMeetError("bad_config", "GlobeMeetWS: backoff min_ms and max_ms must be non-negative whole milliseconds")
        if isinstance(policy.factor, bool) or not isinstance(policy.factor, (int, float)) or not math.isfinite(policy.factor):
            raise GlobeMeetError("bad_config", "GlobeMeetWS: backoff factor must be a finite number")
        if not (whole(handshake_timeout_ms) and handshake_timeout_ms > 0 and whole(refresh_before_ms)
                and whole(events_queue_size) and events_queue_size > 0):
            raise GlobeMeetError("bad_config", "GlobeMeetWS: handshake_timeout_ms and events_queue_size must be positive "
                                 "whole numbers, refresh_before_ms a non-negative one")
        self._token = token
        self._get_token = get_token
        self._queue_size = events_queue_size
        self._session = ClientSession(SessionConfig(
            endpoint=endpoint, token_in_header=True, token_provider=get_token is not None,
            backoff=policy, handshake_timeout_ms=handshake_timeout_ms,
            refresh_before_ms=refresh_before_ms, conflate=bool(conflate)))
        if last_event_id is not None and not self._session.set_last_event_id(last_event_id):
            raise GlobeMeetError("invalid_event_id", f"GlobeMeetWS: last_event_id {last_event_id!r} is not an event id")
        self._subscriptions: dict[int, Subscription] = {}
        self._listeners: dict[str, list[Callable[[Any], object]]] = {}
        self._connections: dict[int, _Connection] = {}
        self._timers: dict[Timer, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._queue: deque[Action] = deque()
        self._performing = False
        self._awaiting: list[Awaitable[Any]] = []
        self._received: dict[str, Any] | None = None
        self._closed_event: asyncio.Event | None = None
        self._final_error: GlobeMeetError | None = None
        self._user_closed = False
        self._started = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rng = random.Random()

    # ---- life cycle ----------------------------------------------------------------------
    async def __aenter__(self) -> GlobeMeetWS:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Connects (and keeps connecting). Subscriptions made before go out in the first `subscribe`."""
        if self._started:
            return
        if self._session.state is State.CLOSED:
            raise GlobeMeetError("closed", "GlobeMeetWS.start: the client is closed")
        self._started = True
        self._loop = asyncio.get_running_loop()
        self._closed_event = asyncio.Event()
        self._feed(self._session.start(_now_ms(), self._rng.random()))

    async def connect(self) -> None:
        """Starts the client, or connects again after disconnect() and resumes after the last
        event delivered. Raises GlobeMeetError `closed` after close()."""
        if self._session.state is State.CLOSED:
            raise GlobeMeetError("closed", "GlobeMeetWS.connect: the client is closed")
        if not self._started:
            await self.start()
        elif self._session.state is State.IDLE:
            self._feed(self._session.start(_now_ms(), self._rng.random()))

    async def disconnect(self) -> None:
        """Closes the connection (1000) and waits in `idle`: no reconnects, no timers, but the
        subscriptions, handlers, token and resume position are kept for connect()."""
        if not self._started or self._session.state in (State.CLOSED, State.IDLE):
            return
        conns = [c.task for c in self._connections.values() if c.task is not None]
        self._feed(self._session.disconnect(_now_ms(), self._rng.random()))
        current = asyncio.current_task()
        waiting = [t for t in conns if t is not current and not t.done()]
        if waiting:
            await asyncio.wait(waiting, timeout=3)

    async def close(self) -> None:
        """Closes the connection (1000) and stops for good; returns once no task, socket or
        timer is left."""
        self._user_closed = True
        if self._session.state is not State.CLOSED:
            self._feed(self._session.stop(_now_ms(), self._rng.random()))
        await self._release()

    async def wait_closed(self) -> None:
        """Waits until the client is closed. Raises the final GlobeMeetError (code `closed`)
        when it stopped for good other than by close()."""
        if self._session.state is not State.CLOSED:
            if self._closed_event is None:
                raise GlobeMeetError("bad_config", "GlobeMeetWS.wait_closed: the client was not started")
            await self._closed_event.wait()
        if self._final_error is not None and not self._user_closed:
            raise self._final_error

    @property
    def state(self) -> str:
        """idle, fetching_token, connecting, authenticating, live, reconnecting or closed."""
        return self._session.state.value

    @property
    def last_event_id(self) -> str | None:
        """The resume position: the id of the last event delivered, or `{epoch}-0` once
        subscribed before any event; None before that. Pass it back as `last_event_id=`."""
        return self._session.last_event_id

    @property
    def final_code(self) -> int:
        """The close code that ended the client once closed (1000 after close()), else 0."""
        return self._session.final_code

    def latency(self) -> LatencyStats:
        """The delivery delay of live events (replayed and snapshot events left out): `count`
        events in the window (the last 1,000), their `p50_ms` and `p99_ms`, and the
        `clock_offset_ms` (server clock minus local clock) the delays were computed with."""
        return self._session.latency()

    # ---- subscriptions -------------------------------------------------------------------
    def subscribe(self, pattern: str, handler: Handler, *, snapshot: bool = False) -> Subscription:
        """Calls `handler` (plain function or coroutine function) for every event whose topic
        matches `pattern` (`*` one segment, `>` the rest). A malformed pattern raises
        GlobeMeetError `invalid_topic` at once. With `snapshot=True` the handler first gets the
        current state: the latest event of each matching topic (`event.snapshot` True), then
        the live events; again after a `reset`, so the view can be rebuilt."""
        if not callable(handler):
            raise GlobeMeetError("bad_config", "GlobeMeetWS.subscribe: handler must be callable")
        if self._session.state is State.CLOSED:
            raise GlobeMeetError("closed", "GlobeMeetWS.subscribe: the client is closed")
        if not isinstance(pattern, str):
            raise GlobeMeetError("invalid_topic", f"GlobeMeetWS.subscribe: pattern must be a string, got {type(pattern).__name__}")
        try:
            handle = self._session.subscribe(_now_ms(), self._rng.random(), pattern, bool(snapshot))
        except ValueError as e:
            raise GlobeMeetError("invalid_topic", f"GlobeMeetWS.subscribe({pattern!r}): {e}") from None
        sub = Subscription(self, pattern, handler, handle, bool(snapshot))
        self._subscriptions[handle] = sub
        self._feed(self._session.take_actions())
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        if self._subscriptions.pop(sub._handle, None) is None or self._session.state is State.CLOSED:
            return
        self._feed(self._session.unsubscribe(_now_ms(), self._rng.random(), sub._handle))

    async def events(self, pattern: str, *, snapshot: bool = False) -> AsyncIterator[GlobeMeetEvent]:
        """Iterates over the events matching `pattern`, in order. Ends when the client is
        closed by close(); raises the final GlobeMeetError if it stopped for good otherwise.
        Leaving the loop ends the subscription."""
        queue: asyncio.Queue[GlobeMeetEvent | None] = asyncio.Queue(self._queue_size)

        def put(event: GlobeMeetEvent) -> Awaitable[None] | None:
            try:
                queue.put_nowait(event)
                return None
            except asyncio.QueueFull:
                return queue.put(event)  # awaited by the reader: backpressure

        sub = self.subscribe(pattern, put, snapshot=snapshot)
        remove = self.on("state", lambda c: queue.put_nowait(None) if c.to_state == "closed" and queue.empty() else None)
        try:
            while True:
                if self._session.state is State.CLOSED and queue.empty():
                    break
                event = await queue.get()
                if event is None:
                    continue
                yield event
        finally:
            remove()
            sub.unsubscribe()
        if self._final_error is not None and not self._user_closed:
            raise self._final_error

    # ---- listeners -----------------------------------------------------------------------
    @overload
    def on(self, name: Literal["state"], listener: Listener[StateChange]) -> Callable[[], None]: ...
    @overload
    def on(self, name: Literal["reconnect"], listener: Listener[Reconnected]) -> Callable[[], None]: ...
    @overload
    def on(self, name: Literal["reset"], listener: Listener[Reset]) -> Callable[[], None]: ...
    @overload
    def on(self, name: Literal["overflow"], listener: Listener[Overflow]) -> Callable[[], None]: ...
    @overload
    def on(self, name: Literal["error"], listener: Listener[GlobeMeetError]) -> Callable[[], None]: ...
    @overload
    def on(self, name: Literal["revoked"], listener: Listener[Revoked]) -> Callable[[], None]: ...
    @overload
    def on(self, name: Literal["subscription_failed"], listener: Listener[SubscriptionFailed]) -> Callable[[], None]: ...
    @overload
    def on(self, name: Literal["token_expiring"], listener: Listener[TokenExpiring]) -> Callable[[], None]: ...
    @overload
    def on(self, name: Literal["subscribed"], listener: Listener[Subscribed]) -> Callable[[], None]: ...
    @overload
    def on(self, name: Literal["snapshot"], listener: Listener[Snapshotted]) -> Callable[[], None]: ...

    def on(self, name: str, listener: Callable[[Any], object]) -> Callable[[], None]:
        """Adds a listener (plain function or coroutine function); returns its remover."""
        if name not in _EVENT_NAMES:
            raise GlobeMeetError("bad_config", f"GlobeMeetWS.on: unknown event {name!r}")
        listeners = self._listeners.setdefault(name, [])
        listeners.append(listener)

        def remove() -> None:
            if listener in listeners:
                listeners.remove(listener)
        return remove

    async def once(self, name: EventName) -> Any:
        """The payload of the next `name` (e.g. `await ws.once("reconnect")`)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def listener(payload: Any) -> None:
            if not future.done():
                future.set_result(payload)
        remove = self.on(name, listener)
        try:
            return await future
        finally:
            remove()

    # ---- performing actions --------------------------------------------------------------
    def _feed(self, actions: list[Action]) -> None:
        if not actions:
            return
        self._queue.extend(actions)
        if self._performing:
            return  # an input from inside a callback: the running loop takes its actions
        self._performing = True
        try:
            while self._queue:
                self._act(self._queue.popleft())
        finally:
            self._performing = False
        if self._session.state is State.CLOSED:
            self._on_closed()

    def _act(self, action: Action) -> None:
        if _log.isEnabledFor(logging.DEBUG) and not isinstance(action, Deliver):
            _log.debug("GlobeMeetWS: %s", _describe(action))
        if isinstance(action, Deliver):
            raw = action.event if action.event is not None else self._received
            if raw is not None and raw.get("id") == action.id:
                self._deliver(raw, action.handles, action.snapshot, action.delay_ms)
        elif isinstance(action, Send):
            conn = self._connections.get(action.connection)
            if conn is not None:
                conn.outbox.put_nowait(action.text)
        elif isinstance(action, ArmTimer):
            self._arm(action.timer, action.at_ms)
        elif isinstance(action, CancelTimer):
            handle = self._timers.pop(action.timer, None)
            if handle is not None:
                handle.cancel()
        elif isinstance(action, StateChanged):
            if action.from_state is State.LIVE:
                for sub in self._subscriptions.values():
                    sub._lost()  # subscribing again until the next connection applies it
            self._emit("state", StateChange(action.from_state.value, action.to_state.value, action.code, action.reason))
        elif isinstance(action, Notice):
            self._notice(action)
        elif isinstance(action, Open):
            self._open(action)
        elif isinstance(action, Close):
            self._close_connection(action.connection, action.code, action.reason)
        elif isinstance(action, RequestToken):
            self._request_token(action.reason.value)

    def _input(self, feed: Callable[[int, float], list[Action]]) -> None:
        if self._session.state is State.CLOSED and not self._queue:
            return
        self._feed(feed(_now_ms(), self._rng.random()))

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---- timers --------------------------------------------------------------------------
    def _arm(self, timer: Timer, at_ms: int) -> None:
        assert self._loop is not None
        old = self._timers.pop(timer, None)
        if old is not None:
            old.cancel()
        delay = max(0, at_ms - _now_ms()) / 1000
        self._timers[timer] = self._loop.call_later(delay, self._fire, timer, at_ms)

    def _fire(self, timer: Timer, at_ms: int) -> None:
        if _now_ms() < at_ms:  # the loop's clock ran ahead of the wall clock: wait the rest
            self._arm(timer, at_ms)
            return
        self._timers.pop(timer, None)
        self._input(lambda now, r: self._session.timer_fired(now, r, timer))

    # ---- tokens --------------------------------------------------------------------------
    def _request_token(self, reason: str) -> None:
        # The session never has two requests outstanding; each gets exactly one answer.
        if self._get_token is None:
            token = self._token
            assert token is not None and self._loop is not None
            self._loop.call_soon(self._input, lambda now, r: self._session.token_obtained(now, r, token))
            return
        self._spawn(self._ask_provider(self._get_token, reason))

    async def _ask_provider(self, provider: TokenProvider, reason: str) -> None:
        try:
            result = provider(reason)
            token = await result if inspect.isawaitable(result) else result
            if not isinstance(token, str) or not token:
                raise TypeError("get_token must return a non-empty string")
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the provider's failure is the session's input
            message = str(e) or type(e).__name__
            self._input(lambda now, r: self._session.token_failed(now, r, message))
            return
        self._input(lambda now, r: self._session.token_obtained(now, r, token))

    # ---- connections ---------------------------------------------------------------------
    def _open(self, action: Open) -> None:
        conn = _Connection(action.connection)
        self._connections[action.connection] = conn
        conn.task = self._spawn(self._run(conn, action))

    async def _run(self, conn: _Connection, action: Open) -> None:
        headers = {"Authorization": action.authorization} if action.authorization else {}
        if action.last_event_id:
            headers["Last-Event-ID"] = action.last_event_id
        code, reason = 1006, ""
        try:
            try:
                ws = await connect(action.url, subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
                                   additional_headers=headers, open_timeout=None, ping_interval=None,
                                   close_timeout=2, compression=None, proxy=None,
                                   max_size=_codec.MAX_SERVER_FRAME_BYTES, user_agent_header="globemeet-python")
            except websockets.exceptions.InvalidStatus as e:
                status = e.response.status_code
                code, reason = _close_code_for_status(status), f"handshake refused with HTTP {status}"
                return
            except (OSError, websockets.exceptions.WebSocketException, asyncio.TimeoutError) as e:
                code, reason = 1006, f"connection failed: {e}"
                return
            conn.ws = ws
            if conn.close_request is not None:
                # The session gave up on it during the handshake: close it properly now.
                await ws.close(*conn.close_request)
                return
            conn.writer = self._spawn(self._write(conn, ws))
            self._input(lambda now, r: self._session.opened(now, r, conn.number))
            await self._read(conn, ws)
            code = ws.close_code if ws.close_code is not None else 1006
            reason = ws.close_reason or ""
        finally:
            self._connections.pop(conn.number, None)
            if conn.writer is not None and not conn.writer.done():
                conn.writer.cancel()
            if conn.ws is not None:
                await _abort(conn.ws)
            self._input(lambda now, r: self._session.closed(now, r, conn.number, code, reason))

    async def _read(self, conn: _Connection, ws: ClientConnection) -> None:
        session = self._session
        loads = json.loads
        check = _codec.check_event_envelope
        number = conn.number
        try:
            async for message in ws:
                parsed: Any = None
                if isinstance(message, str) and not self._performing:
                    try:
                        parsed = loads(message)
                    except ValueError:
                        parsed = None
                if parsed is not None and check(parsed):
                    # The hot path: an event parsed once; the session needs only id, topic, time
                    # (and whether it is a snapshot event, which takes the full path).
                    snapshot = "snapshot" in parsed
                    fast = None if snapshot else session.event_fast(_now_ms(), number, parsed["id"], parsed["topic"],
                                                                    parsed["time"])
                    if fast is not None:
                        if fast[0]:
                            self._deliver(parsed, fast[0], False, fast[1])
                    else:
                        self._received = parsed
                        try:
                            self._input(lambda now, r: session.event_received(
                                now, r, number, parsed["id"], parsed["topic"], parsed["time"], snapshot))
                        finally:
                            self._received = None
                else:
                    self._input(lambda now, r: session.frame(now, r, number, message))
                if self._awaiting:
                    await self._drain_awaiting()
        except websockets.exceptions.ConnectionClosed:
            pass

    async def _drain_awaiting(self) -> None:
        pending, self._awaiting = self._awaiting, []
        for awaitable in pending:
            try:
                await awaitable
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self._handler_failed(e)

    async def _write(self, conn: _Connection, ws: ClientConnection) -> None:
        try:
            while True:
                item = await conn.outbox.get()
                if isinstance(item, tuple):
                    await ws.close(item[0], item[1])
                    return
                await ws.send(item)
        except websockets.exceptions.ConnectionClosed:
            pass

    def _close_connection(self, number: int, code: int, reason: str) -> None:
        conn = self._connections.get(number)
        if conn is None:
            return
        if conn.ws is None:
            # The handshake is under way: close properly if it completes soon, else abort it.
            conn.close_request = (code, reason)
            task = conn.task
            if task is not None and self._loop is not None:
                self._loop.call_later(_HANDSHAKE_ABORT_S, lambda: task.cancel() if conn.ws is None else None)
            return
        conn.outbox.put_nowait((code, reason))

    # ---- deliveries and notices -----------------------------------------------------------
    def _deliver(self, raw: dict[str, Any], handles: tuple[int, ...], snapshot: bool, delay_ms: int | None) -> None:
        if self._user_closed:
            return
        kinds = CATALOGUE.get(raw["type"])
        if kinds is None:
            event: GlobeMeetEvent = Event(raw, EventData(raw["data"]), snapshot, delay_ms)
        else:
            event = kinds[0](raw, kinds[1](raw["data"]), snapshot, delay_ms)
        subs = self._subscriptions
        for handle in handles:
            sub = subs.get(handle)
            if sub is None:
                continue
            try:
                result = sub._handler(event)
            except Exception as e:
                self._handler_failed(e)
                continue
            if result is not None and inspect.iscoroutine(result):
                # A coroutine handler runs to its end before the next frame is read (order,
                # backpressure). A Task or Future it returns is already running: not awaited.
                self._awaiting.append(result)

    def _handler_failed(self, e: BaseException) -> None:
        error = GlobeMeetError("handler_error", f"a handler raised {type(e).__name__}: {e}")
        error.__cause__ = e
        self._emit("error", error)

    def _notice(self, action: Notice) -> None:
        kind = action.kind
        sub = self._subscriptions.get(action.handle)
        pattern = sub.pattern if sub is not None else ""
        if kind is NoticeKind.RECONNECTED:
            self._emit("reconnect", Reconnected(self._session.last_event_id))
        elif kind is NoticeKind.RESET:
            self._emit("reset", Reset(action.detail, action.message))
        elif kind is NoticeKind.OVERFLOW:
            self._emit("overflow", Overflow(action.detail))
        elif kind is NoticeKind.ERROR:
            if action.detail == "closed":
                self._final_error = GlobeMeetError("closed", action.message, close_code=action.close_code,
                                                   reason=action.close_reason)
                self._emit("error", self._final_error)
            else:
                self._emit("error", GlobeMeetError(action.detail, action.message))
        elif kind is NoticeKind.TOKEN_EXPIRING:
            self._emit("token_expiring", TokenExpiring(action.message))
        elif kind is NoticeKind.SUBSCRIBED:
            if sub is not None:
                sub._confirm()
            self._emit("subscribed", Subscribed(action.detail))
        elif kind is NoticeKind.SNAPSHOTTED:
            count = int(action.detail)
            if sub is not None:
                sub._snapshotted(count)
                self._emit("snapshot", Snapshotted(pattern, count, sub))
        elif kind is NoticeKind.SUBSCRIPTION_FAILED:
            if sub is not None:
                sub._end("failed", action.detail)
                del self._subscriptions[action.handle]
            self._emit("subscription_failed", SubscriptionFailed(pattern, action.detail, action.message))
        elif kind is NoticeKind.REVOKED:
            if sub is not None:
                sub._end("revoked", "permission_revoked")
                del self._subscriptions[action.handle]
            self._emit("revoked", Revoked(pattern, action.detail))

    def _emit(self, name: str, payload: Any) -> None:
        for listener in list(self._listeners.get(name, ())):
            try:
                result = listener(payload)
                if result is not None and inspect.iscoroutine(result):
                    self._spawn(self._await_listener(name, result))
            except Exception as e:
                if name == "error":
                    _log.exception("an `error` listener raised")  # reporting it again would loop
                else:
                    self._handler_failed(e)

    async def _await_listener(self, name: str, awaitable: Awaitable[Any]) -> None:
        try:
            await awaitable
        except Exception as e:
            if name == "error":
                _log.exception("an `error` listener raised")
            else:
                self._handler_failed(e)

    # ---- ending --------------------------------------------------------------------------
    def _on_closed(self) -> None:
        # Closed for good: every timer goes now; sockets and tasks in _release().
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        for sub in self._subscriptions.values():
            sub._end("unsubscribed", "closed")
        if self._closed_event is not None:
            self._closed_event.set()
        if self._loop is not None and not self._user_closed:
            self._spawn(self._release())

    async def _release(self) -> None:
        # Called by close() (maybe from a handler the reader is running, i.e. inside a
        # connection's own task) and after the session closed for good: sockets are closed
        # here, so that no task waits on another that waits on it.
        current = asyncio.current_task()
        conns = list(self._connections.values())
        for conn in conns:
            if conn.ws is not None:
                try:
                    await asyncio.wait_for(conn.ws.close(1000, "client stopped"), 3)
                except Exception:
                    conn.ws.transport.abort()
        readers = [c.task for c in conns if c.task is not None and c.task is not current and not c.task.done()]
        if readers:
            _, late = await asyncio.wait(readers, timeout=3)
            for task in late:
                task.cancel()
        others = [t for t in list(self._tasks) if t is not current and not t.done()]
        for task in others:
            task.cancel()
        if others:
            await asyncio.gather(*others, return_exceptions=True)
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()


async def _abort(ws: ClientConnection) -> None:
    # Make sure the transport is gone (a closed connection has nothing left to do).
    if ws.transport.is_closing():
        return
    try:
        await asyncio.wait_for(ws.close(), 2)
    except Exception:
        ws.transport.abort()


__all__ = [
    "GlobeMeetWS", "Subscription", "StateChange", "Subscribed", "Reconnected", "Reset", "Overflow", "Revoked",
    "SubscriptionFailed", "TokenExpiring", "Snapshotted", "LatencyStats", "EventName", "Handler", "TokenProvider",
]
