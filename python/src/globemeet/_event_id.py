"""Event ids `{epoch}-{seq}` (docs/protocol.md section 5) and the client's resume bookkeeping
(core/src/event_id.cpp, core/src/resume.cpp). seq 0 names a position, never an event."""
from __future__ import annotations

import enum
from typing import NamedTuple

MAX_SEQ = (1 << 53) - 1
_EPOCH_DIGITS = frozenset("0123456789abcdef")
_DECIMAL = frozenset("0123456789")


class EventId(NamedTuple):
    epoch: str
    seq: int

    def __str__(self) -> str:
        return f"{self.epoch}-{self.seq}"


def parse(text: str) -> EventId | None:
    """A position: seq 0 .. 2^53-1, canonical spelling only."""
    dash = text.find("-")
    if dash < 0:
        return None
    epoch, seq = text[:dash], text[dash + 1:]
    if not 1 <= len(epoch) <= 16 or not _EPOCH_DIGITS.issuperset(epoch):
        return None
    if not 1 <= len(seq) <= 16 or not _DECIMAL.issuperset(seq) or (seq[0] == "0" and len(seq) > 1):
        return None
    value = int(seq)
    if value > MAX_SEQ:
        return None
    return EventId(epoch, value)


def parse_event(text: str) -> EventId | None:
    """The id of an event: seq 1 .. 2^53-1."""
    parsed = parse(text)
    return parsed if parsed is not None and parsed.seq != 0 else None


class Verdict(enum.Enum):
    DELIVER = "deliver"
    DUPLICATE = "duplicate"
    EPOCH_CHANGED = "epoch_changed"
    INVALID_ID = "invalid_id"


class ResumeState:
    """The last delivered id, duplicate suppression and epoch checks. The last id is kept as
    its epoch and seq; an id of that epoch is parsed in place (the common case, per event)."""

    __slots__ = ("_epoch", "_seq", "_prefix")

    def __init__(self) -> None:
        self._epoch: str | None = None
        self._seq = 0
        self._prefix = ""  # "{epoch}-"

    def accept(self, text: str) -> Verdict:
        if self._epoch is not None and text.startswith(self._prefix):
            seq = text[len(self._prefix):]
            if seq.isascii() and seq.isdigit() and len(seq) <= 16 and seq[0] != "0":
                value = int(seq)
                if value <= MAX_SEQ:
                    if value <= self._seq:
                        return Verdict.DUPLICATE
                    self._seq = value
                    return Verdict.DELIVER
        parsed = parse_event(text)
        if parsed is None:
            return Verdict.INVALID_ID
        if self._epoch is not None:
            # Sequence numbers order ids of one epoch only: another epoch is neither old nor new.
            if parsed.epoch != self._epoch:
                return Verdict.EPOCH_CHANGED
            if parsed.seq <= self._seq:
                return Verdict.DUPLICATE
        self._set(parsed)
        return Verdict.DELIVER

    def _set(self, parsed: EventId | None) -> None:
        if parsed is None:
            self._epoch, self._seq, self._prefix = None, 0, ""
        else:
            self._epoch, self._seq, self._prefix = parsed.epoch, parsed.seq, parsed.epoch + "-"

    def reset_to(self, position: str | None) -> None:
        # A position that is not an id compares with nothing: forget the last id.
        self._set(parse(position) if position is not None else None)

    def set_last(self, text: str) -> bool:
        parsed = parse(text)
        if parsed is None:
            return False
        self._set(parsed)
        return True

    def last(self) -> str | None:
        return None if self._epoch is None else f"{self._epoch}-{self._seq}"
