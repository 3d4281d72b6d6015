"""GlobeMeet Events: the Python client (docs/protocol.md). See python/README.md."""
from globemeet._backoff import BackoffPolicy
from globemeet._event import Event, EventData
from globemeet.catalogue import *  # noqa: F403  (the typed events)
from globemeet.catalogue import GlobeMeetEvent
from globemeet.client import (
    GlobeMeetWS, LatencyStats, Overflow, Reconnected, Reset, Revoked, Snapshotted, StateChange, Subscribed,
    Subscription, SubscriptionFailed, TokenExpiring,
)
from globemeet.errors import GlobeMeetError
from globemeet.http import fetch_token, publish, token_provider

__version__ = "0.1.0"
__all__ = [
    "GlobeMeetWS", "GlobeMeetError", "GlobeMeetEvent", "Event", "EventData", "Subscription", "BackoffPolicy",
    "StateChange", "Subscribed", "Reconnected", "Reset", "Overflow", "Revoked", "SubscriptionFailed", "TokenExpiring",
    "Snapshotted", "LatencyStats",
    "fetch_token", "publish", "token_provider",
]
