// Package globemeet is the Go client of GlobeMeet Events: live contact-center events
// (sessions, queues, agents, recordings, QA) over one WebSocket, with the wire protocol of
// docs/protocol.md in the repository.
//
// A Client keeps one connection open, subscribes to topic patterns, reconnects with
// full-jitter backoff, resumes after the last event it delivered (no loss, no duplicate),
// refreshes its token before it expires, and tells you when the server could not resume.
//
//	c, err := globemeet.Dial(ctx, globemeet.Options{
//		Endpoint:    "wss://host/v1/events",
//		TokenSource: globemeet.TokenSourceFromCredentials(creds), // or Token: "jwt"
//	})
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	globemeet.Subscribe(c, "queue.support.depth-changed", func(e globemeet.Event[globemeet.QueueDepthChanged]) {
//		updateDashboard(e.Data.Depth, e.Data.LongestWaitSeconds)
//	})
//	c.Subscribe("session.>", func(e globemeet.AnyEvent) { /* switch on e.Type */ })
//
// # Delivery
//
// Handlers and hooks run one at a time on one goroutine per client, in the server's order.
// A slow handler slows reading from the socket; if it falls more than the server's lag limit
// behind, the server drops the connection (OnOverflow) and the client resumes. Each event
// reaches each handler once, even across reconnects.
//
// # Errors
//
// Errors are values: *Error carries a protocol code (errors.Is(err, ErrInvalidTopic)),
// *CloseError the close code that ended a client (Client.Err, the last OnError), *HTTPError
// a refusal of the HTTP API. Nothing panics on bad input from the server or the caller.
//
// # Design
//
// The decisions are made by a sans-I/O state machine (internal/core), a port of the C++ core
// that the native and npm clients share, held to the same shared test vectors and the same
// conformance suite (tests/conformance). The Client only performs its actions with
// github.com/coder/websocket, goroutines and timers; Close stops all of them.
package globemeet
