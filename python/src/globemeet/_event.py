"""The event envelope (docs/protocol.md section 3) as delivered to handlers."""
from __future__ import annotations

from typing import Any


class EventData(dict[str, Any]):
    """An event's `data`: a dict whose members also read as attributes (`data.depth`). A member
    that is absent reads as None (optional catalogue fields)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.get(name)


class Event:
    """A CloudEvents 1.0 event with the extensions `topic` and `tenant`. `raw` is the frame
    object as received (every member, including extension attributes).

    `snapshot` is True for an event of the current state a subscription asked for (sent before
    the live ones; docs/protocol.md section 5.3). `delay_ms` is the delivery delay: the client's
    clock, corrected by its estimate of the server's, when the event was received, minus the
    event's `time` (None when `time` does not parse). For a snapshot or replayed event that is
    its age, not the system's latency."""

    __slots__ = ("id", "source", "type", "subject", "time", "topic", "tenant", "data", "raw", "snapshot",
                 "delay_ms")

    id: str
    source: str
    type: str
    subject: str
    time: str
    topic: str
    tenant: str
    data: EventData
    raw: dict[str, Any]
    snapshot: bool
    delay_ms: int | None

    def __init__(self, raw: dict[str, Any], data: EventData, snapshot: bool = False,
                 delay_ms: int | None = None) -> None:
        self.raw = raw
        self.id = raw["id"]
        self.source = raw["source"]
        self.type = raw["type"]
        self.subject = raw["subject"]
        self.time = raw["time"]
        self.topic = raw["topic"]
        self.tenant = raw["tenant"]
        self.data = data
        self.snapshot = snapshot
        self.delay_ms = delay_ms

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, topic={self.topic!r}, data={dict(self.data)!r})"
