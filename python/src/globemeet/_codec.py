"""Frames (docs/protocol.md sections 2 and 3): the strict JSON rules, server frames decoded
member by member with the wording of core/src/codec.cpp, client frames encoded in the core's
member order, and the `exp` claim of a JWT.

The JSON layer is Python's `json` plus the checks it lacks (duplicate names, non-finite
numbers, lone surrogates, nesting, byte order mark). Its messages say what is wrong and where
in the object, but not always at which byte, as the core's do."""
from __future__ import annotations

import base64
import json
import math
from typing import Any

MAX_SERVER_FRAME_BYTES = 1_048_576
MAX_CLIENT_FRAME_BYTES = 65_536
MAX_NESTING = 64
MAX_TOKEN_BYTES = 16 * 1024
_INT64_MAX = (1 << 63) - 1


class FrameError(Exception):
    """A frame that breaks the rules: `code` is bad_json or bad_frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _bad_json(message: str) -> FrameError:
    return FrameError("bad_json", message)


def _bad_frame(message: str) -> FrameError:
    return FrameError("bad_frame", message)


class _Duplicate(dict[str, Any]):
    """An object that named a member twice; found (with its path) by the walk."""

    name = ""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        dup = _Duplicate(d)
        for k, _ in pairs:
            if k in seen:
                dup.name = k
                break
            seen.add(k)
        return dup
    return d


def _refuse_constant(name: str) -> Any:
    raise _bad_json(f"invalid JSON: {name} is not a JSON number")







def excerpt(text: str, limit: int = 64) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def kind_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _key_path(parent: str, key: str) -> str:
    return f"{parent}.'{excerpt(key)}'" if parent else f"'{excerpt(key)}'"


def _check_string(s: str) -> None:
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError as e:
            raise _bad_json(f"lone UTF-16 surrogate \\u{ord(s[e.start]):04x}") from None


def _walk(value: Any, path: str, depth: int) -> None:
    # Depth counts the frame object as level 1; checks what json.loads lets through.
    if depth > MAX_NESTING:
        raise _bad_json(f"nested deeper than {MAX_NESTING} levels")
    if isinstance(value, dict):
        if isinstance(value, _Duplicate):
            where = f"member {path}" if path else "the top-level object"
            raise _bad_json(f"duplicate member name '{excerpt(value.name)}' in {where}")
        for k, v in value.items():
            _check_string(k)
            if isinstance(v, (dict, list)):
                _walk(v, _key_path(path, k), depth + 1)
            elif isinstance(v, str):
                _check_string(v)
            elif isinstance(v, float) and math.isinf(v):
                raise _bad_json(f"member {_key_path(path, k)}: number out of range (not finite)")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, (dict, list)):
                _walk(v, f"{path}[{i}]", depth + 1)
            elif isinstance(v, str):
                _check_string(v)
            elif isinstance(v, float) and math.isinf(v):
                raise _bad_json(f"member {path}[{i}]: number out of range (not finite)")


def parse_object(data: str | bytes, max_bytes: int) -> dict[str, Any]:
    """One strict JSON object (docs/protocol.md section 2), or FrameError bad_json."""
    if isinstance(data, bytes):
        size = len(data)
        if size > max_bytes:
            raise _bad_json(f"input of {size} bytes is larger than the limit of {max_bytes} bytes")
        if data.startswith(b"\xef\xbb\xbf"):
            raise _bad_json("the input starts with a byte order mark")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise _bad_json(f"invalid UTF-8 at byte {e.start}") from None
    else:
        text = data
        size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            raise _bad_json(f"input of {size} bytes is larger than the limit of {max_bytes} bytes")
        if text.startswith("\ufeff"):
            raise _bad_json("the input starts with a byte order mark")
    if text.strip(" \t\r\n") == "":
        raise _bad_json("unexpected end of input")
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_refuse_constant)
    except json.JSONDecodeError as e:
        if e.msg == "Extra data":
            raise _bad_json(f"unexpected data after the JSON object at byte {e.pos}") from None
        if e.pos >= len(text.rstrip(" \t\r\n")) and "Unterminated" not in e.msg:
            raise _bad_json("unexpected end of input") from None
        if e.msg.startswith("Unterminated") or e.msg.startswith("Expecting"):
            if e.pos >= len(text):
                raise _bad_json("unexpected end of input") from None
        raise _bad_json(f"invalid JSON at byte {e.pos}: {e.msg}") from None
    except RecursionError:
        raise _bad_json(f"nested deeper than {MAX_NESTING} levels") from None
    if not isinstance(value, dict):
        raise _bad_json(f"expected a JSON object at the top level, got {kind_name(value)}")
    _walk(value, "", 1)
    return value


# ---- server frames -------------------------------------------------------------------------


class _Members:
    """Reads one frame object's members; the first problem raises bad_frame."""

    __slots__ = ("o",)

    def __init__(self, o: dict[str, Any]) -> None:
        self.o = o

    def required(self, name: str) -> Any:
        if name not in self.o:
            raise _bad_frame(f"missing member '{name}'")
        return self.o[name]

    def string(self, name: str) -> str:
        return self._as_string(name, self.required(name))

    def _as_string(self, name: str, v: Any) -> str:
        if not isinstance(v, str):
            raise _bad_frame(f"member '{name}': expected a string, got {kind_name(v)}")
        return v

    def optional_string(self, name: str, null_is_absent: bool) -> str | None:
        if name not in self.o:
            return None
        v = self.o[name]
        if v is None and null_is_absent:
            return None
        return self._as_string(name, v)

    def req(self) -> str:
        req = self.optional_string("req", False)
        if req is None:
            return ""
        n = len(req)
        if not 1 <= n <= 64:
            raise _bad_frame(f"member 'req': expected 1 to 64 characters, got {n}")
        return req

    def strings(self, name: str) -> list[str]:
        v = self.required(name)
        if not isinstance(v, list):
            raise _bad_frame(f"member '{name}': expected an array, got {kind_name(v)}")
        for i, s in enumerate(v):
            if not isinstance(s, str):
                raise _bad_frame(f"member '{name}'[{i}]: expected a string, got {kind_name(s)}")
        return v

    def non_negative(self, name: str, limit: int = _INT64_MAX) -> int:
        v = self.required(name)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _bad_frame(f"member '{name}': expected an integer, got {kind_name(v)}")
        if isinstance(v, float):
            raise _bad_frame(f"member '{name}': expected an integer, got a number with a fraction or exponent")
        if v < 0:
            raise _bad_frame(f"member '{name}': {v} is out of range (0 to {limit})")
        if v > limit:
            raise _bad_frame(f"member '{name}': {v} is out of range (at most {limit})")
        return v

    def optional_non_negative(self, name: str) -> int | None:
        return self.non_negative(name) if name in self.o else None

    def true_if_present(self, name: str) -> None:
        # An extension attribute with one allowed value (section 3: `snapshot` is `true` or absent).
        if name in self.o and self.o[name] is not True:
            v = self.o[name]
            got = "false" if v is False else kind_name(v)
            raise _bad_frame(f"member '{name}': expected true or no member, got {got}")

    def exactly(self, name: str, expected: str, required: bool) -> None:
        if name not in self.o and not required:
            return
        v = self.string(name)
        if v != expected:
            raise _bad_frame(f"member '{name}': expected \"{expected}\", got \"{excerpt(v)}\"")


def _check_event(m: _Members) -> None:
    m.exactly("specversion", "1.0", True)
    from globemeet._event_id import parse_event  # local: the codec has no other use for ids

    eid = m.string("id")
    if parse_event(eid) is None:
        raise _bad_frame(f"member 'id': expected an event id {{epoch}}-{{seq}} with seq 1 to 2^53-1, "
                         f"got \"{excerpt(eid)}\"")
    for name in ("source", "type", "subject", "time"):
        m.string(name)
    m.exactly("datacontenttype", "application/json", False)
    m.string("topic")
    m.string("tenant")
    data = m.required("data")
    if not isinstance(data, dict):
        raise _bad_frame(f"member 'data': expected an object, got {kind_name(data)}")
    m.true_if_present("snapshot")


def _check_server(o: dict[str, Any]) -> str:
    if "op" not in o:
        raise _bad_frame("missing member 'op'")
    op = o["op"]
    if not isinstance(op, str):
        raise _bad_frame(f"member 'op': expected a string, got {kind_name(op)}")
    m = _Members(o)
    if op == "event":
        _check_event(m)
    elif op == "subscribed":
        m.req()
        m.strings("topics")
        m.optional_string("head", True)
    elif op == "replayed":
        m.req()
        m.non_negative("count", (1 << 64) - 1)
    elif op == "snapshotted":
        m.req()
        m.non_negative("count", (1 << 64) - 1)
    elif op == "pong":
        m.req()
        m.optional_non_negative("time_ms")
    elif op == "ready":
        m.string("sub")
        m.string("tenant")
        m.non_negative("exp")
        m.non_negative("heartbeat_ms")
        m.optional_non_negative("time_ms")  # older servers omit it (section 7.2)
        m.optional_string("head", True)
    elif op == "unsubscribed":
        m.req()
        m.strings("topics")
        m.string("reason")
    elif op == "refreshed":
        m.req()
        m.non_negative("exp")
    elif op == "reset":
        m.string("reason")
        m.optional_string("from", True)
        m.optional_string("position", True)
    elif op == "overflow":
        m.non_negative("lag_ms")
        m.optional_string("last_id", True)
    elif op == "expiring":
        m.non_negative("exp")
        m.non_negative("grace_ms")
    elif op == "closing":
        m.string("reason")
        m.non_negative("reconnect_after_ms")
    elif op == "error":
        m.req()
        m.string("code")
        m.string("message")
        m.optional_string("topic", False)
    else:
        raise _bad_frame(f"member 'op': unknown op '{excerpt(op)}'")
    return op


def decode_server(data: str | bytes) -> dict[str, Any]:
    """A server frame, checked: every member the op needs is there with the right type."""
    o = parse_object(data, MAX_SERVER_FRAME_BYTES)
    _check_server(o)
    return o


def check_event_envelope(o: Any) -> bool:
    """The adapter's fast path (as js/src/event_frame.ts): an `event` frame json.loads parsed
    whose envelope has every member of the right type. id and topic are then checked by the
    session; anything else goes through decode_server for the precise error. Written out
    member by member: this runs once per event."""
    if type(o) is not dict:
        return False
    try:
        return (o["op"] == "event" and o["specversion"] == "1.0" and type(o["id"]) is str
                and type(o["topic"]) is str and type(o["type"]) is str and type(o["source"]) is str
                and type(o["subject"]) is str and type(o["time"]) is str and type(o["tenant"]) is str
                and type(o["data"]) is dict and o.get("datacontenttype", "application/json") == "application/json"
                and o.get("snapshot", True) is True)
    except KeyError:
        return False


# ---- client frames -------------------------------------------------------------------------


def _dump(o: dict[str, Any]) -> str:
    return json.dumps(o, ensure_ascii=False, separators=(",", ":"))


def encode_auth(token: str) -> str:
    return _dump({"op": "auth", "token": token})


def encode_subscribe(req: str, topics: list[str], from_id: str | None, snapshot: bool = False,
                     conflate: bool = False) -> str:
    o: dict[str, Any] = {"op": "subscribe", "req": req, "topics": topics}
    if from_id is not None:
        o["from"] = from_id
    if snapshot:
        o["snapshot"] = True
    if conflate:
        o["conflate"] = True
    return _dump(o)


def encode_unsubscribe(req: str, topics: list[str]) -> str:
    return _dump({"op": "unsubscribe", "req": req, "topics": topics})


def encode_refresh(req: str, token: str) -> str:
    return _dump({"op": "refresh", "req": req, "token": token})


def encode_ping(req: str) -> str:
    return _dump({"op": "ping", "req": req})


# ---- JWT -----------------------------------------------------------------------------------


def jwt_expiry(token: str) -> int | None:
    """The `exp` claim (Unix seconds) of a JWT, unverified; None for an opaque token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1]
    if len(payload) % 4 == 1 or not all(c.isalnum() or c in "-_" for c in payload) or not payload.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = parse_object(raw, MAX_TOKEN_BYTES)
    except (ValueError, FrameError):
        return None
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int) or exp > _INT64_MAX or exp < -(1 << 63):
        return None
    return exp
