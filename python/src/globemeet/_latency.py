"""Latency the client can see (docs/protocol.md sections 7.2 and 9): the estimate of the server's
clock offset (from `ready.time_ms`, then the best of the last 8 pongs), an event's `time` read
as Unix milliseconds, and the running p50/p99 of the delivery delay over the last 1,000 live
events. The session owns one of each; nothing here touches a clock."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

PONG_SAMPLES = 8       # of the last 8 pongs, the shortest round trip wins
DELAY_WINDOW = 1_000   # the percentiles cover the last 1,000 live events


@dataclass(frozen=True)
class LatencyStats:
    """What latency() reports: `count` live events in the window (the last ones, at most 1,000),
    the delay's p50 and p99 over them (0 while count is 0), and the clock offset used (the
    server's clock minus the local one)."""
    count: int
    p50_ms: int
    p99_ms: int
    clock_offset_ms: int


class ClockOffset:
    """Server clock minus local clock, in ms. 0 until a server names its time (older servers
    omit `time_ms`)."""

    __slots__ = ("offset_ms", "_pongs")

    def __init__(self) -> None:
        self.offset_ms = 0
        self._pongs: deque[tuple[int, int]] = deque(maxlen=PONG_SAMPLES)  # (round trip, offset)

    def on_ready(self, now_ms: int, time_ms: int | None) -> None:
        # A new connection (perhaps to another node) starts its estimate afresh: the pongs of
        # the previous one are forgotten. An older server's ready without `time_ms` keeps the offset.
        self._pongs.clear()
        if time_ms is not None:
            self.offset_ms = time_ms - now_ms

    def on_pong(self, sent_ms: int, now_ms: int, time_ms: int | None) -> None:
        if time_ms is None or now_ms < sent_ms:  # a local clock that stepped back measures nothing
            return
        round_trip = now_ms - sent_ms
        self._pongs.append((round_trip, time_ms - (sent_ms + round_trip // 2)))
        best = self._pongs[0]
        for sample in self._pongs:  # oldest to newest: the shortest round trip, the newest of equals
            if sample[0] <= best[0]:
                best = sample
        self.offset_ms = best[1]


class DelayWindow:
    """The delays of the last DELAY_WINDOW live events, and their percentiles."""

    __slots__ = ("_delays",)

    def __init__(self) -> None:
        self._delays: deque[int] = deque(maxlen=DELAY_WINDOW)

    def add(self, delay_ms: int) -> None:
        self._delays.append(delay_ms)

    def stats(self, offset_ms: int) -> LatencyStats:
        ordered = sorted(self._delays)
        n = len(ordered)
        if n == 0:
            return LatencyStats(0, 0, 0, offset_ms)
        return LatencyStats(n, _nearest_rank(ordered, 50), _nearest_rank(ordered, 99), offset_ms)


def _nearest_rank(ordered: list[int], percent: int) -> int:
    # The smallest value with at least `percent` % of the values at or below it.
    rank = (percent * len(ordered) + 99) // 100
    return ordered[max(rank, 1) - 1]


_DIGITS = frozenset("0123456789")


def _number(text: str, begin: int, end: int) -> int:
    part = text[begin:end]
    if len(part) != end - begin or not _DIGITS.issuperset(part):
        raise ValueError(part)
    return int(part)


def _days_in_month(y: int, m: int) -> int:
    if m == 2:
        return 29 if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def _days_from_civil(y: int, m: int, d: int) -> int:
    # Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_time_ms(text: str) -> int | None:
    """An RFC 3339 date-time (`2026-11-27T18:02:11.204Z`, any fraction, `Z` or an offset) as
    Unix milliseconds (the fraction cut to ms); None when it is not one. The twin of
    core::parse_rfc3339_ms."""
    try:
        if len(text) < 20 or text[4] != "-" or text[7] != "-" or text[10] not in "Tt" \
                or text[13] != ":" or text[16] != ":":
            return None
        y, mo, d = _number(text, 0, 4), _number(text, 5, 7), _number(text, 8, 10)
        h, mi, s = _number(text, 11, 13), _number(text, 14, 16), _number(text, 17, 19)
        if not (1 <= mo <= 12 and 1 <= d <= _days_in_month(y, mo) and h <= 23 and mi <= 59 and s <= 60):
            return None
        i, ms = 19, 0
        if text[i] == ".":
            j = i + 1
            while j < len(text) and text[j] in _DIGITS:
                j += 1
            if j == i + 1:
                return None
            ms = int((text[i + 1:j] + "00")[:3])
            i = j
        zone = text[i:]
        if zone in ("Z", "z"):
            shift = 0
        elif len(zone) == 6 and zone[0] in "+-" and zone[3] == ":":
            zh, zm = _number(zone, 1, 3), _number(zone, 4, 6)
            if zh > 23 or zm > 59:
                return None
            shift = (zh * 60 + zm) * (1 if zone[0] == "+" else -1)
        else:
            return None
    except (ValueError, IndexError):
        return None
    seconds = _days_from_civil(y, mo, d) * 86_400 + h * 3_600 + mi * 60 + s - shift * 60
    return seconds * 1000 + ms


class TimeReader:
    """parse_time_ms for a stream of event times: the server writes `...T18:02:11.204Z`, and the
    part up to the second changes once a second, so that part is read once and only the
    milliseconds after it for each event (several microseconds less per event)."""

    __slots__ = ("_prefix", "_base")

    def __init__(self) -> None:
        self._prefix = ""
        self._base = 0

    def read(self, text: str) -> int | None:
        if len(text) == 24 and text[23] == "Z" and text[19] == "." and text.startswith(self._prefix) \
                and self._prefix:
            millis = text[20:23]
            if millis.isdigit() and millis.isascii():
                return self._base + int(millis)
        parsed = parse_time_ms(text)
        if parsed is not None and len(text) == 24 and text[23] == "Z" and text[19] == ".":
            self._prefix, self._base = text[:19], parsed - parsed % 1000
        return parsed

