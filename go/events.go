package globemeet

import "encoding/json"

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
}

// AnyEvent is an event whose Data is left as raw JSON; switch on Type and decode, or call
// DecodeData for the catalogue struct.
type AnyEvent = Event[json.RawMessage]
