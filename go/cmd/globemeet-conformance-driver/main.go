// Command globemeet-conformance-driver runs the Go client under the conformance suite
// (tests/conformance/README.md, driver protocol version 1): commands as JSON lines on stdin,
// observations as JSON lines on stdout. It maps commands to library calls and hooks to
// observations, nothing more.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	globemeet "github.com/globemeet/globemeet-events/go"
)

type command struct {
	Cmd       string `json:"cmd"`
	Endpoint  string `json:"endpoint"`
	Token     *string
	Subscribe []struct {
		Sub, Pattern string
		Snapshot     bool
	}
	LastEventID *string `json:"last_event_id"`
	Options     struct {
		BackoffBaseMS      *int64 `json:"backoff_base_ms"`
		BackoffMaxMS       *int64 `json:"backoff_max_ms"`
		HandshakeTimeoutMS *int64 `json:"handshake_timeout_ms"`
		RefreshBeforeMS    *int64 `json:"refresh_before_ms"`
		Conflate           bool   `json:"conflate"`
	}
	Sub      string
	Pattern  string
	Snapshot bool
	Message  string
}

type tokenAnswer struct {
	token string
	err   error
}

type driver struct {
	outMu  sync.Mutex
	client *globemeet.Client
	subsMu sync.Mutex
	subs   map[string]*globemeet.Subscription // sub name -> subscription
	names  map[*globemeet.Subscription]string
	tokens chan tokenAnswer
	asked  chan struct{} // one value while a token request is pending
}

func (d *driver) out(obs map[string]any) {
	b, _ := json.Marshal(obs)
	d.outMu.Lock()
	os.Stdout.Write(append(b, '\n'))
	d.outMu.Unlock()
}

// subsFor names every harness sub with this pattern that has ended with an error.
func (d *driver) subsFor(pattern string) []string {
	d.subsMu.Lock()
	defer d.subsMu.Unlock()
	var names []string
	for name, s := range d.subs {
		if s.Pattern() == pattern {
			names = append(names, name)
		}
	}
	return names
}

func ms(v *int64) time.Duration { return time.Duration(*v) * time.Millisecond }

func (d *driver) connect(cmd command) {
	opts := globemeet.Options{Endpoint: cmd.Endpoint}
	if cmd.Token != nil {
		opts.Token = *cmd.Token
	} else {
		opts.TokenSource = func(ctx context.Context, reason globemeet.TokenReason) (string, error) {
			d.asked <- struct{}{}
			d.out(map[string]any{"obs": "token_request", "reason": string(reason)})
			select {
			case a := <-d.tokens:
				return a.token, a.err
			case <-ctx.Done():
				select {
				case <-d.asked:
				default:
				}
				return "", ctx.Err()
			}
		}
	}
	if cmd.LastEventID != nil {
		opts.LastEventID = *cmd.LastEventID
	}
	o := cmd.Options
	if o.BackoffBaseMS != nil {
		opts.Backoff.Min = ms(o.BackoffBaseMS)
	}
	if o.BackoffMaxMS != nil {
		opts.Backoff.Max = ms(o.BackoffMaxMS)
	}
	if o.HandshakeTimeoutMS != nil {
		opts.HandshakeTimeout = ms(o.HandshakeTimeoutMS)
	}
	if o.RefreshBeforeMS != nil {
		opts.RefreshBefore = ms(o.RefreshBeforeMS)
	}
	opts.OnState = func(s globemeet.StateChange) {
		d.out(map[string]any{"obs": "state", "from": s.From, "to": s.To, "code": s.Code})
	}
	opts.OnReconnect = func(string) { d.out(map[string]any{"obs": "reconnect"}) }
	opts.OnReset = func(r globemeet.Reset) { d.out(map[string]any{"obs": "reset", "reason": r.Reason}) }
	opts.OnOverflow = func(last string) { d.out(map[string]any{"obs": "overflow", "last_id": last}) }
	opts.OnError = func(err error) {
		var ce *globemeet.CloseError
		var e *globemeet.Error
		switch {
		case errors.As(err, &ce):
			d.out(map[string]any{"obs": "error", "code": "closed", "close_code": ce.Code, "reason": ce.Reason})
		case errors.As(err, &e):
			d.out(map[string]any{"obs": "error", "code": e.Code, "close_code": 0, "message": e.Message})
		default:
			d.out(map[string]any{"obs": "error", "code": "unknown", "close_code": 0, "message": err.Error()})
		}
	}
	opts.OnSubscriptionFailed = func(pattern string, err error) {
		var e *globemeet.Error
		code := "unknown"
		if errors.As(err, &e) {
			code = e.Code
		}
		for _, name := range d.subsFor(pattern) {
			d.out(map[string]any{"obs": "subscription_failed", "sub": name, "code": code})
		}
	}
	opts.OnRevoked = func(pattern, _ string) {
		for _, name := range d.subsFor(pattern) {
			d.out(map[string]any{"obs": "revoked", "sub": name})
		}
	}
	opts.OnTokenExpiring = func() { d.out(map[string]any{"obs": "token_expiring"}) }
	opts.Conflate = o.Conflate
	opts.OnSnapshot = func(s *globemeet.Subscription, count int) {
		d.subsMu.Lock()
		name, ok := d.names[s]
		d.subsMu.Unlock()
		if ok {
			d.out(map[string]any{"obs": "snapshotted", "sub": name, "count": count})
		}
	}
	c, err := globemeet.New(opts)
	if err != nil {
		d.out(map[string]any{"obs": "driver_error", "message": err.Error()})
		return
	}
	d.client = c
	for _, s := range cmd.Subscribe {
		d.subscribe(s.Sub, s.Pattern, s.Snapshot)
	}
	c.Start()
}

func (d *driver) subscribe(name, pattern string, snapshot bool) {
	if d.client == nil {
		d.out(map[string]any{"obs": "driver_error", "message": "subscribe before connect"})
		return
	}
	var opts []globemeet.SubscribeOption
	if snapshot {
		opts = append(opts, globemeet.Snapshot())
	}
	// Registered under the lock, so a hook that runs before Subscribe returns finds the name.
	d.subsMu.Lock()
	defer d.subsMu.Unlock()
	s, err := d.client.Subscribe(pattern, func(e globemeet.AnyEvent) {
		var delay any
		if e.HasDelay {
			delay = e.Delay.Milliseconds()
		}
		d.out(map[string]any{"obs": "event", "sub": name, "id": e.ID, "topic": e.Topic, "type": e.Type,
			"snapshot": e.Snapshot, "delay_ms": delay})
	}, opts...)
	if err != nil {
		var e *globemeet.Error
		code := "exception"
		if errors.As(err, &e) {
			code = e.Code
		}
		d.out(map[string]any{"obs": "subscribe_error", "sub": name, "code": code, "message": err.Error()})
		return
	}
	d.subs[name] = s
	d.names[s] = name
}

func (d *driver) answer(a tokenAnswer) {
	select {
	case <-d.asked:
		d.tokens <- a
	default:
		d.out(map[string]any{"obs": "driver_error", "message": "no token request is pending"})
	}
}

func (d *driver) handle(cmd command) bool {
	switch cmd.Cmd {
	case "connect":
		d.connect(cmd)
	case "subscribe":
		d.subscribe(cmd.Sub, cmd.Pattern, cmd.Snapshot)
	case "unsubscribe":
		d.subsMu.Lock()
		s := d.subs[cmd.Sub]
		delete(d.subs, cmd.Sub)
		d.subsMu.Unlock()
		if s != nil {
			s.Unsubscribe()
		}
	case "token":
		d.answer(tokenAnswer{token: derefOr(cmd.Token)})
	case "token_error":
		msg := cmd.Message
		if msg == "" {
			msg = "refused by the harness"
		}
		d.answer(tokenAnswer{err: errors.New(msg)})
	case "last_event_id":
		var id any
		if d.client != nil {
			if s := d.client.LastEventID(); s != "" {
				id = s
			}
		}
		d.out(map[string]any{"obs": "last_event_id", "id": id})
	case "latency":
		if d.client != nil {
			l := d.client.Latency()
			d.out(map[string]any{"obs": "latency", "count": l.Count, "p50_ms": l.P50.Milliseconds(),
				"p99_ms": l.P99.Milliseconds(), "clock_offset_ms": l.ClockOffset.Milliseconds()})
		}
	case "close":
		code := 0
		if d.client != nil {
			d.client.Close()
			code = d.client.FinalCode()
		}
		d.out(map[string]any{"obs": "closed", "code": code})
	case "exit":
		if d.client != nil {
			d.client.Close()
		}
		return false
	default:
		d.out(map[string]any{"obs": "driver_error", "message": fmt.Sprintf("unknown command %q", cmd.Cmd)})
	}
	return true
}

func derefOr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func main() {
	d := &driver{subs: map[string]*globemeet.Subscription{}, names: map[*globemeet.Subscription]string{},
		tokens: make(chan tokenAnswer, 1), asked: make(chan struct{}, 1)}
	d.out(map[string]any{"obs": "hello", "client": "go", "auth": "header"})
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	for in.Scan() {
		line := in.Bytes()
		if len(line) == 0 {
			continue
		}
		var cmd command
		if err := json.Unmarshal(line, &cmd); err != nil {
			d.out(map[string]any{"obs": "driver_error", "message": "unparsable command: " + err.Error()})
			continue
		}
		if !d.handle(cmd) {
			break
		}
	}
	if d.client != nil {
		d.client.Close()
	}
	os.Exit(0)
}
