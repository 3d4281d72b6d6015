package globemeet

import (
	"encoding/json"
	"time"
)

// Event is one event as delivered to a handler: the CloudEvents 1.0 attributes of
// docs/protocol.md section 3, with Data decoded into T.
type Event[T any] struct {
	ID      string // {epoch}-{seq}; save it to resume (Client.LastEventID does it for you)
	Type    string // {stream}.{event}, e.g. queue.depth-changed
	Topic   string // {stream}.{key}.{event}, e.g. queue.support.depth-changed
	Subject string // the key: queue name or agent id
	Source  string // /tenants/{tenant}/{stream}s/{key}
	Time    string // RFC 3339 UTC with milliseconds
	Tenant  string
	Data    T
	// Snapshot is true for an event of the current state, which a subscription made with the
	// Snapshot option gets before the live events (docs/protocol.md section 5.3). It is older
	// than the resume position: it never counts as the last event.
	Snapshot bool
	// Delay is the delivery delay: the client's clock, corrected by its estimate of the
	// server's, when the event arrived, minus Time. HasDelay is false when Time does not parse.
	// For a snapshot or replayed event it is the event's age, not the system's latency.
	Delay    time.Duration
	HasDelay bool
}

// AnyEvent is an event whose Data is left as raw JSON; switch on Type and decode, or call
// DecodeData for the catalogue struct.
type AnyEvent = Event[json.RawMessage]
