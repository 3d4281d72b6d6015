package core

import (
	"sort"
	"strconv"
)

// Session is the client's connection state machine, a line-for-line port of
// core/src/client_session.cpp (its theory of operation is in client_session.hpp). It never
// touches a socket, a clock or a random source: every input carries a Tick, and the caller
// performs the returned actions in order. Inputs about a connection the session has given up
// on are ignored, so an adapter never reasons about races. Not safe for concurrent use: the
// adapter owns it from one goroutine.
//
// Snapshot and latency (docs/protocol.md section 9): a handle subscribed with snapshot puts
// "snapshot":true on every subscribe frame that carries its pattern (the resume frame too, so a
// `reset` brings the snapshot); one added to a pattern the connection already holds asks for it
// in a frame of its own. Snapshot events go only to the handles waiting for a snapshot on this
// connection, bypass duplicate suppression and never move the last id; `snapshotted` ends the
// wait with NoticeSnapshotted (Detail: the count) per handle. Every delivered event whose `time`
// parses carries its delay (local clock + offset - time); live ones (not replayed, not
// snapshot) enter Latency.

// Tick is the time (Unix milliseconds) and a random number in [0, 1) an input carries.
type Tick struct {
	NowMS  int64
	Random float64
}

type State uint8

const (
	StateIdle State = iota
	StateFetchingToken
	StateConnecting
	StateAuthenticating
	StateLive
	StateReconnecting
	StateClosed
)

func (s State) String() string {
	return [...]string{"idle", "fetching_token", "connecting", "authenticating", "live", "reconnecting", "closed"}[s]
}

type TimerKind uint8

const (
	TimerReconnect TimerKind = iota // backoff elapsed: connect again
	TimerHandshake                  // open + ready must happen before this
	TimerHeartbeat                  // send a `ping`
	TimerPong                       // the pong for the last ping is overdue
	TimerRefresh                    // ask for a new token before `exp`
	TimerStable                     // up long enough to reset the backoff
	TimerResend                     // requests refused as rate_limited go out again
	NumTimers
)

func (k TimerKind) String() string {
	return [...]string{"reconnect", "handshake", "heartbeat", "pong", "refresh", "stable", "resend"}[k]
}

type TokenReason uint8

const (
	TokenConnect  TokenReason = iota // a connection needs a token and none is usable
	TokenRefresh                     // the connection's token nears `exp`, or a refresh is retried
	TokenExpiring                    // the server warned with `expiring`
	TokenExpired                     // the server closed with 4001
	TokenRefused                     // the server closed with 4401 (e.g. a new signing key)
)

func (r TokenReason) String() string {
	return [...]string{"connect", "refresh", "expiring", "expired", "refused"}[r]
}

type NoticeKind uint8

const (
	NoticeReconnected NoticeKind = iota
	NoticeReset
	NoticeOverflow
	NoticeError
	NoticeSubscriptionFailed
	NoticeRevoked
	NoticeTokenExpiring
	NoticeSubscribed
	NoticeSnapshotted // the snapshot Handle asked for is complete: Detail is the count
)

func (k NoticeKind) String() string {
	return [...]string{"reconnected", "reset", "overflow", "error", "subscription_failed", "revoked", "token_expiring", "subscribed", "snapshotted"}[k]
}

// Config mirrors session_config.
type Config struct {
	Endpoint         string
	TokenInHeader    bool // native: Authorization header; otherwise an `auth` frame
	TokenProvider    bool // request_token reaches a provider that can mint a new token
	Backoff          BackoffPolicy
	HandshakeTimeout int64
	RefreshBeforeMS  int64
	StableAfterMS    int64
	DefaultHeartbeat int64
	Conflate         bool // every subscribe carries "conflate":true (section 7.1)
}

// DefaultConfig has the protocol's defaults.
func DefaultConfig(endpoint string) Config {
	return Config{Endpoint: endpoint, TokenInHeader: true, Backoff: DefaultBackoff, HandshakeTimeout: 10000,
		RefreshBeforeMS: 60000, StableAfterMS: 10000, DefaultHeartbeat: 20000}
}

const (
	CloseNormal             = 1000
	CloseProtocolViolation  = 1008
	CloseHandshakeTimeout   = 4002
	CloseHeartbeatTimeout   = 4003
	closeTokenExpired       = 4001
	closeInvalidToken       = 4401
	closeTooManyConnections = 4029
	maxBackoffAttempt       = 64
	expiredTokensToGiveUp   = 2
	rateWindowMS            = 1000 // the server's request-rate window (docs/protocol.md section 10)
	Subprotocol             = "globemeet-events.v1"
)

// ActionKind says which fields of an Action are meaningful.
type ActionKind uint8

const (
	ActOpen ActionKind = iota
	ActSend
	ActClose
	ActArmTimer
	ActCancelTimer
	ActRequestToken
	ActDeliver
	ActStateChanged
	ActNotice
)

// Action is one thing the adapter must do. One flat struct (not an interface) so that the
// hot path, an event delivered, allocates nothing but its handle list.
type Action struct {
	Kind       ActionKind
	Connection uint64
	// open
	URL, Authorization, LastEventID string
	// send
	Text string
	// close (Code, Reason); state_changed (From, To, Code, Reason)
	Code   uint16
	Reason string
	From   State
	To     State
	// timers
	Timer TimerKind
	AtMS  int64
	// request_token
	TokenReason TokenReason
	// deliver: the event, the handles whose pattern matches, and the resume position before
	// this event (so an adapter that queues events can report the last one it handed over)
	Event   *Event
	Handles []uint64
	Prev    EventID
	HasPrev bool
	// Snapshot: a snapshot event, for the handles waiting for their snapshot (Event.Snapshot).
	// DelayMS: local clock + server offset - the event's `time`, when HasDelay (`time` parsed).
	Snapshot bool
	DelayMS  int64
	HasDelay bool
	// notice
	Notice      NoticeKind
	Detail      string
	Message     string
	Handle      uint64
	CloseCode   uint16
	CloseReason string
}

// IsFinalCloseCode says whether a close code ends the client (docs/protocol.md section 8).
func IsFinalCloseCode(code uint16) bool {
	switch code {
	case 1000, 1002, 1003, 1007, 1008, 1009:
		return true
	}
	return code >= 4400 && code <= 4499
}

type requestKind uint8

const (
	reqSubscribe requestKind = iota
	reqUnsubscribe
	reqRefresh
	reqPing
)

type pendingRequest struct {
	what   requestKind
	topics []string
}

func secondsToMS(s int64) int64 {
	const latest = 900_000_000_000
	if s < 0 {
		s = 0
	}
	if s > latest {
		s = latest
	}
	return s * 1000
}

type Session struct {
	config    Config
	state     State
	actions   []Action
	armed     [NumTimers]bool
	finalCode uint16

	token           string
	hasToken        bool
	tokenExpMS      int64
	tokenHasExp     bool
	tokenRequested  bool
	connectReason   TokenReason
	expiredInARow   int
	refusedReplaced bool

	resume         resumeState
	nextHandle     uint64
	handlePattern  map[uint64]string
	patternHandles map[string][]uint64
	patterns       []string        // the keys of patternHandles, sorted (deterministic frames)
	snapshotHandle map[uint64]bool // handles subscribed with snapshot
	// On the current connection: the subscribe each such handle awaits its snapshot from, and
	// the handles that had it (or whose resume made it unnecessary).
	snapshotReq map[uint64]string
	snapshotHad map[uint64]bool

	clock    clockOffset // latency: the server clock, the live events' delays, the last `time` read
	delays   delays
	timeText string
	timeMS   int64
	timeOK   bool

	attempt        uint32
	closingDelayMS int64
	hasClosing     bool
	everReady      bool
	nextReq        uint64

	connection         uint64
	connectionActive   bool
	connectionPatterns map[string]bool
	confirmedPatterns  map[string]bool
	unsubscribeAgain   map[string]bool // unsubscribes refused as rate_limited
	fromReq            string          // the subscribe that carried `from`, until its `replayed`
	replaying          bool            // between that request's `subscribed` and `replayed`
	resumeRefused      bool
	headReq            string
	pending            map[string]pendingRequest
	heartbeatMS        int64
	connectionExpMS    int64
	pingReq            string
	pingSentMS         int64
	refreshFailures    uint32

	scratch []topMember
	spare   []Action
}

func NewSession(c Config) *Session {
	return &Session{config: c, nextHandle: 1, nextReq: 1, handlePattern: map[uint64]string{},
		patternHandles: map[string][]uint64{}, connectionPatterns: map[string]bool{},
		confirmedPatterns: map[string]bool{}, unsubscribeAgain: map[string]bool{}, pending: map[string]pendingRequest{},
		snapshotHandle: map[uint64]bool{}, snapshotReq: map[uint64]string{}, snapshotHad: map[uint64]bool{}}
}

// ---- small helpers -----------------------------------------------------------------------------

func (s *Session) setState(to State, code uint16, reason string) {
	if to == s.state {
		return
	}
	s.actions = append(s.actions, Action{Kind: ActStateChanged, From: s.state, To: to, Code: code, Reason: reason})
	s.state = to
}

func (s *Session) arm(k TimerKind, at int64) {
	s.armed[k] = true
	s.actions = append(s.actions, Action{Kind: ActArmTimer, Timer: k, AtMS: at})
}

func (s *Session) cancel(k TimerKind) {
	if s.armed[k] {
		s.armed[k] = false
		s.actions = append(s.actions, Action{Kind: ActCancelTimer, Timer: k})
	}
}

func (s *Session) cancelAll() {
	for k := TimerKind(0); k < NumTimers; k++ {
		s.cancel(k)
	}
}

func (s *Session) notice(kind NoticeKind, detail, message string, handle uint64) {
	s.actions = append(s.actions, Action{Kind: ActNotice, Notice: kind, Detail: detail, Message: message, Handle: handle})
}

func (s *Session) requestID() string {
	id := strconv.FormatUint(s.nextReq, 10)
	s.nextReq++
	return id
}

func (s *Session) send(text string) {
	s.actions = append(s.actions, Action{Kind: ActSend, Connection: s.connection, Text: text})
}

func (s *Session) requestToken(reason TokenReason) {
	if s.tokenRequested {
		return
	}
	s.tokenRequested = true
	s.actions = append(s.actions, Action{Kind: ActRequestToken, TokenReason: reason})
}

func (s *Session) tokenUsable(now int64) bool {
	return s.hasToken && (!s.tokenHasExp || s.tokenExpMS-s.config.RefreshBeforeMS > now)
}

func (s *Session) retryDelay(failures *uint32, random float64) int64 {
	d := s.config.Backoff.Delay(*failures, random)
	if *failures < maxBackoffAttempt {
		*failures++
	}
	return d
}

// ---- connection lifecycle ----------------------------------------------------------------------

func (s *Session) beginConnect(t Tick) {
	if s.tokenUsable(t.NowMS) {
		s.openConnection(t)
		return
	}
	s.setState(StateFetchingToken, 0, "a token is needed")
	s.requestToken(s.connectReason)
}

func (s *Session) resetConnection() {
	clear(s.connectionPatterns)
	clear(s.confirmedPatterns)
	clear(s.pending)
	s.fromReq, s.replaying = "", false
	s.pingReq = ""
}

func (s *Session) openConnection(t Tick) {
	s.connection++
	s.connectionActive = true
	s.resetConnection()
	s.resumeRefused = false
	s.headReq = ""
	s.refreshFailures = 0
	s.heartbeatMS = s.config.DefaultHeartbeat
	s.connectionExpMS = 0
	s.setState(StateConnecting, 0, "")
	a := Action{Kind: ActOpen, Connection: s.connection, URL: s.config.Endpoint}
	if s.config.TokenInHeader {
		a.Authorization = "Bearer " + s.token
	}
	a.LastEventID, _ = s.resume.lastString()
	s.actions = append(s.actions, a)
	s.arm(TimerHandshake, t.NowMS+s.config.HandshakeTimeout)
}

func (s *Session) leaveConnection() {
	for _, k := range []TimerKind{TimerHandshake, TimerHeartbeat, TimerPong, TimerRefresh, TimerStable, TimerResend} {
		s.cancel(k)
	}
	s.connectionActive = false
	s.resetConnection()
	clear(s.unsubscribeAgain)
	clear(s.snapshotReq)
	clear(s.snapshotHad)
}

func (s *Session) reconnectLater(t Tick, code uint16, reason string) {
	delay := s.retryDelay(&s.attempt, t.Random)
	if code == closeTooManyConnections && delay < s.config.Backoff.MinMS {
		delay = s.config.Backoff.MinMS
	}
	if s.hasClosing {
		if s.closingDelayMS > delay {
			delay = s.closingDelayMS
		}
		s.hasClosing = false
	}
	s.setState(StateReconnecting, code, reason)
	s.arm(TimerReconnect, t.NowMS+delay)
}

func (s *Session) dropConnection(t Tick, code uint16, reason string) {
	s.actions = append(s.actions, Action{Kind: ActClose, Connection: s.connection, Code: code, Reason: reason})
	s.leaveConnection()
	s.reconnectLater(t, code, reason)
}

func (s *Session) finish(code uint16, reason string) {
	s.cancelAll()
	s.connectionActive = false
	s.finalCode = code
	s.setState(StateClosed, code, reason)
}

// giveUp ends the session for a reason the user did not choose, and says so.
func (s *Session) giveUp(code uint16, reason string) {
	s.cancelAll() // so the notice comes just before `closed`
	msg := "stopped for good after close " + strconv.Itoa(int(code))
	if reason != "" {
		msg += ": " + reason
	}
	s.actions = append(s.actions, Action{Kind: ActNotice, Notice: NoticeError, Detail: "closed", Message: msg, CloseCode: code, CloseReason: reason})
	s.finish(code, reason)
}

func (s *Session) armRefresh(now int64) {
	at := s.connectionExpMS - s.config.RefreshBeforeMS
	if at <= now {
		half := (s.connectionExpMS - now) / 2
		if half < 0 {
			half = 0
		}
		at = now + half
	}
	s.arm(TimerRefresh, at)
}

func (s *Session) retryRefreshLater(t Tick) {
	s.arm(TimerRefresh, t.NowMS+s.retryDelay(&s.refreshFailures, t.Random))
}

// ---- subscriptions -----------------------------------------------------------------------------

func (s *Session) sendSubscribe(topics []string) {
	for begin := 0; begin < len(topics); begin += maxTopicsPerRequest {
		end := begin + maxTopicsPerRequest
		if end > len(topics) {
			end = len(topics)
		}
		chunk := append([]string(nil), topics[begin:end]...)
		req := s.requestID()
		var from *string
		// `from` is honoured only while the connection holds nothing (section 5.1).
		first := len(s.connectionPatterns) == 0
		if first && !s.resumeRefused {
			if last, ok := s.resume.lastString(); ok {
				from = &last
			}
		}
		if first && from == nil {
			s.headReq = req
		}
		if from != nil {
			s.fromReq = req
		}
		// `snapshot` when a handle of one of its patterns asked and has not had it on this
		// connection; those handles await it now.
		snapshot := false
		for _, p := range chunk {
			for _, h := range s.patternHandles[p] {
				if s.snapshotHandle[h] && !s.snapshotHad[h] {
					snapshot = true
					s.snapshotReq[h] = req
				}
			}
		}
		for _, p := range chunk {
			s.connectionPatterns[p] = true
		}
		s.pending[req] = pendingRequest{what: reqSubscribe, topics: chunk}
		s.send(EncodeSubscribe(req, chunk, from, snapshot, s.config.Conflate))
	}
}

func (s *Session) removePatternKey(pattern string) {
	i := sort.SearchStrings(s.patterns, pattern)
	if i < len(s.patterns) && s.patterns[i] == pattern {
		s.patterns = append(s.patterns[:i], s.patterns[i+1:]...)
	}
}

// dropPattern takes every handle of pattern from the user, each told why.
func (s *Session) dropPattern(pattern string, kind NoticeKind, detail, message string) {
	handles, ok := s.patternHandles[pattern]
	if !ok {
		return
	}
	for _, h := range handles {
		s.notice(kind, detail, message, h)
		s.forget(h)
	}
	delete(s.patternHandles, pattern)
	s.removePatternKey(pattern)
}

func (s *Session) forget(h uint64) {
	delete(s.handlePattern, h)
	delete(s.snapshotHandle, h)
	delete(s.snapshotReq, h)
	delete(s.snapshotHad, h)
}

// snapshotDone: the handles awaiting the snapshot of req stop waiting; with a count, each is told.
func (s *Session) snapshotDone(req string, count *uint64) {
	if req == "" {
		return
	}
	var done []uint64
	for h, r := range s.snapshotReq {
		if r == req {
			done = append(done, h)
		}
	}
	sort.Slice(done, func(i, j int) bool { return done[i] < done[j] })
	for _, h := range done {
		delete(s.snapshotReq, h)
		s.snapshotHad[h] = true
		if count != nil {
			n := strconv.FormatUint(*count, 10)
			s.notice(NoticeSnapshotted, n, "the snapshot of `"+s.handlePattern[h]+"` is complete ("+n+" events)", h)
		}
	}
}

func (s *Session) handlesFor(topic string) []uint64 {
	var out []uint64
	for _, p := range s.patterns {
		if Matches(p, topic) {
			out = append(out, s.patternHandles[p]...)
		}
	}
	if len(out) > 1 {
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	}
	return out
}

// ---- server frames -----------------------------------------------------------------------------

func (s *Session) onFrame(t Tick, text []byte) {
	f, err := DecodeServer(text, &s.scratch)
	if err != nil {
		s.notice(NoticeError, "bad_frame", err.Message, 0)
		return
	}
	// Nothing but `ready` comes before `ready`, except a refusal or `closing`; `ready` comes once.
	var expected bool
	if s.state == StateAuthenticating {
		expected = f.Op == "ready" || f.Op == "closing" || f.Op == "error"
	} else {
		expected = f.Op != "ready"
	}
	if !expected {
		s.notice(NoticeError, "bad_frame", "unexpected `"+f.Op+"` while "+s.state.String(), 0)
		return
	}
	switch f.Op {
	case "ready":
		s.onReady(t, &f)
	case "subscribed":
		s.onSubscribed(&f)
	case "replayed":
		if f.Req != "" && f.Req == s.fromReq {
			s.replaying, s.fromReq = false, ""
		}
		s.snapshotDone(f.Req, nil) // the resume was possible: the replay brought them up to date
	case "snapshotted":
		s.snapshotDone(f.Req, &f.Count)
	case "unsubscribed":
		s.onUnsubscribed(&f)
	case "refreshed":
		delete(s.pending, f.Req)
		s.connectionExpMS = secondsToMS(f.Exp)
		s.refreshFailures = 0
		s.armRefresh(t.NowMS)
	case "pong":
		if s.pingReq == "" || f.Req != s.pingReq {
			return // not the pong we wait for
		}
		delete(s.pending, f.Req)
		s.pingReq = ""
		s.clock.onPong(s.pingSentMS, t.NowMS, f.TimeMS)
		s.cancel(TimerPong)
		s.arm(TimerHeartbeat, max(t.NowMS, s.pingSentMS+s.heartbeatMS))
	case "event":
		ev := f.Event
		s.onEvent(t, &ev)
	case "reset":
		s.resume.resetTo(f.Pos)
		where := "from the start of the log"
		if f.Pos != nil {
			if p, ok := ParseEventID(*f.Pos); ok {
				if p.Seq != 0 {
					where = "after " + p.String()
				} else {
					where = "from the start of epoch " + p.Epoch
				}
			}
		}
		from := "nothing"
		if f.From != nil {
			from = *f.From
		}
		s.notice(NoticeReset, f.Reason, "resume from "+from+" impossible; continuing "+where, 0)
	case "overflow":
		last := ""
		if f.LastID != nil {
			last = *f.LastID
		}
		s.notice(NoticeOverflow, last, "the server fell "+strconv.FormatInt(f.LagMS, 10)+" ms behind; reconnecting to resume", 0)
	case "expiring":
		s.notice(NoticeTokenExpiring, "", "the token expires at "+strconv.FormatInt(f.Exp, 10)+" (grace "+strconv.FormatInt(f.GraceMS, 10)+" ms)", 0)
		s.requestToken(TokenExpiring)
	case "closing":
		s.closingDelayMS, s.hasClosing = f.AfterMS, true
	case "error":
		s.onError(t, &f)
	}
}

func (s *Session) onReady(t Tick, f *ServerFrame) {
	s.cancel(TimerHandshake)
	s.clock.onReady(t.NowMS, f.TimeMS)
	s.refusedReplaced = false // the token was taken: a later 4401 may be a new key again
	s.setState(StateLive, 0, "")
	s.heartbeatMS = f.HeartMS
	if s.heartbeatMS <= 0 {
		s.heartbeatMS = s.config.DefaultHeartbeat
	}
	s.connectionExpMS = secondsToMS(f.Exp)
	s.sendSubscribe(append([]string(nil), s.patterns...))
	s.arm(TimerHeartbeat, t.NowMS+s.heartbeatMS)
	s.armRefresh(t.NowMS)
	s.arm(TimerStable, t.NowMS+s.config.StableAfterMS)
	if s.everReady {
		s.notice(NoticeReconnected, "", "live again; resuming after the last event", 0)
	}
	s.everReady = true
}

func (s *Session) onSubscribed(f *ServerFrame) {
	delete(s.pending, f.Req)
	if f.Req != "" && f.Req == s.fromReq {
		s.replaying = true // replayed events follow until `replayed`: not live latency
	}
	// Without `from`, live delivery starts after `head`: until an event arrives that is the
	// position to resume from. Only the connection's first subscribe qualifies.
	if f.Req == s.headReq && !s.resume.hasLast && f.Head != nil {
		s.resume.setLast(*f.Head)
	}
	for _, p := range f.Topics {
		if !s.connectionPatterns[p] || s.confirmedPatterns[p] {
			continue
		}
		s.confirmedPatterns[p] = true
		for _, h := range s.patternHandles[p] {
			s.notice(NoticeSubscribed, p, "subscribed to `"+p+"`", h)
		}
	}
}

func (s *Session) onUnsubscribed(f *ServerFrame) {
	if f.Req != "" {
		delete(s.pending, f.Req)
	}
	for _, p := range f.Topics {
		delete(s.connectionPatterns, p)
		delete(s.confirmedPatterns, p)
		// Anything but the client's own request takes the pattern away from the user.
		if f.Reason != "requested" {
			s.dropPattern(p, NoticeRevoked, f.Reason, "the server removed `"+p+"`")
		}
	}
}

// delay is local clock + offset - the event's `time`, when it parses.
func (s *Session) delay(now int64, time string) (int64, bool) {
	if time != s.timeText { // consecutive events often share their millisecond
		s.timeText = time
		s.timeMS, s.timeOK = ParseTimeMS(time)
	}
	return now + s.clock.offsetMS - s.timeMS, s.timeOK
}

// snapshotReceivers are the handles awaiting a snapshot whose pattern matches topic.
func (s *Session) snapshotReceivers(topic string) []uint64 {
	var out []uint64
	for h := range s.snapshotReq {
		if Matches(s.handlePattern[h], topic) {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// onEvent handles one decoded event.
func (s *Session) onEvent(t Tick, ev *Event) {
	id, topic := ev.ID, ev.Topic
	if bad := ValidateName(topic); bad != nil {
		s.notice(NoticeError, "bad_frame", "member 'topic': "+bad.Message, 0)
		return
	}
	prev, hasPrev := s.resume.last, s.resume.hasLast
	if ev.Snapshot {
		// Older than the connection's position: no duplicate suppression, no new last id.
		handles := s.snapshotReceivers(topic)
		if len(handles) == 0 {
			return
		}
		d, ok := s.delay(t.NowMS, ev.Time)
		s.actions = append(s.actions, Action{Kind: ActDeliver, Event: ev, Handles: handles, Prev: prev, HasPrev: hasPrev,
			Snapshot: true, DelayMS: d, HasDelay: ok})
		return
	}
	switch s.resume.accept(id) {
	case verdictDeliver:
		handles := s.handlesFor(topic)
		if len(handles) == 0 {
			return
		}
		d, ok := s.delay(t.NowMS, ev.Time)
		if ok && !s.replaying {
			s.delays.add(d)
		}
		s.actions = append(s.actions, Action{Kind: ActDeliver, Event: ev, Handles: handles, Prev: prev, HasPrev: hasPrev,
			DelayMS: d, HasDelay: ok})
	case verdictDuplicate:
	case verdictEpochChanged:
		s.notice(NoticeError, "epoch_changed", "event `"+id+"` is from another epoch without a `reset`", 0)
		s.dropConnection(t, CloseProtocolViolation, "event from another epoch without reset")
	case verdictInvalidID:
		short := id
		if len(short) > 64 {
			short = short[:64]
		}
		s.notice(NoticeError, "bad_frame", "event id `"+short+"` is not an event id", 0)
	}
}

func (s *Session) onError(t Tick, f *ServerFrame) {
	req, ok := s.pending[f.Req]
	if f.Req == "" || !ok {
		s.notice(NoticeError, f.Code, f.Message, 0)
		return
	}
	delete(s.pending, f.Req)
	if f.Code == "rate_limited" {
		s.onRateLimited(t, f.Req, req)
		return
	}
	switch req.what {
	case reqSubscribe:
		s.onSubscribeRefused(f, req.topics)
	case reqRefresh:
		// The refused token must not open the next connection either.
		s.notice(NoticeError, f.Code, f.Message, 0)
		s.token, s.hasToken, s.tokenHasExp = "", false, false
		s.retryRefreshLater(t)
	case reqPing:
		// A refused ping (rate_limited) still proves the connection alive.
		s.notice(NoticeError, f.Code, f.Message, 0)
		if f.Req == s.pingReq {
			s.pingReq = ""
			s.cancel(TimerPong)
			s.arm(TimerHeartbeat, max(t.NowMS, s.pingSentMS+s.heartbeatMS))
		}
	case reqUnsubscribe:
		s.notice(NoticeError, f.Code, f.Message, 0)
	}
}

// onRateLimited: refused for coming too fast, nothing was applied and nothing is wrong that the
// application could act on. The request goes out again after the server's one-second window.
func (s *Session) onRateLimited(t Tick, req string, r pendingRequest) {
	switch {
	case r.what == reqSubscribe:
		for _, p := range r.topics {
			delete(s.connectionPatterns, p)
		}
	case r.what == reqUnsubscribe:
		for _, p := range r.topics {
			if _, wanted := s.patternHandles[p]; !wanted {
				s.unsubscribeAgain[p] = true
			}
		}
	case r.what == reqRefresh:
		s.retryRefreshLater(t) // the token is good, only early: keep it
		return
	case r.what == reqPing:
		// Still proof that the connection is alive: no pong will come, the next ping will.
		if req == s.pingReq {
			s.pingReq = ""
			s.cancel(TimerPong)
			s.arm(TimerHeartbeat, max(t.NowMS, s.pingSentMS+s.heartbeatMS))
		}
		return
	}
	if !s.armed[TimerResend] {
		s.arm(TimerResend, t.NowMS+rateWindowMS)
	}
}

// resend sends what rate_limited held back: every wanted pattern the connection does not
// hold, and every unwanted one it still does.
func (s *Session) resend() {
	var wanted []string
	for _, p := range s.patterns {
		if !s.connectionPatterns[p] {
			wanted = append(wanted, p)
		}
	}
	if len(wanted) > 0 {
		s.sendSubscribe(wanted)
	}
	var unwanted []string
	for p := range s.unsubscribeAgain {
		if _, ok := s.patternHandles[p]; !ok {
			unwanted = append(unwanted, p)
		}
	}
	clear(s.unsubscribeAgain)
	if len(unwanted) == 0 {
		return
	}
	sort.Strings(unwanted)
	req := s.requestID()
	s.pending[req] = pendingRequest{what: reqUnsubscribe, topics: unwanted}
	s.send(EncodeUnsubscribe(req, unwanted))
}

// onSubscribeRefused: a refused `subscribe` applied none of its patterns.
func (s *Session) onSubscribeRefused(f *ServerFrame, topics []string) {
	var retry []string
	for _, p := range topics {
		held := s.connectionPatterns[p]
		delete(s.connectionPatterns, p)
		if _, ok := s.patternHandles[p]; held && ok {
			retry = append(retry, p)
		}
	}
	switch f.Code {
	case "invalid_topic", "forbidden_topic":
		named := -1
		for i, p := range retry {
			if p == f.Topic {
				named = i
				break
			}
		}
		if named < 0 {
			for _, p := range retry {
				s.dropPattern(p, NoticeSubscriptionFailed, f.Code, f.Message)
			}
			return
		}
		s.dropPattern(retry[named], NoticeSubscriptionFailed, f.Code, f.Message)
		retry = append(retry[:named], retry[named+1:]...)
		s.sendSubscribe(retry) // the innocent rest, once more
	case "too_many_subscriptions":
		for _, p := range retry {
			s.dropPattern(p, NoticeSubscriptionFailed, f.Code, f.Message)
		}
	case "resume_not_allowed":
		s.resumeRefused = true
		s.sendSubscribe(retry)
	default:
		s.notice(NoticeError, f.Code, f.Message, 0)
	}
}

// ---- inputs ------------------------------------------------------------------------------------

// Start begins connecting.
func (s *Session) Start(t Tick) {
	if s.state != StateIdle {
		return
	}
	s.beginConnect(t)
}

// TokenObtained answers a request_token with a token (its JWT `exp` is read, not verified).
func (s *Session) TokenObtained(t Tick, token string) {
	s.tokenRequested = false
	if s.state == StateClosed {
		return
	}
	expS, hasExp := JWTExpiry(token)
	var expMS int64
	if hasExp {
		expMS = secondsToMS(expS)
	}
	expired := hasExp && expMS <= t.NowMS

	if s.state == StateFetchingToken {
		if expired {
			s.expiredInARow++
			if s.expiredInARow >= expiredTokensToGiveUp {
				s.giveUp(closeTokenExpired, "token expired and the provider gave no fresh one")
			} else {
				s.reconnectLater(t, 0, "the token provider returned an expired token")
			}
			return
		}
		s.expiredInARow = 0
		s.connectReason = TokenConnect
		s.token, s.hasToken, s.tokenExpMS, s.tokenHasExp = token, true, expMS, hasExp
		s.openConnection(t)
		return
	}
	if expired {
		if s.state == StateLive {
			s.retryRefreshLater(t)
		}
		return
	}
	s.expiredInARow = 0
	newer := !hasExp || expMS > s.connectionExpMS
	s.token, s.hasToken, s.tokenExpMS, s.tokenHasExp = token, true, expMS, hasExp
	if s.state != StateLive {
		return // kept for the next connection
	}
	if !newer {
		s.retryRefreshLater(t) // the provider handed back what the server already has
		return
	}
	req := s.requestID()
	s.pending[req] = pendingRequest{what: reqRefresh}
	s.send(EncodeRefresh(req, token))
}

// TokenFailed answers a request_token with a failure.
func (s *Session) TokenFailed(t Tick, reason string) {
	s.tokenRequested = false
	switch s.state {
	case StateFetchingToken:
		s.notice(NoticeError, "token_unavailable", reason, 0)
		s.reconnectLater(t, 0, "the token provider failed: "+reason)
	case StateLive:
		// The connection keeps its current token until the server closes it with 4001.
		s.notice(NoticeError, "token_unavailable", reason, 0)
		s.retryRefreshLater(t)
	}
}

// Opened: the WebSocket handshake of connection completed.
func (s *Session) Opened(t Tick, connection uint64) {
	if !s.connectionActive || connection != s.connection || s.state != StateConnecting {
		return
	}
	if !s.config.TokenInHeader {
		s.send(EncodeAuth(s.token))
	}
	s.setState(StateAuthenticating, 0, "")
}

// Frame: a text frame arrived on connection.
func (s *Session) Frame(t Tick, connection uint64, text []byte) {
	if !s.connectionActive || connection != s.connection {
		return
	}
	if s.state != StateAuthenticating && s.state != StateLive {
		return
	}
	s.onFrame(t, text)
}

// Closed: connection ended with code (1006 for a network failure; a refused handshake mapped:
// 401 4401, 403 4403, 429 4029, other 4xx 4400, 5xx 1011).
func (s *Session) Closed(t Tick, connection uint64, code uint16, reason string) {
	if !s.connectionActive || connection != s.connection {
		return
	}
	s.leaveConnection()
	// A refused token is no proof that every token would be (a new signing key): a provider
	// is asked once; a second refusal in a row means the credentials are wrong.
	askNew := false
	if code == closeInvalidToken && s.config.TokenProvider && !s.refusedReplaced {
		s.refusedReplaced = true
		askNew = true
	}
	if IsFinalCloseCode(code) && !askNew {
		s.giveUp(code, reason)
		return
	}
	if code == closeTokenExpired || askNew {
		s.token, s.hasToken, s.tokenHasExp = "", false, false
		if askNew {
			s.connectReason = TokenRefused
		} else {
			s.connectReason = TokenExpired
		}
	}
	s.reconnectLater(t, code, reason)
}

// TimerFired: a timer armed by an arm_timer action elapsed.
func (s *Session) TimerFired(t Tick, k TimerKind) {
	if k >= NumTimers || !s.armed[k] {
		return // cancelled or replaced: a stale expiry
	}
	s.armed[k] = false
	switch k {
	case TimerReconnect:
		if s.state == StateReconnecting {
			s.beginConnect(t)
		}
	case TimerHandshake:
		if s.state == StateConnecting || s.state == StateAuthenticating {
			s.dropConnection(t, CloseHandshakeTimeout, "no ready within the handshake timeout")
		}
	case TimerHeartbeat:
		if s.state != StateLive {
			return
		}
		s.pingReq = s.requestID()
		s.pingSentMS = t.NowMS
		s.pending[s.pingReq] = pendingRequest{what: reqPing}
		s.send(EncodePing(s.pingReq))
		s.arm(TimerPong, t.NowMS+s.heartbeatMS)
	case TimerPong:
		if s.state == StateLive {
			s.dropConnection(t, CloseHeartbeatTimeout, "no pong within heartbeat_ms")
		}
	case TimerRefresh:
		if s.state == StateLive {
			s.requestToken(TokenRefresh)
		}
	case TimerStable:
		if s.state == StateLive {
			s.attempt = 0
		}
	case TimerResend:
		if s.state == StateLive {
			s.resend()
		}
	}
}

// Subscribe adds a handle for pattern (validated locally) and returns it (never 0). With
// snapshot, the handle gets the current state of its pattern first (section 5.3), and again
// after every `reset`.
func (s *Session) Subscribe(t Tick, pattern string, snapshot bool) (uint64, *ProtocolError) {
	if err := ValidatePattern(pattern); err != nil {
		return 0, err
	}
	h := s.nextHandle
	s.nextHandle++
	s.handlePattern[h] = pattern
	handles, existed := s.patternHandles[pattern]
	if !existed {
		i := sort.SearchStrings(s.patterns, pattern)
		s.patterns = append(s.patterns, "")
		copy(s.patterns[i+1:], s.patterns[i:])
		s.patterns[i] = pattern
	}
	s.patternHandles[pattern] = append(handles, h)
	if snapshot {
		s.snapshotHandle[h] = true
	}
	if s.state != StateLive {
		return h, nil
	}
	held := s.connectionPatterns[pattern]
	if held && s.confirmedPatterns[pattern] {
		s.notice(NoticeSubscribed, pattern, "subscribed to `"+pattern+"`", h)
	}
	// A held pattern is asked for again when this handle wants its current state (section
	// 5.3); the server answers a held pattern as usual.
	if (len(handles) == 0 && !held) || (held && snapshot) {
		s.sendSubscribe([]string{pattern})
	}
	return h, nil
}

// Unsubscribe ends a handle; the last handle of a pattern unsubscribes it on the server.
func (s *Session) Unsubscribe(t Tick, h uint64) {
	pattern, ok := s.handlePattern[h]
	if !ok {
		return
	}
	s.forget(h)
	handles := s.patternHandles[pattern]
	for i, x := range handles {
		if x == h {
			handles = append(handles[:i], handles[i+1:]...)
			break
		}
	}
	if len(handles) != 0 {
		s.patternHandles[pattern] = handles
		return
	}
	delete(s.patternHandles, pattern)
	s.removePatternKey(pattern)
	delete(s.confirmedPatterns, pattern)
	if s.state != StateLive || !s.connectionPatterns[pattern] {
		return
	}
	delete(s.connectionPatterns, pattern)
	req := s.requestID()
	s.pending[req] = pendingRequest{what: reqUnsubscribe, topics: []string{pattern}}
	s.send(EncodeUnsubscribe(req, []string{pattern}))
}

// Stop closes normally and stays closed.
func (s *Session) Stop(t Tick) {
	if s.state == StateClosed {
		return
	}
	if s.connectionActive {
		s.actions = append(s.actions, Action{Kind: ActClose, Connection: s.connection, Code: CloseNormal, Reason: "client stopped"})
		s.leaveConnection()
	}
	s.finish(CloseNormal, "stopped by the client")
}

// Disconnect is a pause the user asked for: the connection closes with 1000, every timer is
// cancelled and the session waits in `idle`, keeping its subscriptions, resume position and
// token; Start connects again and resumes (a reconnected notice at `ready`). A token request
// still outstanding is answered into `idle` and kept for that next Start.
func (s *Session) Disconnect(t Tick) {
	if s.state == StateClosed || s.state == StateIdle {
		return
	}
	if s.connectionActive {
		s.actions = append(s.actions, Action{Kind: ActClose, Connection: s.connection, Code: CloseNormal, Reason: "client disconnected"})
		s.leaveConnection()
	}
	s.cancelAll()
	s.attempt = 0 // the user chose the pause: the next Start is not a retry
	s.hasClosing = false
	s.setState(StateIdle, CloseNormal, "disconnected by the client")
}

// TakeActions returns the pending actions. Two buffers alternate: the slice returned stays
// valid until the next-but-one call, so an adapter may feed inputs while it performs them
// (those actions go to the other buffer) as long as it takes them only after it is done.
func (s *Session) TakeActions() []Action {
	a := s.actions
	s.actions = s.spare[:0]
	s.spare = a
	return a
}

func (s *Session) State() State { return s.state }

// LastEventID is the resume position, if any.
func (s *Session) LastEventID() (string, bool) { return s.resume.lastString() }

// SetLastEventID sets the resume position before Start; false when not an id or started.
func (s *Session) SetLastEventID(id string) bool {
	if s.state != StateIdle {
		return false
	}
	return s.resume.setLast(id)
}

// Latency is p50/p99 of the delay over the last 1,000 live events, and the clock offset.
func (s *Session) Latency() LatencyStats { return s.delays.stats(s.clock.offsetMS) }

// FinalCode is the close code that ended the session, once closed.
func (s *Session) FinalCode() uint16 { return s.finalCode }

// PatternOf returns the pattern of a live handle.
func (s *Session) PatternOf(h uint64) (string, bool) {
	p, ok := s.handlePattern[h]
	return p, ok
}
