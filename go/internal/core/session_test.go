package core

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
)

// The session in virtual time: no clock, no socket. Each test feeds inputs and compares the
// actions with what client_session.hpp promises.

type harness struct {
	t   *testing.T
	s   *Session
	now int64
	rnd float64
}

func newHarness(t *testing.T, provider bool) *harness {
	c := DefaultConfig("ws://x/v1/events")
	c.TokenProvider = provider
	return &harness{t: t, s: NewSession(c), now: 1_800_000_000_000, rnd: 0.5}
}

func (h *harness) tick() Tick { return Tick{NowMS: h.now, Random: h.rnd} }

func (h *harness) take() []Action { return append([]Action(nil), h.s.TakeActions()...) }

func jwt(expS int64) string {
	return "e30." + base64.RawURLEncoding.EncodeToString([]byte(`{"exp":`+strconv.FormatInt(expS, 10)+`}`)) + ".sig"
}

func find(acts []Action, kind ActionKind) *Action {
	for i := range acts {
		if acts[i].Kind == kind {
			return &acts[i]
		}
	}
	return nil
}

func (h *harness) must(acts []Action, kind ActionKind) *Action {
	h.t.Helper()
	a := find(acts, kind)
	if a == nil {
		h.t.Fatalf("no action of kind %d in %+v", kind, acts)
	}
	return a
}

// live brings the session to `live` on a new connection and returns the actions of `ready`.
func (h *harness) live(token string) []Action {
	h.t.Helper()
	h.s.Start(h.tick())
	if find(h.take(), ActRequestToken) != nil || h.s.State() == StateFetchingToken {
		h.s.TokenObtained(h.tick(), token)
	}
	open := h.must(h.take(), ActOpen)
	h.s.Opened(h.tick(), open.Connection)
	h.take()
	h.s.Frame(h.tick(), open.Connection, []byte(`{"op":"ready","sub":"s","tenant":"t","exp":`+strconv.FormatInt(h.now/1000+900, 10)+`,"heartbeat_ms":20000,"head":"ab-0"}`))
	if h.s.State() != StateLive {
		h.t.Fatalf("state %s", h.s.State())
	}
	return h.take()
}

func event(id, topic string) []byte {
	return []byte(`{"op":"event","specversion":"1.0","id":"` + id + `","source":"/s","type":"queue.depth-changed","subject":"q","time":"t","topic":"` + topic + `","tenant":"t","data":{}}`)
}

func TestSessionResumeAndDuplicates(t *testing.T) {
	h := newHarness(t, false)
	if !h.s.SetLastEventID("ab-5") {
		t.Fatal("SetLastEventID refused a valid id")
	}
	handle, err := h.s.Subscribe(h.tick(), "queue.*.depth-changed", false)
	if err != nil {
		t.Fatal(err)
	}
	h.s.Start(h.tick())
	if a := h.must(h.take(), ActRequestToken); a.TokenReason != TokenConnect {
		t.Fatalf("reason %s", a.TokenReason)
	}
	h.s.TokenObtained(h.tick(), jwt(h.now/1000+900))
	open := h.must(h.take(), ActOpen)
	if open.Authorization != "Bearer "+jwt(h.now/1000+900) || open.LastEventID != "ab-5" {
		t.Fatalf("open %+v", open)
	}
	h.s.Opened(h.tick(), open.Connection)
	h.take()
	h.s.Frame(h.tick(), open.Connection, []byte(`{"op":"ready","sub":"s","tenant":"t","exp":1,"heartbeat_ms":20000}`))
	send := h.must(h.take(), ActSend)
	if send.Text != `{"op":"subscribe","req":"1","topics":["queue.*.depth-changed"],"from":"ab-5"}` {
		t.Fatalf("subscribe %s", send.Text)
	}
	h.s.Frame(h.tick(), open.Connection, []byte(`{"op":"subscribed","req":"1","topics":["queue.*.depth-changed"],"head":"ab-9"}`))
	if n := h.must(h.take(), ActNotice); n.Notice != NoticeSubscribed || n.Handle != handle {
		t.Fatalf("notice %+v", n)
	}
	var delivered []string
	for _, id := range []string{"ab-6", "ab-6", "ab-5", "ab-7"} {
		h.s.Frame(h.tick(), open.Connection, event(id, "queue.support.depth-changed"))
		if d := find(h.take(), ActDeliver); d != nil {
			delivered = append(delivered, d.Event.ID)
		}
	}
	if strings.Join(delivered, " ") != "ab-6 ab-7" {
		t.Fatalf("delivered %v", delivered)
	}
	// Another epoch without a reset: the server broke the protocol; reconnect with the old id.
	h.s.Frame(h.tick(), open.Connection, event("cd-1", "queue.support.depth-changed"))
	acts := h.take()
	if n := h.must(acts, ActNotice); n.Detail != "epoch_changed" {
		t.Fatalf("notice %+v", n)
	}
	if c := h.must(acts, ActClose); c.Code != CloseProtocolViolation {
		t.Fatalf("close %+v", c)
	}
	if id, _ := h.s.LastEventID(); id != "ab-7" || h.s.State() != StateReconnecting {
		t.Fatalf("last %s state %s", id, h.s.State())
	}
}

func TestSessionHeadIsThePositionBeforeTheFirstEvent(t *testing.T) {
	h := newHarness(t, false)
	h.s.Subscribe(h.tick(), ">", false)
	acts := h.live(jwt(h.now/1000 + 900))
	if send := h.must(acts, ActSend); strings.Contains(send.Text, "from") {
		t.Fatalf("first subscribe with from: %s", send.Text)
	}
	h.s.Frame(h.tick(), 1, []byte(`{"op":"subscribed","req":"1","topics":[">"],"head":"ab-0"}`))
	if id, ok := h.s.LastEventID(); !ok || id != "ab-0" {
		t.Fatalf("last id %q", id)
	}
}

func TestSessionBackoffAndCloseClasses(t *testing.T) {
	h := newHarness(t, false)
	h.rnd = 0.999999
	h.live(jwt(h.now/1000 + 900))
	// Network failures before the connection is stable: full-jitter delays per tests/vectors.
	conn := uint64(1)
	for attempt, want := range []int64{500, 1000, 2000, 4000, 8000, 16000, 30000, 30000} {
		h.s.Closed(h.tick(), conn, 1006, "cut")
		timer := h.must(h.take(), ActArmTimer)
		if timer.Timer != TimerReconnect || timer.AtMS-h.now != want {
			t.Fatalf("attempt %d: %+v, want +%d", attempt, timer, want)
		}
		h.now = timer.AtMS
		h.s.TimerFired(h.tick(), TimerReconnect)
		conn = h.must(h.take(), ActOpen).Connection
	}
	for code, final := range map[uint16]bool{1000: true, 1001: false, 1002: true, 1003: true, 1006: false, 1007: true,
		1008: true, 1009: true, 1011: false, 4000: false, 4001: false, 4029: false, 4050: false, 4400: true,
		4401: true, 4403: true, 4450: true, 3000: false} {
		if IsFinalCloseCode(code) != final {
			t.Errorf("IsFinalCloseCode(%d) != %v", code, final)
		}
	}
	// A final code: the error notice that says why comes just before `closed`.
	h.s.Closed(h.tick(), conn, 4403, "forbidden")
	acts := h.take()
	n, st := acts[len(acts)-2], acts[len(acts)-1]
	if n.Kind != ActNotice || n.Detail != "closed" || n.CloseCode != 4403 || n.CloseReason != "forbidden" ||
		st.Kind != ActStateChanged || st.To != StateClosed || h.s.FinalCode() != 4403 {
		t.Fatalf("ending %+v %+v", n, st)
	}
}

func TestSessionRefusedTokenIsReplacedOnceWithAProvider(t *testing.T) {
	h := newHarness(t, true)
	h.live(jwt(h.now/1000 + 900))
	h.s.Closed(h.tick(), 1, 4401, "bad signature")
	timer := h.must(h.take(), ActArmTimer)
	h.now = timer.AtMS
	h.s.TimerFired(h.tick(), TimerReconnect)
	if a := h.must(h.take(), ActRequestToken); a.TokenReason != TokenRefused {
		t.Fatalf("reason %s", a.TokenReason)
	}
	h.s.TokenObtained(h.tick(), jwt(h.now/1000+900))
	open := h.must(h.take(), ActOpen)
	h.s.Closed(h.tick(), open.Connection, 4401, "bad signature")
	if h.s.State() != StateClosed || h.s.FinalCode() != 4401 {
		t.Fatalf("second refusal before ready: state %s", h.s.State())
	}
}

func TestSessionExpiredTokensTwiceGiveUp(t *testing.T) {
	h := newHarness(t, true)
	h.s.Start(h.tick())
	h.take()
	h.s.TokenObtained(h.tick(), jwt(h.now/1000-1))
	timer := h.must(h.take(), ActArmTimer)
	h.now = timer.AtMS
	h.s.TimerFired(h.tick(), TimerReconnect)
	h.take()
	h.s.TokenObtained(h.tick(), jwt(h.now/1000-1))
	if h.s.State() != StateClosed || h.s.FinalCode() != 4001 {
		t.Fatalf("state %s code %d", h.s.State(), h.s.FinalCode())
	}
}

func TestSessionStaleTimerAndStop(t *testing.T) {
	h := newHarness(t, false)
	h.live(jwt(h.now/1000 + 900))
	h.s.Closed(h.tick(), 1, 1006, "cut") // cancels the heartbeat
	h.take()
	h.s.TimerFired(h.tick(), TimerHeartbeat)
	if acts := h.take(); len(acts) != 0 {
		t.Fatalf("a cancelled timer acted: %+v", acts)
	}
	h.s.Stop(h.tick())
	acts := h.take()
	if find(acts, ActNotice) != nil || h.s.State() != StateClosed || h.s.FinalCode() != 1000 {
		t.Fatalf("stop: %+v", acts)
	}
}

func TestSessionRefusedSubscriptionKeepsTheRest(t *testing.T) {
	h := newHarness(t, false)
	bad, _ := h.s.Subscribe(h.tick(), "agent.>", false)
	good, _ := h.s.Subscribe(h.tick(), "queue.>", false)
	h.live(jwt(h.now/1000 + 900))
	h.s.Frame(h.tick(), 1, []byte(`{"op":"error","req":"1","code":"forbidden_topic","message":"no","topic":"agent.>"}`))
	acts := h.take()
	n := h.must(acts, ActNotice)
	if n.Notice != NoticeSubscriptionFailed || n.Handle != bad || n.Detail != "forbidden_topic" {
		t.Fatalf("notice %+v", n)
	}
	if send := h.must(acts, ActSend); send.Text != `{"op":"subscribe","req":"2","topics":["queue.>"],"from":"ab-0"}` &&
		send.Text != `{"op":"subscribe","req":"2","topics":["queue.>"]}` {
		t.Fatalf("retry %s", send.Text)
	}
	if _, ok := h.s.PatternOf(good); !ok {
		t.Fatal("the innocent pattern was dropped")
	}
}

func TestSessionRateLimitedRequestsGoOutAgain(t *testing.T) {
	h := newHarness(t, false)
	h.s.Subscribe(h.tick(), "queue.>", false)
	h.live(jwt(h.now/1000 + 900))
	h.s.Frame(h.tick(), 1, []byte(`{"op":"error","req":"1","code":"rate_limited","message":"slow down"}`))
	acts := h.take()
	if find(acts, ActNotice) != nil {
		t.Fatalf("rate_limited is not the application's business: %+v", acts)
	}
	timer := h.must(acts, ActArmTimer)
	if timer.Timer != TimerResend || timer.AtMS != h.now+1000 {
		t.Fatalf("timer %+v", timer)
	}
	h.now = timer.AtMS
	h.s.TimerFired(h.tick(), TimerResend)
	if send := h.must(h.take(), ActSend); !strings.Contains(send.Text, `"topics":["queue.>"]`) {
		t.Fatalf("resend %s", send.Text)
	}
}

func TestSessionDisconnectKeepsPositionAndSubscriptions(t *testing.T) {
	h := newHarness(t, false)
	h.s.Subscribe(h.tick(), "queue.>", false)
	h.live(jwt(h.now/1000 + 900))
	h.s.Frame(h.tick(), 1, []byte(`{"op":"subscribed","req":"1","topics":["queue.>"],"head":"ab-0"}`))
	h.s.Frame(h.tick(), 1, event("ab-3", "queue.q.depth-changed"))
	h.take()
	h.s.Disconnect(h.tick())
	acts := h.take()
	if c := h.must(acts, ActClose); c.Code != CloseNormal || h.s.State() != StateIdle {
		t.Fatalf("disconnect %+v state %s", acts, h.s.State())
	}
	h.s.Start(h.tick())
	open := h.must(h.take(), ActOpen) // the token was kept: no request
	if open.LastEventID != "ab-3" {
		t.Fatalf("open %+v", open)
	}
	h.s.Opened(h.tick(), open.Connection)
	h.s.Frame(h.tick(), open.Connection, []byte(`{"op":"ready","sub":"s","tenant":"t","exp":1,"heartbeat_ms":20000}`))
	acts = h.take()
	if send := h.must(acts, ActSend); !strings.Contains(send.Text, `"from":"ab-3"`) {
		t.Fatalf("resume %s", send.Text)
	}
	if n := h.must(acts, ActNotice); n.Notice != NoticeReconnected {
		t.Fatalf("notice %+v", n)
	}
}
