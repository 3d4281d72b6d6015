"""The event catalogue (docs/protocol.md section 3.1) as types: one data class and one event
class per event type. Generated from the catalogue table; keep in step with js/src/catalogue.ts.

`event.data` is a dict (extra fields pass through untouched) that also reads as attributes:
`event.data["depth"]` and `event.data.depth` are the same int. A handler narrows the event with
isinstance: `if isinstance(event, QueueDepthChanged): event.data.depth  # int`.
Numbers: `depth`, `agents_available`, `size_bytes` are ints; `*_seconds` and scores may carry
a fraction (float; an int is a valid float to a type checker).
"""
from __future__ import annotations

from typing import Any, Literal, Union, overload

from globemeet._event import Event, EventData

class SessionCreatedData(EventData):
    """`session.created`: required session_id, queue_id; optional caller, channel."""
    session_id: str
    queue_id: str
    caller: str | None  # None when absent
    channel: str | None  # None when absent

    @overload
    def __getitem__(self, key: Literal["session_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["queue_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["caller"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["channel"]) -> str: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class SessionCreated(Event):
    """A `session.created` event."""

    type: Literal["session.created"]
    data: SessionCreatedData


class SessionConnectedData(EventData):
    """`session.connected`: required session_id, queue_id, agent_id; optional wait_seconds."""
    session_id: str
    queue_id: str
    agent_id: str
    wait_seconds: float | None  # None when absent

    @overload
    def __getitem__(self, key: Literal["session_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["queue_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["agent_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["wait_seconds"]) -> float: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class SessionConnected(Event):
    """A `session.connected` event."""

    type: Literal["session.connected"]
    data: SessionConnectedData


class SessionEndedData(EventData):
    """`session.ended`: required session_id, queue_id, duration_seconds; optional agent_id, disposition."""
    session_id: str
    queue_id: str
    duration_seconds: float
    agent_id: str | None  # None when absent
    disposition: str | None  # None when absent

    @overload
    def __getitem__(self, key: Literal["session_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["queue_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["duration_seconds"]) -> float: ...

    @overload
    def __getitem__(self, key: Literal["agent_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["disposition"]) -> str: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class SessionEnded(Event):
    """A `session.ended` event."""

    type: Literal["session.ended"]
    data: SessionEndedData


class SessionDroppedData(EventData):
    """`session.dropped`: required session_id, queue_id; optional wait_seconds, reason."""
    session_id: str
    queue_id: str
    wait_seconds: float | None  # None when absent
    reason: str | None  # None when absent

    @overload
    def __getitem__(self, key: Literal["session_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["queue_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["wait_seconds"]) -> float: ...

    @overload
    def __getitem__(self, key: Literal["reason"]) -> str: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class SessionDropped(Event):
    """A `session.dropped` event."""

    type: Literal["session.dropped"]
    data: SessionDroppedData


class SessionTransferredData(EventData):
    """`session.transferred`: required session_id, queue_id, from_agent_id, to_queue_id; optional to_agent_id."""
    session_id: str
    queue_id: str
    from_agent_id: str
    to_queue_id: str
    to_agent_id: str | None  # None when absent

    @overload
    def __getitem__(self, key: Literal["session_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["queue_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["from_agent_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["to_queue_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["to_agent_id"]) -> str: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class SessionTransferred(Event):
    """A `session.transferred` event."""

    type: Literal["session.transferred"]
    data: SessionTransferredData


class QueueDepthChangedData(EventData):
    """`queue.depth-changed`: required queue_id, depth, longest_wait_seconds; optional agents_available."""
    queue_id: str
    depth: int
    longest_wait_seconds: float
    agents_available: int | None  # None when absent

    @overload
    def __getitem__(self, key: Literal["queue_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["depth"]) -> int: ...

    @overload
    def __getitem__(self, key: Literal["longest_wait_seconds"]) -> float: ...

    @overload
    def __getitem__(self, key: Literal["agents_available"]) -> int: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class QueueDepthChanged(Event):
    """A `queue.depth-changed` event."""

    type: Literal["queue.depth-changed"]
    data: QueueDepthChangedData


class QueueAbandonedData(EventData):
    """`queue.abandoned`: required queue_id, session_id, wait_seconds."""
    queue_id: str
    session_id: str
    wait_seconds: float

    @overload
    def __getitem__(self, key: Literal["queue_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["session_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["wait_seconds"]) -> float: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class QueueAbandoned(Event):
    """A `queue.abandoned` event."""

    type: Literal["queue.abandoned"]
    data: QueueAbandonedData


class QueueMaxWaitExceededData(EventData):
    """`queue.max-wait-exceeded`: required queue_id, longest_wait_seconds, threshold_seconds."""
    queue_id: str
    longest_wait_seconds: float
    threshold_seconds: float

    @overload
    def __getitem__(self, key: Literal["queue_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["longest_wait_seconds"]) -> float: ...

    @overload
    def __getitem__(self, key: Literal["threshold_seconds"]) -> float: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class QueueMaxWaitExceeded(Event):
    """A `queue.max-wait-exceeded` event."""

    type: Literal["queue.max-wait-exceeded"]
    data: QueueMaxWaitExceededData


class AgentOnlineData(EventData):
    """`agent.online`: required agent_id; optional queues."""
    agent_id: str
    queues: list[str] | None  # None when absent

    @overload
    def __getitem__(self, key: Literal["agent_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["queues"]) -> list[str]: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class AgentOnline(Event):
    """A `agent.online` event."""

    type: Literal["agent.online"]
    data: AgentOnlineData


class AgentOfflineData(EventData):
    """`agent.offline`: required agent_id; optional reason."""
    agent_id: str
    reason: str | None  # None when absent

    @overload
    def __getitem__(self, key: Literal["agent_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["reason"]) -> str: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class AgentOffline(Event):
    """A `agent.offline` event."""

    type: Literal["agent.offline"]
    data: AgentOfflineData


class AgentStatusChangedData(EventData):
    """`agent.status-changed`: required agent_id, status, previous_status."""
    agent_id: str
    status: str
    previous_status: str

    @overload
    def __getitem__(self, key: Literal["agent_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["status"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["previous_status"]) -> str: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class AgentStatusChanged(Event):
    """A `agent.status-changed` event."""

    type: Literal["agent.status-changed"]
    data: AgentStatusChangedData


class AgentBusyData(EventData):
    """`agent.busy`: required agent_id, session_id."""
    agent_id: str
    session_id: str

    @overload
    def __getitem__(self, key: Literal["agent_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["session_id"]) -> str: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class AgentBusy(Event):
    """A `agent.busy` event."""

    type: Literal["agent.busy"]
    data: AgentBusyData


class AgentBreakData(EventData):
    """`agent.break`: required agent_id; optional reason, expected_seconds."""
    agent_id: str
    reason: str | None  # None when absent
    expected_seconds: float | None  # None when absent

    @overload
    def __getitem__(self, key: Literal["agent_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["reason"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["expected_seconds"]) -> float: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class AgentBreak(Event):
    """A `agent.break` event."""

    type: Literal["agent.break"]
    data: AgentBreakData


class RecordingStartedData(EventData):
    """`recording.started`: required recording_id, session_id."""
    recording_id: str
    session_id: str

    @overload
    def __getitem__(self, key: Literal["recording_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["session_id"]) -> str: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class RecordingStarted(Event):
    """A `recording.started` event."""

    type: Literal["recording.started"]
    data: RecordingStartedData


class RecordingFinishedData(EventData):
    """`recording.finished`: required recording_id, session_id, duration_seconds; optional size_bytes."""
    recording_id: str
    session_id: str
    duration_seconds: float
    size_bytes: int | None  # None when absent

    @overload
    def __getitem__(self, key: Literal["recording_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["session_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["duration_seconds"]) -> float: ...

    @overload
    def __getitem__(self, key: Literal["size_bytes"]) -> int: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class RecordingFinished(Event):
    """A `recording.finished` event."""

    type: Literal["recording.finished"]
    data: RecordingFinishedData


class RecordingFailedData(EventData):
    """`recording.failed`: required recording_id, session_id, reason."""
    recording_id: str
    session_id: str
    reason: str

    @overload
    def __getitem__(self, key: Literal["recording_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["session_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["reason"]) -> str: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class RecordingFailed(Event):
    """A `recording.failed` event."""

    type: Literal["recording.failed"]
    data: RecordingFailedData


class RecordingDeletedData(EventData):
    """`recording.deleted`: required recording_id; optional reason."""
    recording_id: str
    reason: str | None  # None when absent

    @overload
    def __getitem__(self, key: Literal["recording_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["reason"]) -> str: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class RecordingDeleted(Event):
    """A `recording.deleted` event."""

    type: Literal["recording.deleted"]
    data: RecordingDeletedData


class QaScorecardSavedData(EventData):
    """`qa.scorecard-saved`: required scorecard_id, session_id, agent_id, score."""
    scorecard_id: float
    session_id: str
    agent_id: str
    score: float

    @overload
    def __getitem__(self, key: Literal["scorecard_id"]) -> float: ...

    @overload
    def __getitem__(self, key: Literal["session_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["agent_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["score"]) -> float: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class QaScorecardSaved(Event):
    """A `qa.scorecard-saved` event."""

    type: Literal["qa.scorecard-saved"]
    data: QaScorecardSavedData


class QaDisputeRaisedData(EventData):
    """`qa.dispute-raised`: required scorecard_id, agent_id, reason."""
    scorecard_id: float
    agent_id: str
    reason: str

    @overload
    def __getitem__(self, key: Literal["scorecard_id"]) -> float: ...

    @overload
    def __getitem__(self, key: Literal["agent_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["reason"]) -> str: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class QaDisputeRaised(Event):
    """A `qa.dispute-raised` event."""

    type: Literal["qa.dispute-raised"]
    data: QaDisputeRaisedData


class QaScoreUpdatedData(EventData):
    """`qa.score-updated`: required scorecard_id, agent_id, score, previous_score."""
    scorecard_id: float
    agent_id: str
    score: float
    previous_score: float

    @overload
    def __getitem__(self, key: Literal["scorecard_id"]) -> float: ...

    @overload
    def __getitem__(self, key: Literal["agent_id"]) -> str: ...

    @overload
    def __getitem__(self, key: Literal["score"]) -> float: ...

    @overload
    def __getitem__(self, key: Literal["previous_score"]) -> float: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: str) -> Any:
        return dict.__getitem__(self, key)


class QaScoreUpdated(Event):
    """A `qa.score-updated` event."""

    type: Literal["qa.score-updated"]
    data: QaScoreUpdatedData


#: Any catalogue event; narrow it with isinstance.
GlobeMeetEvent = Union[
    SessionCreated,
    SessionConnected,
    SessionEnded,
    SessionDropped,
    SessionTransferred,
    QueueDepthChanged,
    QueueAbandoned,
    QueueMaxWaitExceeded,
    AgentOnline,
    AgentOffline,
    AgentStatusChanged,
    AgentBusy,
    AgentBreak,
    RecordingStarted,
    RecordingFinished,
    RecordingFailed,
    RecordingDeleted,
    QaScorecardSaved,
    QaDisputeRaised,
    QaScoreUpdated,
    Event,
]

#: Event type -> (event class, data class), used to build each event.
CATALOGUE: dict[str, tuple[type[Event], type[EventData]]] = {
    "session.created": (SessionCreated, SessionCreatedData),
    "session.connected": (SessionConnected, SessionConnectedData),
    "session.ended": (SessionEnded, SessionEndedData),
    "session.dropped": (SessionDropped, SessionDroppedData),
    "session.transferred": (SessionTransferred, SessionTransferredData),
    "queue.depth-changed": (QueueDepthChanged, QueueDepthChangedData),
    "queue.abandoned": (QueueAbandoned, QueueAbandonedData),
    "queue.max-wait-exceeded": (QueueMaxWaitExceeded, QueueMaxWaitExceededData),
    "agent.online": (AgentOnline, AgentOnlineData),
    "agent.offline": (AgentOffline, AgentOfflineData),
    "agent.status-changed": (AgentStatusChanged, AgentStatusChangedData),
    "agent.busy": (AgentBusy, AgentBusyData),
    "agent.break": (AgentBreak, AgentBreakData),
    "recording.started": (RecordingStarted, RecordingStartedData),
    "recording.finished": (RecordingFinished, RecordingFinishedData),
    "recording.failed": (RecordingFailed, RecordingFailedData),
    "recording.deleted": (RecordingDeleted, RecordingDeletedData),
    "qa.scorecard-saved": (QaScorecardSaved, QaScorecardSavedData),
    "qa.dispute-raised": (QaDisputeRaised, QaDisputeRaisedData),
    "qa.score-updated": (QaScoreUpdated, QaScoreUpdatedData),
}
