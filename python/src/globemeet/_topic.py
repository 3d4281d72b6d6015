"""Topic grammar (docs/protocol.md section 4), as core/src/topic.cpp: validation reports the
first rule broken, left to right, with the same wording, then refuses a pattern that can match
no topic name; matching follows the NATS convention
(`*` one segment, `>` one or more remaining segments)."""
from __future__ import annotations

MAX_BYTES = 255
MAX_SEGMENTS = 16
MAX_SEGMENT_BYTES = 64
NAME_SEGMENTS = 3
_ALLOWED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ALLOWED_TEXT = "A-Z a-z 0-9 _ -"


def _printable(c: int) -> bool:
    return 0x20 <= c < 0x7F


def _quoted(segment: bytes) -> str:
    # Messages travel in JSON error frames: only printable ASCII, anything else as \xNN.
    return "'" + "".join(chr(c) if _printable(c) else f"\\x{c:02x}" for c in segment) + "'"


def _segment_error(is_name: bool, segment: bytes, number: int, offset: int, is_last: bool) -> str | None:
    if segment in (b"*", b">"):
        if is_name:
            return f"a topic name cannot contain wildcards (segment {number}: {_quoted(segment)})"
        if segment == b">" and not is_last:
            return f"'>' must be the last segment (found at segment {number})"
        return None
    if len(segment) > MAX_SEGMENT_BYTES:
        return f"segment {number} is longer than {MAX_SEGMENT_BYTES} bytes ({len(segment)} bytes)"
    for i, c in enumerate(segment):
        if c in (0x2A, 0x3E):  # '*' or '>' inside a segment
            head = ("a topic name cannot contain wildcards" if is_name
                    else f"wildcard '{chr(c)}' must be a whole segment")
            return f"{head} (segment {number}: {_quoted(segment)})"
        if c not in _ALLOWED:
            if _printable(c):
                what = f"character '{chr(c)}'"
            else:
                what = ("non-ASCII byte 0x" if c >= 0x80 else "control character 0x") + f"{c:02x}"
            return (f"{what} at byte {offset + i} is not allowed (segment {number}; "
                    f"segments use {_ALLOWED_TEXT})")
    return None


def _validate(text: str, is_name: bool) -> str | None:
    noun = "topic name" if is_name else "topic pattern"
    data = text.encode("utf-8", "surrogatepass")
    if not data:
        return f"a {noun} cannot be empty"
    if len(data) > MAX_BYTES:
        return f"a {noun} is longer than {MAX_BYTES} bytes ({len(data)} bytes)"
    count = 0
    offset = 0
    while True:
        dot = data.find(b".", offset)
        is_last = dot < 0
        end = len(data) if is_last else dot
        segment = data[offset:end]
        count += 1
        if not is_name and count > MAX_SEGMENTS:
            return f"a topic pattern has more than {MAX_SEGMENTS} segments"
        if not segment:
            message = f"segment {count} is empty"
            if offset == 0:
                return message + " (the topic starts with '.')"
            if offset == len(data):
                return message + " (the topic ends with '.')"
            return message + f" ('..' at byte {offset - 1})"
        problem = _segment_error(is_name, segment, count, offset, is_last)
        if problem is not None:
            return problem
        if is_last:
            break
        offset = dot + 1
    if is_name and count != NAME_SEGMENTS:
        return (f"a topic name has exactly {NAME_SEGMENTS} segments {{stream}}.{{key}}.{{event}} "
                f"(found {count})")
    return None


def validate_name(name: str) -> str | None:
    """None for a valid topic name, else why it is not one."""
    return _validate(name, True)


def _match_rule_error(pattern: str) -> str | None:
    # For a pattern that obeys the grammar: a name has exactly three segments, so a pattern
    # without '>' needs three, and one ending in '>' (one or more segments) at most three.
    segments = pattern.count(".") + 1
    tail = pattern == ">" or pattern.endswith(".>")
    if (segments <= NAME_SEGMENTS) if tail else (segments == NAME_SEGMENTS):
        return None
    return (f"a topic pattern can never match a topic name: names have exactly {NAME_SEGMENTS} "
            f"segments {{stream}}.{{key}}.{{event}} (the pattern {'needs at least' if tail else 'has'} "
            f"{segments})")


def validate_pattern(pattern: str) -> str | None:
    """None for a valid subscription pattern, else why it is not one (a pattern that can match
    no topic name, such as `queue.support`, is refused too)."""
    return _validate(pattern, False) or _match_rule_error(pattern)


def matches(pattern: str, name: str) -> bool:
    """Whether `pattern` matches the topic `name`."""
    p = pattern.split(".")
    n = name.split(".")
    for i, ps in enumerate(p):
        if ps == ">":
            return len(n) > i  # '>' needs at least one more segment
        if i >= len(n) or (ps != "*" and ps != n[i]):
            return False
    return len(n) == len(p)


def _shape(pattern: str) -> list[str] | None:
    # The names a pattern can match, one entry per name segment: a literal or '*' (a final '>'
    # stands for '*' in each position it reaches); None when it can match no name.
    segments = pattern.split(".")
    if segments[-1] == ">":
        head = segments[:-1]
        if len(head) >= NAME_SEGMENTS or ">" in head:
            return None
        return head + ["*"] * (NAME_SEGMENTS - len(head))
    return segments if len(segments) == NAME_SEGMENTS and ">" not in segments else None


def contains(outer: str, inner: str) -> bool:
    """Whether every topic name `inner` can match is matched by `outer`, judged over the names
    that exist (three segments): `queue.support.*` contains `queue.support.>`."""
    o = _shape(outer)
    i = _shape(inner)
    if o is None or i is None:
        return False
    return all(os == "*" or os == is_ for os, is_ in zip(o, i))
