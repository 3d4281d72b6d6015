package globemeet_test

import (
	"errors"
	"fmt"
	"testing"

	globemeet "github.com/globemeet/globemeet-events/go"
)

// Errors are values: errors.Is matches by protocol code, errors.As gives the details, also
// through wrapping.
func TestErrorsIsAs(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &globemeet.Error{Code: "forbidden_topic", Message: "no", Pattern: "agent.>"})
	if !errors.Is(err, globemeet.ErrForbiddenTopic) || errors.Is(err, globemeet.ErrInvalidTopic) {
		t.Fatal("errors.Is by code")
	}
	var e *globemeet.Error
	if !errors.As(err, &e) || e.Pattern != "agent.>" {
		t.Fatal("errors.As")
	}
	var ce *globemeet.CloseError
	closeErr := fmt.Errorf("x: %w", &globemeet.CloseError{Code: 4401, Reason: "bad signature"})
	if !errors.As(closeErr, &ce) || ce.Code != 4401 || !errors.Is(closeErr, globemeet.ErrInvalidToken) {
		t.Fatal("CloseError")
	}
	httpErr := &globemeet.HTTPError{Status: 401, Code: "invalid_client"}
	if errors.Is(httpErr, globemeet.ErrInvalidToken) || !errors.Is(httpErr, &globemeet.Error{Code: "invalid_client"}) {
		t.Fatal("HTTPError")
	}
}

// Bad input from the caller is an error, never a panic.
func TestBadOptions(t *testing.T) {
	for _, o := range []globemeet.Options{
		{},
		{Endpoint: "ws://h/v1/events"},
		{Endpoint: "not a url", Token: "t"},
		{Endpoint: "ftp://h/", Token: "t"},
		{Endpoint: "ws://h/v1/events", Token: "t", LastEventID: "nope"},
		{Endpoint: "ws://h/v1/events", Token: "t", Backoff: globemeet.Backoff{Min: -1}},
	} {
		if c, err := globemeet.New(o); err == nil {
			c.Close()
			t.Errorf("New(%+v) accepted", o)
		}
	}
	c, err := globemeet.New(globemeet.Options{Endpoint: "ws://127.0.0.1:1/v1/events", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(">", nil); err == nil {
		t.Error("nil handler accepted")
	}
	if _, err := globemeet.Subscribe[globemeet.AgentBusy](nil, ">", func(globemeet.Event[globemeet.AgentBusy]) {}); err == nil {
		t.Error("nil client accepted")
	}
	c.Close()
	if _, err := c.Subscribe(">", func(globemeet.AnyEvent) {}); !errors.Is(err, globemeet.ErrClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}
	c.Close() // twice does nothing
}

// A pattern that can never match a three-segment topic name is refused before anything is sent,
// like one that breaks the grammar (docs/protocol.md section 4).
func TestSubscribeNeverMatchingPattern(t *testing.T) {
	c, err := globemeet.New(globemeet.Options{Endpoint: "ws://127.0.0.1:1/v1/events", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, pattern := range []string{"queue.support", "a.b.c.d", "a.b.c.>"} {
		_, err := c.Subscribe(pattern, func(globemeet.AnyEvent) {})
		var e *globemeet.Error
		if !errors.Is(err, globemeet.ErrInvalidTopic) || !errors.As(err, &e) || e.Pattern != pattern {
			t.Fatalf("%s: %v", pattern, err)
		}
	}
}
