package globemeet

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/globemeet/globemeet-events/go/internal/core"
)

// Subscription is one pattern subscribed by one handler (or channel). It outlives
// connections: after a reconnect it is renewed and resumed. It ends by Unsubscribe, by the
// server refusing or revoking its pattern, or by Close; Done is closed then and Err says why.
type Subscription struct {
	// C receives the events of a subscription made with SubscribeChan; nil otherwise. It is
	// closed when the subscription ends. An event waits until it is received: a reader that
	// falls behind slows the client (and eventually the server drops it with `overflow`,
	// and it resumes), it never loses an event.
	C <-chan AnyEvent

	c           *Client
	handle      uint64
	pattern     string
	done        chan struct{}
	subscribed  chan struct{}
	snapshotted chan struct{}
	snapCount   atomic.Int64
	err         error
	errOnce     sync.Once
}

// SubscribeOption changes how Subscribe, the generic Subscribe and SubscribeChan subscribe.
type SubscribeOption func(*subscribeOptions)

type subscribeOptions struct{ snapshot bool }

// Snapshot asks for the current state first: the handler gets the latest event of every
// topic the pattern matches (Event.Snapshot true), then the live events, with no gap and no
// duplicate between them (docs/protocol.md section 5.3). The snapshot comes again after a
// `reset`, so a view can be rebuilt from it; Subscription.Snapshotted tells when it is complete.
func Snapshot() SubscribeOption { return func(o *subscribeOptions) { o.snapshot = true } }

// delivery is what the session says about one event besides the event itself.
type delivery struct {
	delay    time.Duration
	hasDelay bool
}

// subscription is the client's side of a Subscription: how to hand it an event.
type subscription struct {
	pattern     string
	active      atomic.Bool
	deliver     func(*core.Event, delivery)
	end         func(error) // runs once, on the dispatcher
	confirm     func()
	snapshotted func(count int)
	public      *Subscription
	quit        chan struct{} // closed at once by Unsubscribe or Close: a blocked channel send gives up
	quitOne     sync.Once
}

func (s *subscription) stop() { s.quitOne.Do(func() { close(s.quit) }) }

// Subscribed is closed once the server has applied the pattern (its first `subscribed`):
// from then on, events published are delivered. The subscription is renewed on every
// reconnect without further notice.
func (s *Subscription) Subscribed() <-chan struct{} { return s.subscribed }

// Snapshotted is closed once the snapshot of a subscription made with the Snapshot option is
// complete (its snapshot events have been handed to the handler); SnapshotCount says how many
// came. It is never closed for a subscription made without Snapshot.
func (s *Subscription) Snapshotted() <-chan struct{} { return s.snapshotted }

// SnapshotCount is the number of events of the last complete snapshot (-1 before the first).
func (s *Subscription) SnapshotCount() int { return int(s.snapCount.Load()) }

// Pattern is the subscribed pattern.
func (s *Subscription) Pattern() string { return s.pattern }

// Done is closed when the subscription has ended.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err is nil while the subscription runs and after Unsubscribe; the server's refusal
// (forbidden_topic, too_many_subscriptions, permission_revoked) or ErrClosed otherwise.
func (s *Subscription) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Unsubscribe ends the subscription; no event reaches its handler once it returns (unless it
// is called from another handler while this one's event is already being delivered).
func (s *Subscription) Unsubscribe() {
	c := s.c
	c.mu.Lock()
	sub := c.subs[s.handle]
	if sub == nil {
		c.mu.Unlock()
		return
	}
	delete(c.subs, s.handle)
	sub.active.Store(false)
	sub.stop()
	if !c.closing {
		c.s.Unsubscribe(c.tick(), s.handle)
		c.perform()
	}
	c.d.push(item{fn: func() { sub.end(nil) }})
	c.mu.Unlock()
}

func toAny(ev *core.Event, d delivery) AnyEvent {
	return AnyEvent{ID: ev.ID, Type: ev.Type, Topic: ev.Topic, Subject: ev.Subject, Source: ev.Source,
		Time: ev.Time, Tenant: ev.Tenant, Data: json.RawMessage(ev.Data), Snapshot: ev.Snapshot, Delay: d.delay, HasDelay: d.hasDelay}
}

// subscribe registers a pattern with the session. A malformed pattern is refused at once with
// an *Error `invalid_topic` (errors.Is(err, ErrInvalidTopic)), before anything is sent.
func (c *Client) subscribe(pattern string, opts []SubscribeOption, deliver func(*core.Event, delivery), end func(error)) (*Subscription, error) {
	return c.subscribeWith(pattern, opts, func(*subscription) func(*core.Event, delivery) { return deliver }, end)
}

func (c *Client) subscribeWith(pattern string, opts []SubscribeOption, makeDeliver func(*subscription) func(*core.Event, delivery), end func(error)) (*Subscription, error) {
	var o subscribeOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	s := &Subscription{c: c, pattern: pattern, done: make(chan struct{}), subscribed: make(chan struct{}), snapshotted: make(chan struct{})}
	s.snapCount.Store(-1)
	var confirmed, snapped sync.Once
	sub := &subscription{pattern: pattern, quit: make(chan struct{}), public: s,
		confirm: func() { confirmed.Do(func() { close(s.subscribed) }) },
		snapshotted: func(count int) {
			s.snapCount.Store(int64(count))
			snapped.Do(func() { close(s.snapshotted) })
		}}
	sub.active.Store(true)
	deliver := makeDeliver(sub)
	sub.deliver = func(ev *core.Event, d delivery) {
		if sub.active.Load() {
			deliver(ev, d)
		}
	}
	var once sync.Once
	sub.end = func(err error) {
		once.Do(func() {
			sub.active.Store(false)
			s.err = err
			if end != nil {
				end(err)
			}
			close(s.done)
		})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return nil, ErrClosed
	}
	h, perr := c.s.Subscribe(c.tick(), pattern, o.snapshot)
	if perr != nil {
		return nil, &Error{Code: perr.Code, Message: perr.Message, Pattern: pattern}
	}
	s.handle = h
	c.subs[h] = sub
	c.perform()
	return s, nil
}

// Subscribe calls handler for every event whose topic matches pattern (`*` one segment, a
// final `>` the rest: `queue.*.depth-changed`, `agent.a-17.*`, `session.>`, `>`), each event
// once, in the server's order, across reconnects. Data is the raw JSON object. Options:
// Snapshot (the current state first).
func (c *Client) Subscribe(pattern string, handler func(AnyEvent), opts ...SubscribeOption) (*Subscription, error) {
	if handler == nil {
		return nil, &Error{Code: "bad_config", Message: "handler is nil"}
	}
	return c.subscribe(pattern, opts, func(ev *core.Event, d delivery) { handler(toAny(ev, d)) }, nil)
}

// Subscribe calls handler with each matching event's data decoded into T, usually the
// catalogue struct of the pattern's event type:
//
//	globemeet.Subscribe(c, "queue.support.depth-changed", func(e globemeet.Event[globemeet.QueueDepthChanged]) {...})
//
// An event whose data does not decode into T is not passed to handler; OnError gets an
// *Error `bad_data` naming it.
func Subscribe[T any](c *Client, pattern string, handler func(Event[T]), opts ...SubscribeOption) (*Subscription, error) {
	if c == nil || handler == nil {
		return nil, &Error{Code: "bad_config", Message: "client or handler is nil"}
	}
	return c.subscribe(pattern, opts, func(ev *core.Event, dl delivery) {
		var data T
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			c.mu.Lock()
			f := c.opts.OnError
			c.mu.Unlock()
			if f != nil {
				f(&Error{Code: "bad_data", Message: "event " + ev.ID + " (" + ev.Type + "): " + err.Error(), Pattern: pattern})
			}
			return
		}
		handler(Event[T]{ID: ev.ID, Type: ev.Type, Topic: ev.Topic, Subject: ev.Subject, Source: ev.Source,
			Time: ev.Time, Tenant: ev.Tenant, Data: data, Snapshot: ev.Snapshot, Delay: dl.delay, HasDelay: dl.hasDelay})
	}, nil)
}

// SubscribeChan is Subscribe with a channel: range over sub.C. buffer is the channel's
// capacity.
func (c *Client) SubscribeChan(pattern string, buffer int, opts ...SubscribeOption) (*Subscription, error) {
	if buffer < 0 {
		buffer = 0
	}
	ch := make(chan AnyEvent, buffer)
	s, err := c.subscribeWith(pattern, opts, func(sub *subscription) func(*core.Event, delivery) {
		return func(ev *core.Event, d delivery) {
			select {
			case ch <- toAny(ev, d):
			case <-sub.quit: // unsubscribed or closing: nobody may be reading any more
			}
		}
	}, func(error) { close(ch) })
	if err != nil {
		return nil, err
	}
	s.C = ch
	return s, nil
}
