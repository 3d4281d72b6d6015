package globemeet_test

import (
	"context"
	"sync"
	"testing"
	"time"

	globemeet "github.com/globemeet/globemeet-events/go"
)

// Live, against the real server: the current state on subscribe (docs/protocol.md 5.3), the
// conflate option accepted (7.1), and each event's delay and Latency (7.2).

type depthRecorder struct {
	mu     sync.Mutex
	events []globemeet.Event[globemeet.QueueDepthChanged]
}

func (r *depthRecorder) add(e globemeet.Event[globemeet.QueueDepthChanged]) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *depthRecorder) snapshot() []globemeet.Event[globemeet.QueueDepthChanged] {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]globemeet.Event[globemeet.QueueDepthChanged](nil), r.events...)
}

func publishDepth(t *testing.T, token, url, queue string, depth int) string {
	t.Helper()
	ids, err := globemeet.Publish(context.Background(), url, token, globemeet.PublishEvent{Type: "queue.depth-changed",
		Subject: queue, Data: map[string]any{"queue_id": queue, "depth": depth, "longest_wait_seconds": 0}})
	if err != nil {
		t.Fatal(err)
	}
	return ids[0]
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A Snapshot subscription gets the latest event of each matching topic first, marked, then the
// live ones; a plain subscription of the same pattern gets only the live ones; the snapshot
// does not move the resume position; live events carry a delay and enter Latency.
func TestLiveSnapshotThenLive(t *testing.T) {
	checkNoLeaks(t)
	s := startServer(t)
	token := s.Mint(nil)
	publishDepth(t, token, s.HTTPURL(), "q1", 1)
	latest1 := publishDepth(t, token, s.HTTPURL(), "q1", 2)
	latest2 := publishDepth(t, token, s.HTTPURL(), "q2", 5)

	c := dial(t, globemeet.Options{Endpoint: s.WSURL(), Token: token, Conflate: true})
	var wall, plain depthRecorder
	snapSub, err := globemeet.Subscribe(c, "queue.*.depth-changed", wall.add, globemeet.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	plainSub, err := globemeet.Subscribe(c, "queue.*.depth-changed", plain.add)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-snapSub.Snapshotted():
	case <-time.After(patience):
		t.Fatal("no snapshot")
	}
	<-plainSub.Subscribed()
	got := wall.snapshot()
	if snapSub.SnapshotCount() != 2 || len(got) != 2 || !got[0].Snapshot || !got[1].Snapshot ||
		got[0].ID != latest1 || got[1].ID != latest2 || got[0].Data.Depth != 2 || got[1].Data.Depth != 5 {
		t.Fatalf("snapshot %+v (count %d)", got, snapSub.SnapshotCount())
	}
	if id := c.LastEventID(); id != latest2 {
		t.Fatalf("position %s after the snapshot, want the head %s", id, latest2)
	}
	live := publishDepth(t, token, s.HTTPURL(), "q1", 3)
	waitUntil(t, "the live event", func() bool { return len(wall.snapshot()) == 3 && len(plain.snapshot()) == 1 })
	for _, e := range []globemeet.Event[globemeet.QueueDepthChanged]{wall.snapshot()[2], plain.snapshot()[0]} {
		if e.ID != live || e.Snapshot || !e.HasDelay {
			t.Fatalf("live event %+v", e)
		}
	}
	l := c.Latency()
	// One machine, one clock: the offset is near zero (a minute catches a unit or sign error).
	if l.Count != 1 || l.ClockOffset > time.Minute || l.ClockOffset < -time.Minute {
		t.Fatalf("latency %+v", l)
	}
}

// The client pauses; retention drops the event it had; on resume the server sends `reset` and,
// because the subscription asked for the snapshot, the current state instead of the lost events.
func TestLiveResetBringsTheSnapshot(t *testing.T) {
	checkNoLeaks(t)
	s := startServer(t, "--retention-events", "3")
	token := s.Mint(nil)
	var mu sync.Mutex
	var resets []string
	var counts []int
	c := dial(t, globemeet.Options{Endpoint: s.WSURL(), Token: token,
		OnReset:    func(r globemeet.Reset) { mu.Lock(); resets = append(resets, r.Reason); mu.Unlock() },
		OnSnapshot: func(_ *globemeet.Subscription, n int) { mu.Lock(); counts = append(counts, n); mu.Unlock() }})
	var r depthRecorder
	sub, err := globemeet.Subscribe(c, "queue.>", r.add, globemeet.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	<-sub.Snapshotted()
	first := publishDepth(t, token, s.HTTPURL(), "q1", 1)
	waitUntil(t, "the first event", func() bool { return c.LastEventID() == first })
	c.Disconnect()
	var ids []string
	for _, q := range []struct {
		queue string
		depth int
	}{{"q1", 2}, {"q2", 1}, {"q3", 1}, {"q1", 3}, {"q2", 2}} {
		ids = append(ids, publishDepth(t, token, s.HTTPURL(), q.queue, q.depth))
	}
	c.Start()
	waitUntil(t, "the second snapshot", func() bool { mu.Lock(); defer mu.Unlock(); return len(counts) == 2 })
	mu.Lock()
	if len(resets) != 1 || resets[0] != "retention_exceeded" || counts[0] != 0 || counts[1] != 3 {
		t.Fatalf("resets %v snapshots %v", resets, counts)
	}
	mu.Unlock()
	got := r.snapshot()
	want := []struct {
		id   string
		snap bool
	}{{first, false}, {ids[2], true}, {ids[3], true}, {ids[4], true}}
	if len(got) != len(want) {
		t.Fatalf("events %+v", got)
	}
	for i, w := range want {
		if got[i].ID != w.id || got[i].Snapshot != w.snap {
			t.Fatalf("event %d: %s snapshot %v, want %s %v", i, got[i].ID, got[i].Snapshot, w.id, w.snap)
		}
	}
	if id := c.LastEventID(); id != ids[4] {
		t.Fatalf("position %s, want %s", id, ids[4])
	}
}
