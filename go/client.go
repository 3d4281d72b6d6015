package globemeet

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/globemeet/globemeet-events/go/internal/core"
)

// Client is one logical connection to GlobeMeet Events: it keeps one WebSocket open,
// reconnects with backoff, resumes after the last delivered event, and refreshes its token.
// Every decision is made by the sans-I/O session of internal/core; the Client only performs
// its actions (dial, send, close, timers, token calls, callbacks). Safe for concurrent use.
type Client struct {
	opts Options

	mu       sync.Mutex // guards everything below and the session
	s        *core.Session
	conns    map[uint64]*wsConn
	subs     map[uint64]*subscription
	timers   [core.NumTimers]*time.Timer
	timerGen [core.NumTimers]uint64
	closing  bool // Close was called
	err      error
	live     chan struct{} // closed at the first `live` or at `closed`
	liveDone bool
	done     chan struct{} // closed when the session is closed
	doneSet  bool

	ctx    context.Context // cancelled by Close: token calls and dials end
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine but the dispatcher
	d      *dispatcher

	deliverTo []*subscription // scratch
}

// New makes a client without connecting; Start (or Dial) connects. Subscriptions made before
// Start go out in the first `subscribe` frame.
func New(opts Options) (*Client, error) {
	if opts.Token == "" && opts.TokenSource == nil {
		return nil, &Error{Code: "bad_config", Message: "one of Token and TokenSource is required"}
	}
	u, err := url.Parse(opts.Endpoint)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss" && u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &Error{Code: "bad_config", Message: "Endpoint must be a ws:// or wss:// URL, got " + strings.TrimSpace(opts.Endpoint)}
	}
	cfg := core.DefaultConfig(opts.Endpoint)
	cfg.TokenProvider = opts.TokenSource != nil
	if b := opts.Backoff; b.Min != 0 || b.Max != 0 || b.Factor != 0 {
		if b.Min < 0 || b.Max < 0 || b.Factor < 0 {
			return nil, &Error{Code: "bad_config", Message: "Backoff fields must not be negative"}
		}
		if b.Min != 0 {
			cfg.Backoff.MinMS = b.Min.Milliseconds()
		}
		if b.Max != 0 {
			cfg.Backoff.MaxMS = b.Max.Milliseconds()
		}
		if b.Factor != 0 {
			cfg.Backoff.Factor = b.Factor
		}
	}
	if opts.HandshakeTimeout > 0 {
		cfg.HandshakeTimeout = opts.HandshakeTimeout.Milliseconds()
	}
	if opts.RefreshBefore > 0 {
		cfg.RefreshBeforeMS = opts.RefreshBefore.Milliseconds()
	}
	cfg.Conflate = opts.Conflate
	s := core.NewSession(cfg)
	if opts.LastEventID != "" && !s.SetLastEventID(opts.LastEventID) {
		return nil, &Error{Code: "invalid_event_id", Message: "LastEventID is not an event id: " + opts.LastEventID}
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{opts: opts, s: s, conns: map[uint64]*wsConn{}, subs: map[uint64]*subscription{},
		live: make(chan struct{}), done: make(chan struct{}), ctx: ctx, cancel: cancel, d: newDispatcher()}
	go c.d.run()
	return c, nil
}

// Dial makes a client, connects, and waits until it is live (or ctx ends, or it stops for
// good). The client keeps reconnecting after that on its own; call Close when done.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	c, err := New(opts)
	if err != nil {
		return nil, err
	}
	c.Start()
	select {
	case <-c.live:
		if err := c.Err(); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
}

// Start begins connecting, and after Disconnect connects again and resumes. It does nothing
// while connected and after Close.
func (c *Client) Start() {
	c.mu.Lock()
	if !c.closing {
		c.s.Start(c.tick())
		c.perform()
	}
	c.mu.Unlock()
}

// Disconnect pauses the client: the connection closes with 1000 and nothing reconnects, but
// subscriptions, the resume position and the token are kept; Start resumes where it stopped
// (OnReconnect, then the events missed meanwhile). The state is `idle` until then.
func (c *Client) Disconnect() {
	c.mu.Lock()
	if !c.closing {
		c.s.Disconnect(c.tick())
		c.perform()
	}
	c.mu.Unlock()
}

// Close closes the connection with 1000 and stops for good: no reconnect, no more events or
// hooks once it returns, and every goroutine of the client has ended (called from a handler
// or hook, it returns before that handler does; the last goroutine ends right after).
// Closing twice does nothing. It always returns nil.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		c.waitGoroutines()
		return nil
	}
	c.closing = true
	c.s.Stop(c.tick())
	c.perform()
	for k := range c.timers {
		if c.timers[k] != nil {
			c.timers[k].Stop()
		}
	}
	// Subscriptions end: channel forms are closed after any event already queued.
	for h, sub := range c.subs {
		delete(c.subs, h)
		sub.stop()
		sub.active.Store(false) // events still queued are dropped
		sub := sub
		c.d.push(item{fn: func() { sub.end(ErrClosed) }})
	}
	c.mu.Unlock()
	c.cancel()
	c.d.stop()
	c.waitGoroutines()
	return nil
}

// waitGoroutines waits for every goroutine of the client, except when called from a handler
// or hook: the dispatcher is then busy with that very call, and the other goroutines may be
// waiting for it, so they all end right after it returns.
func (c *Client) waitGoroutines() {
	if c.d.isDispatcherGoroutine() {
		return
	}
	c.wg.Wait()
	<-c.d.exited
}

// Done is closed when the client has stopped for good (Close, or a final close code), after
// the hooks that report it have run; Err then says why. A client that stopped on its own
// still has its dispatch goroutine: call Close (as always, e.g. deferred) to end it.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is nil while the client runs and after Close; after it stopped on its own it is the
// *CloseError with the close code and reason that ended it.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// State is the current connection state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return State(c.s.State().String())
}

// LastEventID is the id of the last event whose handlers have returned (before the first
// event, `{epoch}-0` from the server's first `subscribed`); "" before that. An event still
// being handled, or waiting for a busy handler, does not count, so a process that saves this
// id and crashes gets such events again. Save it and pass it as Options.LastEventID to
// resume after a restart.
func (c *Client) LastEventID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, queued := c.d.position(); queued {
		return id
	}
	id, _ := c.s.LastEventID()
	return id
}

// Latency is the delivery delay of the last 1,000 live events (p50, p99) and the estimate of
// the server's clock offset it rests on (docs/protocol.md section 7.2).
func (c *Client) Latency() Latency {
	c.mu.Lock()
	l := c.s.Latency()
	c.mu.Unlock()
	ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	return Latency{Count: int(l.Count), P50: ms(l.P50MS), P99: ms(l.P99MS), ClockOffset: ms(l.ClockOffsetMS)}
}

// FinalCode is the close code that ended the client, once closed (1000 after Close).
func (c *Client) FinalCode() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return int(c.s.FinalCode())
}

func (c *Client) tick() core.Tick {
	return core.Tick{NowMS: time.Now().UnixMilli(), Random: rand.Float64()}
}

// perform carries out the session's actions, in order. Called with c.mu held; callbacks are
// queued to the dispatcher, never called here.
func (c *Client) perform() {
	for {
		acts := c.s.TakeActions()
		if len(acts) == 0 {
			return
		}
		for i := range acts {
			c.do(&acts[i])
			acts[i] = core.Action{}
		}
	}
}

func (c *Client) do(a *core.Action) {
	switch a.Kind {
	case core.ActOpen:
		conn := newWSConn(c, a.Connection)
		c.conns[a.Connection] = conn
		c.wg.Add(1)
		go conn.run(a.URL, a.Authorization, a.LastEventID)
	case core.ActSend:
		if conn := c.conns[a.Connection]; conn != nil {
			conn.send(a.Text)
		}
	case core.ActClose:
		if conn := c.conns[a.Connection]; conn != nil {
			delete(c.conns, a.Connection)
			conn.close(int(a.Code), a.Reason)
		}
	case core.ActArmTimer:
		c.arm(a.Timer, a.AtMS)
	case core.ActCancelTimer:
		c.timerGen[a.Timer]++
		if t := c.timers[a.Timer]; t != nil {
			t.Stop()
		}
	case core.ActRequestToken:
		c.requestToken(TokenReason(a.TokenReason.String()))
	case core.ActDeliver:
		subs := c.deliverTo[:0]
		for _, h := range a.Handles {
			if sub := c.subs[h]; sub != nil {
				subs = append(subs, sub)
			}
		}
		c.d.pushEvent(subs, a.Event, a.Prev, a.HasPrev, a.DelayMS, a.HasDelay)
		clear(subs)
		c.deliverTo = subs
	case core.ActStateChanged:
		sc := StateChange{From: State(a.From.String()), To: State(a.To.String()), Code: int(a.Code), Reason: a.Reason}
		if a.To == core.StateLive || a.To == core.StateClosed {
			if !c.liveDone {
				c.liveDone = true
				close(c.live)
			}
		}
		if f := c.opts.OnState; f != nil {
			c.d.push(item{fn: func() { f(sc) }})
		}
		// Done closes after the hooks that tell why (the error, then the state) have run.
		if a.To == core.StateClosed && !c.doneSet {
			c.doneSet = true
			c.d.push(item{fn: func() { close(c.done) }})
		}
	case core.ActNotice:
		c.notice(a)
	}
}

func (c *Client) notice(a *core.Action) {
	o := &c.opts
	switch a.Notice {
	case core.NoticeReconnected:
		id, _ := c.s.LastEventID()
		if f := o.OnReconnect; f != nil {
			c.d.push(item{fn: func() { f(id) }})
		}
	case core.NoticeReset:
		r := Reset{Reason: a.Detail, Message: a.Message}
		if f := o.OnReset; f != nil {
			c.d.push(item{fn: func() { f(r) }})
		}
	case core.NoticeOverflow:
		last := a.Detail
		if f := o.OnOverflow; f != nil {
			c.d.push(item{fn: func() { f(last) }})
		}
	case core.NoticeError:
		var err error
		if a.Detail == "closed" {
			ce := &CloseError{Code: int(a.CloseCode), Reason: a.CloseReason}
			c.err = ce
			err = ce
		} else {
			err = &Error{Code: a.Detail, Message: a.Message}
		}
		if f := o.OnError; f != nil {
			c.d.push(item{fn: func() { f(err) }})
		}
	case core.NoticeSubscriptionFailed, core.NoticeRevoked:
		sub := c.subs[a.Handle]
		if sub == nil {
			return
		}
		delete(c.subs, a.Handle)
		err := &Error{Code: a.Detail, Message: a.Message, Pattern: sub.pattern}
		revoked := a.Notice == core.NoticeRevoked
		f, g := o.OnSubscriptionFailed, o.OnRevoked
		reason := a.Detail
		c.d.push(item{fn: func() {
			if revoked && g != nil {
				g(sub.pattern, reason)
			} else if !revoked && f != nil {
				f(sub.pattern, err)
			}
			sub.end(err)
		}})
	case core.NoticeTokenExpiring:
		if f := o.OnTokenExpiring; f != nil {
			c.d.push(item{fn: f})
		}
	case core.NoticeSubscribed:
		if sub := c.subs[a.Handle]; sub != nil {
			c.d.push(item{fn: sub.confirm})
		}
	case core.NoticeSnapshotted:
		sub := c.subs[a.Handle]
		if sub == nil {
			return
		}
		count, _ := strconv.Atoi(a.Detail)
		f := o.OnSnapshot
		c.d.push(item{fn: func() {
			sub.snapshotted(count)
			if f != nil {
				f(sub.public, count)
			}
		}})
	}
}

// ---- timers ------------------------------------------------------------------------------------

// arm (re)starts a timer. A generation number makes an expiry that raced with a re-arm or a
// cancel harmless: it finds another generation and does nothing.
func (c *Client) arm(k core.TimerKind, atMS int64) {
	c.timerGen[k]++
	gen := c.timerGen[k]
	if t := c.timers[k]; t != nil {
		t.Stop()
	}
	d := time.Duration(atMS-time.Now().UnixMilli()) * time.Millisecond
	c.timers[k] = time.AfterFunc(max(d, 0), func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closing || c.timerGen[k] != gen {
			return
		}
		c.s.TimerFired(c.tick(), k)
		c.perform()
	})
}

// ---- tokens ------------------------------------------------------------------------------------

func (c *Client) requestToken(reason TokenReason) {
	if c.opts.TokenSource == nil {
		// A fixed token is answered at once; the session decides whether it is still usable.
		c.s.TokenObtained(c.tick(), c.opts.Token)
		return
	}
	// The source is called once the hooks queued before this request have run, so that what a
	// source observes (a log line, a prompt) comes in order after the state change that asked.
	src := c.opts.TokenSource
	c.wg.Add(1)
	c.d.push(item{fn: func() { go c.fetchToken(src, reason) }})
}

func (c *Client) fetchToken(src TokenSource, reason TokenReason) {
	defer c.wg.Done()
	if c.ctx.Err() != nil {
		return
	}
	{
		token, err := callSource(c.ctx, src, reason)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closing {
			return
		}
		if err != nil {
			c.s.TokenFailed(c.tick(), err.Error())
		} else {
			c.s.TokenObtained(c.tick(), token)
		}
		c.perform()
	}
}

// callSource calls the user's TokenSource; a panic in it counts as a failure, not a crash.
func callSource(ctx context.Context, src TokenSource, reason TokenReason) (token string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("the token source panicked")
		}
	}()
	token, err = src(ctx, reason)
	if err == nil && token == "" {
		err = errors.New("the token source returned an empty token")
	}
	return token, err
}
