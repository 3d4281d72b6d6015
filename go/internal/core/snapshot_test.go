package core

import (
	"strconv"
	"testing"
)

// Snapshot, conflation and latency (docs/protocol.md sections 5.3, 7.1, 7.2, 9) in virtual
// time: subscribe frames, where snapshot events go, the resume position, the clock offset and
// the delays.

const eventTime = "2026-11-27T18:02:11.204Z"
const eventTimeMS = 1_795_802_531_204

func timedEvent(id, topic, time string, snapshot bool) []byte {
	mark := ""
	if snapshot {
		mark = `,"snapshot":true`
	}
	return []byte(`{"op":"event","specversion":"1.0","id":"` + id + `","source":"/s","type":"queue.depth-changed","subject":"q","time":"` +
		time + `","topic":"` + topic + `","tenant":"t"` + mark + `,"data":{}}`)
}

// connect brings the session to live on connection conn (a first start, or after a reconnect
// timer) with a `ready` that names timeMS when given, and returns the texts it sent.
func (h *harness) connect(conn uint64, timeMS *int64) []string {
	h.t.Helper()
	if conn == 1 {
		h.s.Start(h.tick())
		h.take()
		h.s.TokenObtained(h.tick(), jwt(h.now/1000+900))
	} else {
		h.s.TimerFired(h.tick(), TimerReconnect)
	}
	h.take()
	h.s.Opened(h.tick(), conn)
	h.take()
	clock := ""
	if timeMS != nil {
		clock = `,"time_ms":` + strconv.FormatInt(*timeMS, 10)
	}
	h.s.Frame(h.tick(), conn, []byte(`{"op":"ready","sub":"s","tenant":"t","exp":`+strconv.FormatInt(h.now/1000+900, 10)+`,"heartbeat_ms":20000`+clock+`,"head":"ab-0"}`))
	return sent(h.take())
}

func sent(acts []Action) []string {
	var out []string
	for _, a := range acts {
		if a.Kind == ActSend {
			out = append(out, a.Text)
		}
	}
	return out
}

type delivery struct {
	id       string
	handles  string
	snapshot bool
}

func (h *harness) frame(conn uint64, text string) []Action {
	h.s.Frame(h.tick(), conn, []byte(text))
	return h.take()
}

func (h *harness) deliveries(conn uint64, frame []byte) []delivery {
	h.s.Frame(h.tick(), conn, frame)
	var out []delivery
	for _, a := range h.take() {
		if a.Kind == ActDeliver {
			hs := ""
			for _, x := range a.Handles {
				hs += strconv.FormatUint(x, 10) + " "
			}
			out = append(out, delivery{a.Event.ID, hs, a.Snapshot})
		}
	}
	return out
}

func notices(acts []Action) []Action {
	var out []Action
	for _, a := range acts {
		if a.Kind == ActNotice {
			out = append(out, a)
		}
	}
	return out
}

func ptr(v int64) *int64 { return &v }

func TestSnapshotAndConflateGoOnTheSubscribeFrame(t *testing.T) {
	h := newHarness(t, false)
	h.s.config.Conflate = true
	h.s.Subscribe(h.tick(), "queue.>", true)
	h.s.Subscribe(h.tick(), "agent.>", false)
	if got := h.connect(1, nil); len(got) != 1 || got[0] != `{"op":"subscribe","req":"1","topics":["agent.>","queue.>"],"snapshot":true,"conflate":true}` {
		t.Fatalf("sent %v", got)
	}
	h.s.Subscribe(h.tick(), "session.>", false)
	if got := sent(h.take()); len(got) != 1 || got[0] != `{"op":"subscribe","req":"2","topics":["session.>"],"conflate":true}` {
		t.Fatalf("sent %v", got)
	}
}

func TestSnapshotGoesToTheHandleThatAskedAndKeepsTheHead(t *testing.T) {
	h := newHarness(t, false)
	wall, _ := h.s.Subscribe(h.tick(), "queue.>", true)
	log, _ := h.s.Subscribe(h.tick(), "queue.>", false)
	if got := h.connect(1, nil); got[0] != `{"op":"subscribe","req":"1","topics":["queue.>"],"snapshot":true}` {
		t.Fatalf("sent %v", got)
	}
	h.frame(1, `{"op":"subscribed","req":"1","topics":["queue.>"],"head":"ab-9"}`)
	got := h.deliveries(1, timedEvent("ab-4", "queue.q1.depth-changed", eventTime, true))
	got = append(got, h.deliveries(1, timedEvent("ab-9", "queue.q2.depth-changed", eventTime, true))...)
	want := []delivery{{"ab-4", "1 ", true}, {"ab-9", "1 ", true}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] || wall != 1 || log != 2 {
		t.Fatalf("delivered %v", got)
	}
	if id, _ := h.s.LastEventID(); id != "ab-9" {
		t.Fatalf("last %s", id)
	}
	n := notices(h.frame(1, `{"op":"snapshotted","req":"1","count":2}`))
	if len(n) != 1 || n[0].Notice != NoticeSnapshotted || n[0].Detail != "2" || n[0].Handle != wall {
		t.Fatalf("notices %+v", n)
	}
	if got := h.deliveries(1, timedEvent("ab-10", "queue.q1.depth-changed", eventTime, false)); len(got) != 1 || got[0] != (delivery{"ab-10", "1 2 ", false}) {
		t.Fatalf("delivered %v", got)
	}
	if got := h.deliveries(1, timedEvent("ab-3", "queue.q1.depth-changed", eventTime, true)); len(got) != 0 {
		t.Fatalf("a snapshot event after snapshotted went to %v", got)
	}
}

func TestSnapshotAskedOnTheResumeFrameComesAfterReset(t *testing.T) {
	h := newHarness(t, false)
	h.s.Subscribe(h.tick(), "queue.>", true)
	h.connect(1, nil)
	h.frame(1, `{"op":"subscribed","req":"1","topics":["queue.>"],"head":"ab-2"}`)
	h.frame(1, `{"op":"snapshotted","req":"1","count":0}`)
	h.deliveries(1, timedEvent("ab-3", "queue.q1.depth-changed", eventTime, false))
	h.s.Closed(h.tick(), 1, 1006, "")
	h.take()
	if got := h.connect(2, nil); got[0] != `{"op":"subscribe","req":"2","topics":["queue.>"],"from":"ab-3","snapshot":true}` {
		t.Fatalf("sent %v", got)
	}
	h.frame(2, `{"op":"subscribed","req":"2","topics":["queue.>"],"head":"ab-50"}`)
	h.frame(2, `{"op":"reset","reason":"retention_exceeded","from":"ab-3","position":"ab-50"}`)
	if got := h.deliveries(2, timedEvent("ab-41", "queue.q1.depth-changed", eventTime, true)); len(got) != 1 || !got[0].snapshot {
		t.Fatalf("delivered %v", got)
	}
	if n := notices(h.frame(2, `{"op":"snapshotted","req":"2","count":1}`)); len(n) != 1 || n[0].Notice != NoticeSnapshotted {
		t.Fatalf("notices %+v", n)
	}
	h.frame(2, `{"op":"replayed","req":"2","count":0}`)
	if id, _ := h.s.LastEventID(); id != "ab-50" {
		t.Fatalf("last %s", id)
	}
}

func TestSnapshotHandleOnAHeldPatternAsksInAFrameOfItsOwn(t *testing.T) {
	h := newHarness(t, false)
	h.s.Subscribe(h.tick(), "queue.>", true)
	h.connect(1, nil)
	h.frame(1, `{"op":"subscribed","req":"1","topics":["queue.>"],"head":"ab-2"}`)
	h.frame(1, `{"op":"snapshotted","req":"1","count":0}`)
	second, _ := h.s.Subscribe(h.tick(), "queue.>", true)
	acts := h.take()
	if n := notices(acts); len(n) != 1 || n[0].Notice != NoticeSubscribed || n[0].Handle != second {
		t.Fatalf("notices %+v", n)
	}
	if got := sent(acts); len(got) != 1 || got[0] != `{"op":"subscribe","req":"2","topics":["queue.>"],"snapshot":true}` {
		t.Fatalf("sent %v", got)
	}
	h.frame(1, `{"op":"subscribed","req":"2","topics":["queue.>"],"head":"ab-2"}`)
	if got := h.deliveries(1, timedEvent("ab-2", "queue.q1.depth-changed", eventTime, true)); len(got) != 1 || got[0].handles != "2 " {
		t.Fatalf("delivered %v", got)
	}
}

func TestDelayFromReadyAndPongsAndWhatEntersTheStats(t *testing.T) {
	h := newHarness(t, false)
	h.s.Subscribe(h.tick(), "queue.>", false)
	h.connect(1, ptr(h.now+1000)) // the server's clock is 1 s ahead
	h.frame(1, `{"op":"subscribed","req":"1","topics":["queue.>"],"head":"ab-0"}`)
	if l := h.s.Latency(); l != (LatencyStats{ClockOffsetMS: 1000}) {
		t.Fatalf("latency %+v", l)
	}
	h.now = eventTimeMS - 1000 + 40
	h.s.Frame(h.tick(), 1, timedEvent("ab-1", "queue.q1.depth-changed", eventTime, false))
	if d := h.must(h.take(), ActDeliver); !d.HasDelay || d.DelayMS != 40 {
		t.Fatalf("deliver %+v", d)
	}
	h.now += 10
	h.s.Frame(h.tick(), 1, timedEvent("ab-2", "queue.q1.depth-changed", eventTime, false))
	h.take()
	h.s.Frame(h.tick(), 1, timedEvent("ab-3", "queue.q1.depth-changed", "yesterday", false))
	if d := h.must(h.take(), ActDeliver); d.HasDelay {
		t.Fatalf("deliver %+v", d)
	}
	if l := h.s.Latency(); l != (LatencyStats{Count: 2, P50MS: 40, P99MS: 50, ClockOffsetMS: 1000}) {
		t.Fatalf("latency %+v", l)
	}
	pingPong := func(rtt, serverAhead int64) {
		h.now += 20000
		h.s.TimerFired(h.tick(), TimerHeartbeat)
		sent := h.now
		var req string
		for _, a := range h.take() {
			if a.Kind == ActSend {
				req = a.Text[len(`{"op":"ping","req":"`) : len(a.Text)-2]
			}
		}
		h.now += rtt
		h.frame(1, `{"op":"pong","req":"`+req+`","time_ms":`+strconv.FormatInt(sent+rtt/2+serverAhead, 10)+`}`)
	}
	pingPong(100, 2000)
	if l := h.s.Latency(); l.ClockOffsetMS != 2000 {
		t.Fatalf("offset %d", l.ClockOffsetMS)
	}
	pingPong(20, 1500) // a shorter round trip wins
	pingPong(300, 9000)
	if l := h.s.Latency(); l.ClockOffsetMS != 1500 {
		t.Fatalf("offset %d", l.ClockOffsetMS)
	}
}

func TestReplayedAndSnapshotEventsStayOutOfTheStats(t *testing.T) {
	h := newHarness(t, false)
	h.s.Subscribe(h.tick(), "queue.>", true)
	h.connect(1, ptr(h.now))
	h.frame(1, `{"op":"subscribed","req":"1","topics":["queue.>"],"head":"ab-1"}`)
	h.now = eventTimeMS + 7
	h.s.Frame(h.tick(), 1, timedEvent("ab-1", "queue.q1.depth-changed", eventTime, true))
	if d := h.must(h.take(), ActDeliver); !d.Snapshot || d.DelayMS != 7 {
		t.Fatalf("deliver %+v", d)
	}
	h.frame(1, `{"op":"snapshotted","req":"1","count":1}`)
	h.s.Closed(h.tick(), 1, 1006, "")
	h.take()
	h.connect(2, ptr(h.now))
	h.frame(2, `{"op":"subscribed","req":"2","topics":["queue.>"],"head":"ab-3"}`)
	h.now = eventTimeMS + 900
	h.deliveries(2, timedEvent("ab-2", "queue.q1.depth-changed", eventTime, false)) // replayed
	if l := h.s.Latency(); l.Count != 0 {
		t.Fatalf("latency %+v", l)
	}
	h.frame(2, `{"op":"replayed","req":"2","count":1}`)
	h.now = eventTimeMS + 30
	h.deliveries(2, timedEvent("ab-4", "queue.q1.depth-changed", eventTime, false))
	if l := h.s.Latency(); l != (LatencyStats{Count: 1, P50MS: 30, P99MS: 30}) {
		t.Fatalf("latency %+v", l)
	}
}

func TestParseTimeMS(t *testing.T) {
	good := map[string]int64{
		"1970-01-01T00:00:00Z":          0,
		"1970-01-01T00:00:00.001Z":      1,
		eventTime:                       eventTimeMS,
		"2026-11-27T18:02:11.2049Z":     eventTimeMS,
		"2026-11-27T19:02:11.204+01:00": eventTimeMS,
		"2024-02-29T00:00:00Z":          1_709_164_800_000,
	}
	for in, want := range good {
		if got, ok := ParseTimeMS(in); !ok || got != want {
			t.Errorf("%s: %d %v, want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "2026-11-27", "2026-11-27T18:02:11", "2026-13-01T00:00:00Z", "2026-01-32T00:00:00Z", "2026-02-30T00:00:00Z",
		"2026-11-27T24:00:00Z", "2026-11-27T18:02:11.Z", "2026-11-27T18:02:11.204", "x026-11-27T18:02:11Z"} {
		if _, ok := ParseTimeMS(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestPercentilesAreNearestRankOverTheLastThousand(t *testing.T) {
	var d delays
	for i := int64(1); i <= 100; i++ {
		d.add(i)
	}
	if s := d.stats(0); s != (LatencyStats{Count: 100, P50MS: 50, P99MS: 99}) {
		t.Fatalf("%+v", s)
	}
	for i := 0; i < 1000; i++ {
		d.add(7)
	}
	if s := d.stats(3); s != (LatencyStats{Count: 1000, P50MS: 7, P99MS: 7, ClockOffsetMS: 3}) {
		t.Fatalf("%+v", s)
	}
}

func TestOffsetNewestOfEqualRoundTripsAndAReadyWithoutTime(t *testing.T) {
	var c clockOffset
	c.onReady(0, ptr(1000))
	c.onPong(0, 10, ptr(205))   // round trip 10, offset 200
	c.onPong(20, 30, ptr(325))  // round trip 10 too, offset 300: the newer wins
	c.onPong(40, 90, ptr(9065)) // longer: ignored
	if c.offsetMS != 300 {
		t.Fatalf("offset %d", c.offsetMS)
	}
	c.onReady(100, nil) // an older server: the offset stays, the pongs go
	c.onPong(200, 250, ptr(625))
	if c.offsetMS != 400 {
		t.Fatalf("offset %d", c.offsetMS)
	}
}
