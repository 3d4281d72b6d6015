package globemeet

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/globemeet/globemeet-events/go/internal/core"
)

// The dispatcher calls every handler and hook on one goroutine, in the order the session
// produced them, so user code never runs concurrently with itself and never under the
// client's lock (a handler may call Subscribe, Unsubscribe or Close).
//
// Backpressure: the reader of a connection waits while more than maxQueued callbacks are
// pending, so a slow handler slows the reading of the socket and the server, not the
// client's memory, absorbs the lag (it sends `overflow` and the client resumes).

const maxQueued = 1024

type item struct {
	fn       func()
	sub      *subscription
	ev       *core.Event
	delayMS  int64
	hasDelay bool
}

type dispatcher struct {
	mu      sync.Mutex
	cond    *sync.Cond
	q       []item
	head    int
	stopped bool
	goid    atomic.Uint64
	exited  chan struct{}

	// The resume position of what handlers have seen, while events wait in the queue: the id
	// of the last event handed over, or before any, the position before the first queued one.
	queued     int
	mark       string
	markPrev   core.EventID
	markPrevOK bool
}

// pushEvent queues one event for its subscriptions.
func (d *dispatcher) pushEvent(subs []*subscription, ev *core.Event, prev core.EventID, hasPrev bool, delayMS int64, hasDelay bool) {
	d.mu.Lock()
	if d.queued == 0 {
		d.mark, d.markPrev, d.markPrevOK = "", prev, hasPrev
	}
	for _, sub := range subs {
		d.q = append(d.q, item{sub: sub, ev: ev, delayMS: delayMS, hasDelay: hasDelay})
		d.queued++
	}
	d.mu.Unlock()
	d.cond.Broadcast()
}

// position is the resume position of what handlers have seen, if events are queued.
func (d *dispatcher) position() (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.queued == 0:
		return "", false
	case d.mark != "":
		return d.mark, true
	case d.markPrevOK:
		return d.markPrev.String(), true
	}
	return "", true
}

func newDispatcher() *dispatcher {
	d := &dispatcher{exited: make(chan struct{})}
	d.cond = sync.NewCond(&d.mu)
	return d
}

func (d *dispatcher) push(it item) {
	d.mu.Lock()
	d.q = append(d.q, it)
	d.mu.Unlock()
	d.cond.Broadcast()
}

// wait blocks a reader while the queue is long; it returns at once once stopped.
func (d *dispatcher) wait() {
	d.mu.Lock()
	for len(d.q)-d.head > maxQueued && !d.stopped {
		d.cond.Wait()
	}
	d.mu.Unlock()
}

// stop: run what is queued, then exit.
func (d *dispatcher) stop() {
	d.mu.Lock()
	d.stopped = true
	d.mu.Unlock()
	d.cond.Broadcast()
}

func (d *dispatcher) run() {
	d.goid.Store(goroutineID())
	defer close(d.exited)
	d.mu.Lock()
	for {
		for d.head == len(d.q) && !d.stopped {
			d.cond.Wait()
		}
		if d.head == len(d.q) {
			d.mu.Unlock()
			return
		}
		it := d.q[d.head]
		d.q[d.head] = item{}
		d.head++
		if d.head == len(d.q) {
			d.q, d.head = d.q[:0], 0
		}
		d.mu.Unlock()
		d.cond.Broadcast() // a waiting reader may go on
		call(it)
		d.mu.Lock()
		if it.sub != nil {
			d.queued--
			if !it.ev.Snapshot { // a snapshot event is older than the position: never the last id
				d.mark = it.ev.ID
			}
		}
	}
}

// call runs one callback. A panic in a handler is the handler's bug and is not recovered:
// hiding it would leave the application running without its events.
func call(it item) {
	if it.sub != nil {
		it.sub.deliver(it.ev, delivery{delay: time.Duration(it.delayMS) * time.Millisecond, hasDelay: it.hasDelay})
		return
	}
	it.fn()
}

func (d *dispatcher) isDispatcherGoroutine() bool { return goroutineID() == d.goid.Load() }

// goroutineID reads the current goroutine's number from its stack header. Used only by Close,
// to tell whether it was called from a handler (then it cannot wait for the dispatcher,
// which is busy running that very handler).
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
