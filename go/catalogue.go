// Code generated from the catalogue of docs/protocol.md section 3.1; keep in step with it.

package globemeet

import "encoding/json"

// The data of each catalogue event. Optional fields are pointers (nil: absent); numbers are
// float64 because the protocol allows any non-negative number. Fields a publisher adds beyond
// these are ignored here; AnyEvent.Data keeps them.

// SessionCreated is the data of `session.created`.
type SessionCreated struct {
	SessionID string  `json:"session_id"`
	QueueID   string  `json:"queue_id"`
	Caller    *string `json:"caller,omitempty"`
	Channel   *string `json:"channel,omitempty"`
}

// SessionConnected is the data of `session.connected`.
type SessionConnected struct {
	SessionID   string   `json:"session_id"`
	QueueID     string   `json:"queue_id"`
	AgentID     string   `json:"agent_id"`
	WaitSeconds *float64 `json:"wait_seconds,omitempty"`
}

// SessionEnded is the data of `session.ended`.
type SessionEnded struct {
	SessionID       string  `json:"session_id"`
	QueueID         string  `json:"queue_id"`
	DurationSeconds float64 `json:"duration_seconds"`
	AgentID         *string `json:"agent_id,omitempty"`
	Disposition     *string `json:"disposition,omitempty"`
}

// SessionDropped is the data of `session.dropped`.
type SessionDropped struct {
	SessionID   string   `json:"session_id"`
	QueueID     string   `json:"queue_id"`
	WaitSeconds *float64 `json:"wait_seconds,omitempty"`
	Reason      *string  `json:"reason,omitempty"`
}

// SessionTransferred is the data of `session.transferred`.
type SessionTransferred struct {
	SessionID   string  `json:"session_id"`
	QueueID     string  `json:"queue_id"`
	FromAgentID string  `json:"from_agent_id"`
	ToQueueID   string  `json:"to_queue_id"`
	ToAgentID   *string `json:"to_agent_id,omitempty"`
}

// QueueDepthChanged is the data of `queue.depth-changed`.
type QueueDepthChanged struct {
	QueueID            string   `json:"queue_id"`
	Depth              float64  `json:"depth"`
	LongestWaitSeconds float64  `json:"longest_wait_seconds"`
	AgentsAvailable    *float64 `json:"agents_available,omitempty"`
}

// QueueAbandoned is the data of `queue.abandoned`.
type QueueAbandoned struct {
	QueueID     string  `json:"queue_id"`
	SessionID   string  `json:"session_id"`
	WaitSeconds float64 `json:"wait_seconds"`
}

// QueueMaxWaitExceeded is the data of `queue.max-wait-exceeded`.
type QueueMaxWaitExceeded struct {
	QueueID            string  `json:"queue_id"`
	LongestWaitSeconds float64 `json:"longest_wait_seconds"`
	ThresholdSeconds   float64 `json:"threshold_seconds"`
}

// AgentOnline is the data of `agent.online`.
type AgentOnline struct {
	AgentID string   `json:"agent_id"`
	Queues  []string `json:"queues,omitempty"`
}

// AgentOffline is the data of `agent.offline`.
type AgentOffline struct {
	AgentID string  `json:"agent_id"`
	Reason  *string `json:"reason,omitempty"`
}

// AgentStatusChanged is the data of `agent.status-changed`.
type AgentStatusChanged struct {
	AgentID        string `json:"agent_id"`
	Status         string `json:"status"`
	PreviousStatus string `json:"previous_status"`
}

// AgentBusy is the data of `agent.busy`.
type AgentBusy struct {
	AgentID   string `json:"agent_id"`
	SessionID string `json:"session_id"`
}

// AgentBreak is the data of `agent.break`.
type AgentBreak struct {
	AgentID         string   `json:"agent_id"`
	Reason          *string  `json:"reason,omitempty"`
	ExpectedSeconds *float64 `json:"expected_seconds,omitempty"`
}

// RecordingStarted is the data of `recording.started`.
type RecordingStarted struct {
	RecordingID string `json:"recording_id"`
	SessionID   string `json:"session_id"`
}

// RecordingFinished is the data of `recording.finished`.
type RecordingFinished struct {
	RecordingID     string   `json:"recording_id"`
	SessionID       string   `json:"session_id"`
	DurationSeconds float64  `json:"duration_seconds"`
	SizeBytes       *float64 `json:"size_bytes,omitempty"`
}

// RecordingFailed is the data of `recording.failed`.
type RecordingFailed struct {
	RecordingID string `json:"recording_id"`
	SessionID   string `json:"session_id"`
	Reason      string `json:"reason"`
}

// RecordingDeleted is the data of `recording.deleted`.
type RecordingDeleted struct {
	RecordingID string  `json:"recording_id"`
	Reason      *string `json:"reason,omitempty"`
}

// QAScorecardSaved is the data of `qa.scorecard-saved`.
type QAScorecardSaved struct {
	ScorecardID string  `json:"scorecard_id"`
	SessionID   string  `json:"session_id"`
	AgentID     string  `json:"agent_id"`
	Score       float64 `json:"score"`
}

// QADisputeRaised is the data of `qa.dispute-raised`.
type QADisputeRaised struct {
	ScorecardID string `json:"scorecard_id"`
	AgentID     string `json:"agent_id"`
	Reason      string `json:"reason"`
}

// QAScoreUpdated is the data of `qa.score-updated`.
type QAScoreUpdated struct {
	ScorecardID   string  `json:"scorecard_id"`
	AgentID       string  `json:"agent_id"`
	Score         float64 `json:"score"`
	PreviousScore float64 `json:"previous_score"`
}

// EventTypes lists the catalogue's event types, in the order of docs/protocol.md.
var EventTypes = []string{"session.created", "session.connected", "session.ended", "session.dropped", "session.transferred", "queue.depth-changed", "queue.abandoned", "queue.max-wait-exceeded", "agent.online", "agent.offline", "agent.status-changed", "agent.busy", "agent.break", "recording.started", "recording.finished", "recording.failed", "recording.deleted", "qa.scorecard-saved", "qa.dispute-raised", "qa.score-updated"}

// DecodeData decodes an event's data into its catalogue struct (a value such as
// QueueDepthChanged), for a type switch. An event type outside the catalogue gives
// map[string]any.
func DecodeData(e AnyEvent) (any, error) {
	switch e.Type {
	case "session.created":
		return decodeAs[SessionCreated](e.Data)
	case "session.connected":
		return decodeAs[SessionConnected](e.Data)
	case "session.ended":
		return decodeAs[SessionEnded](e.Data)
	case "session.dropped":
		return decodeAs[SessionDropped](e.Data)
	case "session.transferred":
		return decodeAs[SessionTransferred](e.Data)
	case "queue.depth-changed":
		return decodeAs[QueueDepthChanged](e.Data)
	case "queue.abandoned":
		return decodeAs[QueueAbandoned](e.Data)
	case "queue.max-wait-exceeded":
		return decodeAs[QueueMaxWaitExceeded](e.Data)
	case "agent.online":
		return decodeAs[AgentOnline](e.Data)
	case "agent.offline":
		return decodeAs[AgentOffline](e.Data)
	case "agent.status-changed":
		return decodeAs[AgentStatusChanged](e.Data)
	case "agent.busy":
		return decodeAs[AgentBusy](e.Data)
	case "agent.break":
		return decodeAs[AgentBreak](e.Data)
	case "recording.started":
		return decodeAs[RecordingStarted](e.Data)
	case "recording.finished":
		return decodeAs[RecordingFinished](e.Data)
	case "recording.failed":
		return decodeAs[RecordingFailed](e.Data)
	case "recording.deleted":
		return decodeAs[RecordingDeleted](e.Data)
	case "qa.scorecard-saved":
		return decodeAs[QAScorecardSaved](e.Data)
	case "qa.dispute-raised":
		return decodeAs[QADisputeRaised](e.Data)
	case "qa.score-updated":
		return decodeAs[QAScoreUpdated](e.Data)
	}
	return decodeAs[map[string]any](e.Data)
}

func decodeAs[T any](raw json.RawMessage) (any, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, &Error{Code: "bad_data", Message: err.Error()}
	}
	return v, nil
}
