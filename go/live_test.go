package globemeet_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	globemeet "github.com/globemeet/globemeet-events/go"
	"github.com/globemeet/globemeet-events/go/internal/testserver"
)

// Live tests against the real globemeet-server (testserver). Each starts its own server and
// checks at the end, with goleak, that Close left no goroutine behind. Waits are bounded by
// generous deadlines that only turn a hang into a failure; nothing asserts how fast.

const patience = 60 * time.Second

func startServer(t *testing.T, args ...string) *testserver.Server {
	t.Helper()
	s, err := testserver.Start(args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// checkNoLeaks runs last (registered first): after the client's Close and the server's Stop.
func checkNoLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// recorder collects the ids delivered to one handler and what the hooks said.
type recorder struct {
	mu         sync.Mutex
	ids        []string
	reconnects int
	overflows  int
	resets     []string
	errs       []error
	changed    chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) poke() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) hooks(o *globemeet.Options) {
	o.OnReconnect = func(string) { r.mu.Lock(); r.reconnects++; r.mu.Unlock(); r.poke() }
	o.OnOverflow = func(string) { r.mu.Lock(); r.overflows++; r.mu.Unlock(); r.poke() }
	o.OnReset = func(x globemeet.Reset) { r.mu.Lock(); r.resets = append(r.resets, x.Reason); r.mu.Unlock() }
	o.OnError = func(err error) { r.mu.Lock(); r.errs = append(r.errs, err); r.mu.Unlock(); r.poke() }
}

func (r *recorder) event(e globemeet.AnyEvent) {
	r.mu.Lock()
	r.ids = append(r.ids, e.ID)
	r.mu.Unlock()
	r.poke()
}

// waitFor polls cond whenever the recorder changes, up to patience.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(patience)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("gave up waiting for %s: %d events, %d reconnects, %d overflows, errors %v", what, len(r.ids), r.reconnects, r.overflows, r.errs)
		}
	}
}

// publishN publishes n queue.*.depth-changed events in batches and returns their ids.
func publishN(t *testing.T, s *testserver.Server, n, batch int) []string {
	return publishPadded(t, s, n, batch, "")
}

// publishPadded adds an extra data field of pad (extra fields pass through to subscribers).
func publishPadded(t *testing.T, s *testserver.Server, n, batch int, pad string) []string {
	t.Helper()
	var ids []string
	token := s.Mint(nil)
	for len(ids) < n {
		k := min(batch, n-len(ids))
		events := make([]globemeet.PublishEvent, k)
		for i := range events {
			events[i] = globemeet.PublishEvent{Type: "queue.depth-changed", Subject: "support",
				Data: map[string]any{"queue_id": "support", "depth": len(ids) + i, "longest_wait_seconds": 1, "note": pad}}
		}
		got, err := globemeet.Publish(context.Background(), s.HTTPURL(), token, events...)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got...)
	}
	return ids
}

// sameIDs says whether every published event arrived once, in order.
func sameIDs(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d: got %s, want %s", i, got[i], want[i])
		}
	}
}

func dial(t *testing.T, opts globemeet.Options) *globemeet.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	c, err := globemeet.Dial(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Cuts through a proxy while events are published: each arrives once, in order.
func TestLiveCutsUnderLoad(t *testing.T) {
	checkNoLeaks(t)
	s := startServer(t)
	proxy, err := testserver.NewProxy(fmt.Sprintf("127.0.0.1:%d", s.Port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	r := newRecorder()
	opts := globemeet.Options{Endpoint: proxy.WSURL(), Token: s.Mint(nil), Backoff: globemeet.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}}
	r.hooks(&opts)
	c := dial(t, opts)
	if _, err := c.Subscribe("queue.*.depth-changed", r.event); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "the subscription", func() bool { return c.LastEventID() != "" })

	const total = 3000
	var want []string
	done := make(chan struct{})
	cuts := 0
	go func() {
		defer close(done)
		want = publishN(t, s, total, 10)
	}()
	// Cut every few milliseconds while the publisher runs.
cutting:
	for {
		select {
		case <-done:
			break cutting
		case <-time.After(20 * time.Millisecond):
			cuts += proxy.Cut()
		}
	}
	r.waitFor(t, "every event", func() bool { return len(r.ids) >= total })
	r.mu.Lock()
	defer r.mu.Unlock()
	sameIDs(t, r.ids, want)
	if cuts == 0 || r.reconnects == 0 {
		t.Fatalf("the test cut nothing (cuts %d, reconnects %d)", cuts, r.reconnects)
	}
	if len(r.resets) != 0 {
		t.Fatalf("resets: %v", r.resets)
	}
	t.Logf("%d events through %d cuts, %d reconnects", total, cuts, r.reconnects)
}

// A server killed and restarted on its durable log: the client resumes without loss.
func TestLiveRestart(t *testing.T) {
	checkNoLeaks(t)
	s := startServer(t)
	s.Kill()
	s.Args = []string{"--data-dir", filepath.Join(s.Dir, "data")}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	opts := globemeet.Options{Endpoint: s.WSURL(), Token: s.Mint(nil), Backoff: globemeet.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond}}
	r.hooks(&opts)
	c := dial(t, opts)
	c.Subscribe(">", r.event)
	r.waitFor(t, "the subscription", func() bool { return c.LastEventID() != "" })
	want := publishN(t, s, 100, 100)
	r.waitFor(t, "the first events", func() bool { return len(r.ids) == 100 })
	s.Kill()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "the reconnect", func() bool { return r.reconnects > 0 })
	want = append(want, publishN(t, s, 100, 100)...)
	r.waitFor(t, "every event", func() bool { return len(r.ids) >= 200 })
	r.mu.Lock()
	defer r.mu.Unlock()
	sameIDs(t, r.ids, want)
	if len(r.resets) != 0 {
		t.Fatalf("resets after a restart on a durable log: %v", r.resets)
	}
}

// Tokens that live 4 s: the client refreshes them on the live connection (halfway to each
// expiry), which the server would otherwise close with 4001 2 s after the first expiry.
// The tokens are minted with the server's secret: the OAuth endpoint's deliberately slow
// secret check would make the test depend on the machine's load.
func TestLiveRefresh(t *testing.T) {
	checkNoLeaks(t)
	s := startServer(t, "--token-grace-ms", "2000")
	var mu sync.Mutex
	var reasons []globemeet.TokenReason
	fetch := func(context.Context, globemeet.TokenReason) (string, error) {
		return s.Mint(map[string]any{"exp": time.Now().Unix() + 4}), nil
	}
	r := newRecorder()
	opts := globemeet.Options{Endpoint: s.WSURL(), TokenSource: func(ctx context.Context, reason globemeet.TokenReason) (string, error) {
		mu.Lock()
		reasons = append(reasons, reason)
		mu.Unlock()
		r.poke()
		return fetch(ctx, reason)
	}}
	r.hooks(&opts)
	c := dial(t, opts)
	c.Subscribe(">", r.event)
	// Five tokens are four refreshes, about 8 s: the first token's expiry and grace have passed.
	r.waitFor(t, "four refreshes", func() bool { mu.Lock(); defer mu.Unlock(); return len(reasons) >= 5 })
	want := publishN(t, s, 10, 10)
	r.waitFor(t, "events after the refreshes", func() bool { return len(r.ids) == 10 })
	r.mu.Lock()
	defer r.mu.Unlock()
	sameIDs(t, r.ids, want)
	if r.reconnects != 0 {
		t.Fatalf("the connection was replaced %d times; errors %v", r.reconnects, r.errs)
	}
	mu.Lock()
	defer mu.Unlock()
	if reasons[0] != globemeet.ReasonConnect {
		t.Fatalf("first reason %s", reasons[0])
	}
	for _, reason := range reasons[1:] {
		if reason != globemeet.ReasonRefresh && reason != globemeet.ReasonExpiring {
			t.Fatalf("reasons %v", reasons)
		}
	}
}

// A handler that stalls: the server drops the client with `overflow` (4000); it resumes and
// every event still arrives once, in order.
func TestLiveOverflowResume(t *testing.T) {
	checkNoLeaks(t)
	s := startServer(t, "--overflow-lag-ms", "200", "--max-queue-bytes", "65536")
	r := newRecorder()
	opts := globemeet.Options{Endpoint: s.WSURL(), Token: s.Mint(nil), Backoff: globemeet.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}}
	r.hooks(&opts)
	c := dial(t, opts)
	release := make(chan struct{})
	first := true // handlers run one at a time: no lock needed
	c.Subscribe(">", func(e globemeet.AnyEvent) {
		r.event(e)
		if first {
			first = false
			<-release // the first event blocks the client until the server gave up on it
		}
	})
	r.waitFor(t, "the subscription", func() bool { return c.LastEventID() != "" })
	// 5000 events of 2 KB: more than the socket buffers and the client's queue hold.
	const total = 5000
	want := publishPadded(t, s, total, 250, strings.Repeat("x", 2000))
	// The client learns that the server gave up on it only once the handler returns: release
	// it when the server's counter says so.
	deadline := time.Now().Add(patience)
	for n, _ := s.Metric("globemeet_overflow_closes_total"); n == 0; n, _ = s.Metric("globemeet_overflow_closes_total") {
		if time.Now().After(deadline) {
			close(release)
			t.Fatal("the server never dropped the stalled client")
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(release)
	r.waitFor(t, "every event", func() bool { return len(r.ids) >= total })
	r.mu.Lock()
	defer r.mu.Unlock()
	sameIDs(t, r.ids, want)
	// The server drops a client that lags: with `overflow` and 4000 when it can still write
	// them, else by closing the socket (the client then sees 1006). Either way it resumed.
	if r.reconnects == 0 {
		t.Fatalf("the server never dropped the stalled client (overflows %d)", r.overflows)
	}
	t.Logf("%d overflow notices, %d reconnects", r.overflows, r.reconnects)
}

// LastEventID counts only events whose handlers have returned, so a saved position never
// skips an event that was received but not yet handled.
func TestLiveLastEventIDWaitsForHandlers(t *testing.T) {
	checkNoLeaks(t)
	s := startServer(t)
	c := dial(t, globemeet.Options{Endpoint: s.WSURL(), Token: s.Mint(nil)})
	entered, release := make(chan string), make(chan struct{})
	handled := make(chan string, 3)
	first := true // handlers run one at a time
	c.Subscribe(">", func(e globemeet.AnyEvent) {
		if first {
			first = false
			entered <- e.ID
			<-release
		}
		handled <- e.ID
	})
	deadline := time.Now().Add(patience)
	for c.LastEventID() == "" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	head := c.LastEventID()
	ids := publishN(t, s, 3, 3)
	<-entered
	// The client has received the first event (perhaps all three), but no handler returned.
	if got := c.LastEventID(); got != head {
		t.Fatalf("LastEventID %s while the first handler still runs (head %s)", got, head)
	}
	close(release)
	for range ids {
		<-handled
	}
	if got := c.LastEventID(); got != ids[2] {
		t.Fatalf("LastEventID %s after every handler returned, want %s", got, ids[2])
	}
}

// Disconnect pauses; Start resumes after the last event, with what was published meanwhile.
func TestLiveDisconnectAndStart(t *testing.T) {
	checkNoLeaks(t)
	s := startServer(t)
	r := newRecorder()
	opts := globemeet.Options{Endpoint: s.WSURL(), Token: s.Mint(nil)}
	r.hooks(&opts)
	c := dial(t, opts)
	sub, _ := c.Subscribe(">", r.event)
	<-sub.Subscribed()
	want := publishN(t, s, 5, 5)
	r.waitFor(t, "the first events", func() bool { return len(r.ids) == 5 })
	c.Disconnect()
	if c.State() != globemeet.StateIdle {
		t.Fatalf("state %s after Disconnect", c.State())
	}
	want = append(want, publishN(t, s, 5, 5)...)
	c.Start()
	r.waitFor(t, "the events published while paused", func() bool { return len(r.ids) == 10 && r.reconnects == 1 })
	r.mu.Lock()
	defer r.mu.Unlock()
	sameIDs(t, r.ids, want)
}

// Many goroutines use one client at once while events flow (run with -race): subscribe,
// unsubscribe, read the position and the state, and finally Close from two at once.
func TestLiveConcurrentUse(t *testing.T) {
	checkNoLeaks(t)
	s := startServer(t)
	c := dial(t, globemeet.Options{Endpoint: s.WSURL(), Token: s.Mint(nil)})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				publishN(t, s, 20, 20)
			}
		}
	}()
	var users sync.WaitGroup
	for g := 0; g < 8; g++ {
		users.Add(1)
		go func(g int) {
			defer users.Done()
			patterns := []string{">", "queue.>", "queue.*.depth-changed", "agent.>"}
			for i := 0; i < 30; i++ {
				sub, err := c.Subscribe(patterns[(g+i)%len(patterns)], func(globemeet.AnyEvent) {})
				if err != nil {
					t.Error(err)
					return
				}
				ch, err := c.SubscribeChan("queue.support.*", 1)
				if err != nil {
					t.Error(err)
					return
				}
				_ = c.LastEventID()
				_ = c.State()
				sub.Unsubscribe()
				ch.Unsubscribe()
				for range ch.C { // closed after Unsubscribe; drains what was queued
				}
			}
		}(g)
	}
	users.Wait()
	close(stop)
	wg.Wait()
	var closers sync.WaitGroup
	for i := 0; i < 2; i++ {
		closers.Add(1)
		go func() { defer closers.Done(); c.Close() }()
	}
	closers.Wait()
	if c.State() != globemeet.StateClosed {
		t.Fatalf("state %s", c.State())
	}
}

// A final close ends the client with an error that says why: here the server restarts with a
// new signing secret, so the client's one fixed token is refused (4401).
func TestLiveFinalClose(t *testing.T) {
	checkNoLeaks(t)
	s := startServer(t)
	r := newRecorder()
	opts := globemeet.Options{Endpoint: s.WSURL(), Token: s.Mint(nil), Backoff: globemeet.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}}
	r.hooks(&opts)
	c := dial(t, opts)
	s.Kill()
	if err := os.WriteFile(filepath.Join(s.Dir, "hs256.secret"), []byte("another-secret-of-enough-length-0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(patience):
		t.Fatal("the client did not stop")
	}
	var ce *globemeet.CloseError
	if err := c.Err(); !errors.As(err, &ce) || ce.Code != 4401 || !errors.Is(err, globemeet.ErrInvalidToken) {
		t.Fatalf("Err() = %v, want a CloseError 4401", err)
	}
	r.mu.Lock()
	last := r.errs[len(r.errs)-1]
	r.mu.Unlock()
	if !errors.As(last, &ce) {
		t.Fatalf("the last error hook was %v", last)
	}
	if c.State() != globemeet.StateClosed || c.FinalCode() != 4401 {
		t.Fatalf("state %s, final code %d", c.State(), c.FinalCode())
	}

	// Dial itself says why when the first connection ends for good.
	_, err := globemeet.Dial(context.Background(), globemeet.Options{Endpoint: s.WSURL(), Token: s.Mint(nil)})
	if !errors.As(err, &ce) || ce.Code != 4401 {
		t.Fatalf("Dial with a refused token: %v", err)
	}
}
