package globemeet

import (
	"context"
	"net/http"
	"time"
)

// TokenReason says why the client asks its TokenSource for a token, so a source can tell a
// routine refresh from a token the server turned down (and, say, skip its cache).
type TokenReason string

const (
	ReasonConnect  TokenReason = "connect"  // a connection needs a token and none is usable
	ReasonRefresh  TokenReason = "refresh"  // the token nears `exp`, or a refresh is retried
	ReasonExpiring TokenReason = "expiring" // the server warned with `expiring`
	ReasonExpired  TokenReason = "expired"  // the server closed with 4001
	ReasonRefused  TokenReason = "refused"  // the server closed with 4401 (e.g. a new signing key)
)

// TokenSource returns a token (a JWT from the OAuth exchange). It is called on its own
// goroutine; ctx is cancelled when the client closes.
type TokenSource func(ctx context.Context, reason TokenReason) (string, error)

// Backoff is full-jitter reconnect backoff: each delay is uniform in
// [0, min(Max, Min*Factor^attempt)]. Zero fields take the defaults 500 ms, 30 s, 2.
type Backoff struct {
	Min, Max time.Duration
	Factor   float64
}

// Options configure a client. Endpoint and one of Token and TokenSource are required.
type Options struct {
	Endpoint string // wss://host/v1/events (ws:// for local development)
	// Token is a fixed token, used until it expires. TokenSource mints new ones (see
	// TokenSource); with it, the client refreshes before `exp` and retries once after a 4401.
	Token       string
	TokenSource TokenSource
	// LastEventID resumes after this id (or `{epoch}-0`), e.g. saved from LastEventID() by a
	// previous run.
	LastEventID string

	Backoff          Backoff
	HandshakeTimeout time.Duration // open + ready; default 10 s
	RefreshBefore    time.Duration // refresh this long before `exp`; default 60 s

	// Conflate lets the server conflate gauge events (queue.depth-changed,
	// agent.status-changed) while the client lags: it then gets the newest value of each gauge
	// topic instead of every intermediate one (docs/protocol.md section 7.1).
	Conflate bool

	HTTPClient *http.Client // for the WebSocket handshake; default http.DefaultClient
	Header     http.Header  // extra handshake headers

	// Hooks, called one at a time in the order things happened, on the client's dispatch
	// goroutine (never concurrently with each other or with event handlers). A hook must not
	// block for long: events wait behind it.
	OnState              func(StateChange)
	OnReconnect          func(lastEventID string)           // live again; resume is under way
	OnReset              func(Reset)                        // the server could not resume: events were missed
	OnOverflow           func(lastID string)                // dropped for lagging; reconnecting to resume
	OnError              func(error)                        // *Error, and last of all the *CloseError
	OnRevoked            func(pattern, reason string)       // the server removed a pattern
	OnSubscriptionFailed func(pattern string, err error)    // the server refused a pattern
	OnTokenExpiring      func()                             // the server warned; a refresh is under way
	OnSnapshot           func(sub *Subscription, count int) // a Snapshot subscription's snapshot is complete (again after a reset)
}

// State is the client's connection state.
type State string

const (
	StateIdle           State = "idle"
	StateFetchingToken  State = "fetching_token"
	StateConnecting     State = "connecting"
	StateAuthenticating State = "authenticating"
	StateLive           State = "live"
	StateReconnecting   State = "reconnecting"
	StateClosed         State = "closed"
)

// StateChange is one transition; Code is the close code that caused it (0 if none).
type StateChange struct {
	From, To State
	Code     int
	Reason   string
}

// Latency is the delivery delay of live events (replayed and snapshot events left out) over the
// last 1,000: Count events in that window, their P50 and P99 (0 while Count is 0), and the
// ClockOffset (server clock minus local clock) the delays rest on.
type Latency struct {
	Count       int
	P50, P99    time.Duration
	ClockOffset time.Duration
}

// Reset is the server's word that it could not resume (retention_exceeded, epoch_changed,
// future_id): events were missed, reload your view.
type Reset struct {
	Reason  string
	Message string
}
