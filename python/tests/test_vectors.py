"""The shared vectors (tests/vectors/*.json) against the Python twins of core/: topics, event
ids, backoff, and server frames. The JSON layer's messages are checked where the core's wording
is reproduced (member-level bad_frame, and the bad_json checks Python's json lacks); the rest
only by verdict and code (see _codec's docstring)."""
from __future__ import annotations

import base64
from typing import Any

import pytest

from conftest import vectors
from globemeet import _codec, _event_id, _topic
from globemeet._backoff import BackoffPolicy, backoff_delay

TOPICS = vectors("topics.json")
FRAMES = vectors("frames.json")


@pytest.mark.parametrize("case", TOPICS["validate_name"], ids=lambda c: repr(c["input"])[:40])
def test_validate_name(case: dict[str, Any]) -> None:
    problem = _topic.validate_name(case["input"])
    assert (problem is None) == case["valid"], problem
    if not case["valid"]:
        assert problem is not None and case["message_contains"] in problem


@pytest.mark.parametrize("case", TOPICS["validate_pattern"], ids=lambda c: repr(c["input"])[:40])
def test_validate_pattern(case: dict[str, Any]) -> None:
    problem = _topic.validate_pattern(case["input"])
    assert (problem is None) == case["valid"], problem
    if not case["valid"]:
        assert problem is not None and case["message_contains"] in problem


@pytest.mark.parametrize("case", TOPICS["matches"], ids=lambda c: f"{c['pattern']} {c['name']}")
def test_matches(case: dict[str, Any]) -> None:
    assert _topic.matches(case["pattern"], case["name"]) == case["expected"]


@pytest.mark.parametrize("case", TOPICS["contains"], ids=lambda c: f"{c['outer']} {c['inner']}")
def test_contains(case: dict[str, Any]) -> None:
    assert _topic.contains(case["outer"], case["inner"]) == case["expected"]


@pytest.mark.parametrize("case", vectors("event_ids.json")["parse"], ids=lambda c: repr(c["input"]))
def test_event_id(case: dict[str, Any]) -> None:
    parsed = _event_id.parse(case["input"])
    assert (parsed is not None) == case["valid"]
    if parsed is not None:
        assert (parsed.epoch, parsed.seq) == (case["epoch"], case["seq"])
        assert str(parsed) == case["input"]
        assert (_event_id.parse_event(case["input"]) is not None) == case["event"]


@pytest.mark.parametrize("case", vectors("backoff.json")["delay"], ids=lambda c: f"{c['policy']}-{c['attempt']}-{c['random']}")
def test_backoff(case: dict[str, Any]) -> None:
    policy = BackoffPolicy(**case["policy"])
    assert backoff_delay(policy, case["attempt"], case["random"]) == case["expected_ms"]


def _input(case: dict[str, Any]) -> str | bytes:
    if "input_base64" in case:
        return base64.b64decode(case["input_base64"])
    text: str = case["input"]
    return text


# Messages of the JSON layer that Python's json words differently (position or phrasing).
_JSON_WORDING_DIFFERS = ("invalid JSON", "lone UTF-16 surrogate", "duplicate member name")


@pytest.mark.parametrize("case", FRAMES["server"], ids=lambda c: c["name"])
def test_server_frames(case: dict[str, Any]) -> None:
    if case["ok"]:
        frame = _codec.decode_server(_input(case))
        assert frame["op"]
        return
    with pytest.raises(_codec.FrameError) as caught:
        _codec.decode_server(_input(case))
    assert caught.value.code == case["code"], caught.value.message
    wanted: str = case["message_contains"]
    if case["code"] == "bad_frame" or not any(w in wanted for w in _JSON_WORDING_DIFFERS):
        assert wanted in caught.value.message


@pytest.mark.parametrize("case", FRAMES["strict_json"], ids=lambda c: c["name"])
def test_strict_json(case: dict[str, Any]) -> None:
    limit = case.get("max_bytes", _codec.MAX_SERVER_FRAME_BYTES)
    if case["ok"]:
        _codec.parse_object(_input(case), limit)
        return
    with pytest.raises(_codec.FrameError) as caught:
        _codec.parse_object(_input(case), limit)
    assert caught.value.code == "bad_json"
    wanted: str = case["message_contains"]
    if not any(w in wanted for w in _JSON_WORDING_DIFFERS):
        assert wanted in caught.value.message


def test_client_frames_round_trip() -> None:
    # The frames the session writes are the core's canonical forms.
    canon = {c["name"]: c["canonical"] for c in FRAMES["client"] if c["ok"]}
    assert _codec.encode_subscribe("1", ["queue.support.depth-changed", "session.*.connected"], "6f1c2a9e-1042") \
        == canon["subscribe with from"]
    assert _codec.encode_unsubscribe("2", ["session.*.connected"]) == canon["unsubscribe"]
    assert _codec.encode_refresh("3", "eyJ.eyJ.sig") == canon["refresh"]
    assert _codec.encode_ping("4") == canon["ping with req"]
    assert _codec.encode_auth("abc") == canon["auth with members reordered and an unknown member"]
    assert _codec.encode_subscribe("5", ["queue.*.depth-changed", "agent.>"], None, True, True) \
        == canon["subscribe with snapshot and conflate"]
    assert _codec.encode_subscribe("1", [">"], "6f1c2a9e-1042", True, True) \
        == canon["subscribe with from and snapshot (the snapshot instead of the replay if the resume is impossible)"]
    assert _codec.encode_subscribe("1", [">"], None, False, False) \
        == canon["subscribe with snapshot and conflate false is written without them"]
