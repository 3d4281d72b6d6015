package core

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The frames of docs/protocol.md section 2: server frames decoded strictly (as
// core/src/codec.cpp does, with its messages), client frames encoded.

// ProtocolError is a refusal with one of the protocol's codes (bad_json, bad_frame,
// invalid_topic, ...) and a message saying which rule broke.
type ProtocolError struct {
	Code    string
	Message string
}

func (e *ProtocolError) Error() string { return e.Code + ": " + e.Message }

const (
	MaxServerFrameBytes = 1 << 20
	maxTopicsPerRequest = 64
	maxRequestIDChars   = 64
	maxTokenBytes       = 16 * 1024
	int64Max            = 1<<63 - 1
)

// Event is a decoded event envelope; Data is the raw JSON object of `data`. Snapshot marks an
// event of the current state (section 5.3: the frame carries "snapshot":true).
type Event struct {
	ID, Source, Type, Subject, Time, DataContentType, Topic, Tenant string
	Data                                                            []byte
	Snapshot                                                        bool
}

// ServerFrame is one decoded server frame; Op says which members are meaningful.
type ServerFrame struct {
	Op      string
	Req     string
	Topics  []string
	Head    *string // subscribed, ready (nil: absent or null)
	Count   uint64  // replayed, snapshotted
	TimeMS  *int64  // ready, pong: the server's clock (nil: absent, an older server)
	Sub     string  // ready
	Tenant  string  // ready
	Exp     int64   // ready, refreshed, expiring
	HeartMS int64   // ready
	Reason  string  // unsubscribed, reset, closing
	From    *string // reset
	Pos     *string // reset
	LagMS   int64   // overflow
	LastID  *string // overflow
	GraceMS int64   // expiring
	AfterMS int64   // closing
	Code    string  // error
	Message string  // error
	Topic   string  // error
	Event   Event   // event
}

type memberReader struct {
	members []topMember
	failure *ProtocolError
}

func badFrame(msg string) *ProtocolError { return &ProtocolError{Code: "bad_frame", Message: msg} }

func memberName(name string) string { return "member '" + excerpt(name) + "'" }

func (r *memberReader) fail(msg string) {
	if r.failure == nil {
		r.failure = badFrame(msg)
	}
}

func (r *memberReader) present(name string) *topMember {
	if r.failure != nil {
		return nil
	}
	for i := range r.members {
		if r.members[i].key == name {
			return &r.members[i]
		}
	}
	return nil
}

func (r *memberReader) required(name string) *topMember {
	m := r.present(name)
	if m == nil && r.failure == nil {
		r.fail("missing member '" + name + "'")
	}
	return m
}

func (r *memberReader) asString(name string, m *topMember) (string, bool) {
	if m == nil {
		return "", false
	}
	if m.kind != kindString {
		r.fail(memberName(name) + ": expected a string, got " + m.kind.String())
		return "", false
	}
	return stringValue(m.raw), true
}

func (r *memberReader) requiredString(name string) string {
	s, _ := r.asString(name, r.required(name))
	return s
}

func (r *memberReader) optionalString(name string, nullIsAbsent bool) *string {
	m := r.present(name)
	if m == nil || (nullIsAbsent && m.kind == kindNull) {
		return nil
	}
	s, ok := r.asString(name, m)
	if !ok {
		return nil
	}
	return &s
}

func (r *memberReader) requestID() string {
	req := r.optionalString("req", false)
	if req == nil {
		return ""
	}
	n := utf8.RuneCountInString(*req)
	if n < 1 || n > maxRequestIDChars {
		r.fail(memberName("req") + ": expected 1 to 64 characters, got " + strconv.Itoa(n))
	}
	return *req
}

func (r *memberReader) stringArray(name string) []string {
	m := r.required(name)
	if m == nil {
		return nil
	}
	if m.kind != kindArray {
		r.fail(memberName(name) + ": expected an array, got " + m.kind.String())
		return nil
	}
	// Re-parse the (already validated) array to list its entries.
	var out []string
	p := jsonParser{buf: m.raw}
	ok := func() (ok bool) {
		defer func() {
			if rec := recover(); rec != nil {
				ok = false
			}
		}()
		p.pos = 1
		p.skipSpace()
		if p.buf[p.pos] == ']' {
			return true
		}
		for i := 0; ; i++ {
			p.skipSpace()
			start := p.pos
			kind, _ := p.value(1)
			if kind != kindString {
				r.fail("member '" + excerpt(name) + "'[" + strconv.Itoa(i) + "]: expected a string, got " + kind.String())
				return true
			}
			out = append(out, stringValue(p.buf[start:p.pos]))
			p.skipSpace()
			if p.buf[p.pos] == ']' {
				return true
			}
			p.pos++ // ','
		}
	}()
	if !ok {
		r.fail(memberName(name) + ": unreadable array")
	}
	return out
}

func (r *memberReader) unsignedInteger(name string, max uint64) uint64 {
	m := r.required(name)
	if m == nil {
		return 0
	}
	if m.kind != kindNumber {
		r.fail(memberName(name) + ": expected an integer, got " + m.kind.String())
		return 0
	}
	text := string(m.raw)
	if !m.integer {
		r.fail(memberName(name) + ": expected an integer, got a number with a fraction or exponent")
		return 0
	}
	if strings.HasPrefix(text, "-") {
		if text == "-0" {
			return 0
		}
		if _, err := strconv.ParseInt(text, 10, 64); err != nil {
			r.fail(memberName(name) + ": expected an integer, got a number with a fraction or exponent")
			return 0
		}
		r.fail(memberName(name) + ": " + text + " is out of range (0 to " + strconv.FormatUint(max, 10) + ")")
		return 0
	}
	u, err := strconv.ParseUint(text, 10, 64)
	if err != nil { // beyond uint64: a double to the C++ reader
		r.fail(memberName(name) + ": expected an integer, got a number with a fraction or exponent")
		return 0
	}
	if u > max {
		r.fail(memberName(name) + ": " + text + " is out of range (at most " + strconv.FormatUint(max, 10) + ")")
		return 0
	}
	return u
}

func (r *memberReader) nonNegative(name string) int64 {
	return int64(r.unsignedInteger(name, int64Max))
}

func (r *memberReader) optionalNonNegative(name string) *int64 {
	if r.present(name) == nil {
		return nil
	}
	v := r.nonNegative(name)
	return &v
}

// trueIfPresent reads an extension attribute with one allowed value (`snapshot`: true or absent).
func (r *memberReader) trueIfPresent(name string) bool {
	m := r.present(name)
	if m == nil {
		return false
	}
	if m.kind == kindBool && string(m.raw) == "true" {
		return true
	}
	got := m.kind.String()
	if m.kind == kindBool {
		got = "false"
	}
	r.fail(memberName(name) + ": expected true or no member, got " + got)
	return false
}

func (r *memberReader) expectExactly(name, expected string, required bool) {
	var m *topMember
	if required {
		m = r.required(name)
	} else {
		m = r.present(name)
	}
	if s, ok := r.asString(name, m); ok && s != expected {
		r.fail(memberName(name) + `: expected "` + expected + `", got "` + excerpt(s) + `"`)
	}
}

// DecodeServer decodes one server frame strictly. scratch may be reused between calls.
func DecodeServer(text []byte, scratch *[]topMember) (ServerFrame, *ProtocolError) {
	members, msg := parseStrictObject(text, MaxServerFrameBytes, *scratch)
	if msg != "" {
		return ServerFrame{}, &ProtocolError{Code: "bad_json", Message: msg}
	}
	*scratch = members
	r := memberReader{members: members}
	var f ServerFrame
	op := r.present("op")
	if op == nil {
		return f, badFrame("missing member 'op'")
	}
	if op.kind != kindString {
		return f, badFrame("member 'op': expected a string, got " + op.kind.String())
	}
	f.Op = stringValue(op.raw)
	switch f.Op {
	case "event":
		r.expectExactly("specversion", "1.0", true)
		f.Event.ID = r.requiredString("id")
		if r.failure == nil {
			if _, ok := ParseEventIDOfEvent(f.Event.ID); !ok {
				r.fail(`member 'id': expected an event id {epoch}-{seq} with seq 1 to 2^53-1, got "` + excerpt(f.Event.ID) + `"`)
			}
		}
		f.Event.Source = r.requiredString("source")
		f.Event.Type = r.requiredString("type")
		f.Event.Subject = r.requiredString("subject")
		f.Event.Time = r.requiredString("time")
		r.expectExactly("datacontenttype", "application/json", false)
		if r.failure == nil && r.present("datacontenttype") != nil {
			f.Event.DataContentType = "application/json"
		}
		f.Event.Topic = r.requiredString("topic")
		f.Event.Tenant = r.requiredString("tenant")
		if m := r.required("data"); m != nil {
			if m.kind != kindObject {
				r.fail("member 'data': expected an object, got " + m.kind.String())
			} else {
				f.Event.Data = m.raw
			}
		}
		f.Event.Snapshot = r.trueIfPresent("snapshot")
	case "subscribed":
		f.Req = r.requestID()
		f.Topics = r.stringArray("topics")
		f.Head = r.optionalString("head", true)
	case "replayed":
		f.Req = r.requestID()
		f.Count = r.unsignedInteger("count", ^uint64(0))
	case "snapshotted":
		f.Req = r.requestID()
		f.Count = r.unsignedInteger("count", ^uint64(0))
	case "pong":
		f.Req = r.requestID()
		f.TimeMS = r.optionalNonNegative("time_ms")
	case "ready":
		f.Sub = r.requiredString("sub")
		f.Tenant = r.requiredString("tenant")
		f.Exp = r.nonNegative("exp")
		f.HeartMS = r.nonNegative("heartbeat_ms")
		f.TimeMS = r.optionalNonNegative("time_ms") // older servers omit it (section 7.2)
		f.Head = r.optionalString("head", true)
	case "unsubscribed":
		f.Req = r.requestID()
		f.Topics = r.stringArray("topics")
		f.Reason = r.requiredString("reason")
	case "refreshed":
		f.Req = r.requestID()
		f.Exp = r.nonNegative("exp")
	case "reset":
		f.Reason = r.requiredString("reason")
		f.From = r.optionalString("from", true)
		f.Pos = r.optionalString("position", true)
	case "overflow":
		f.LagMS = r.nonNegative("lag_ms")
		f.LastID = r.optionalString("last_id", true)
	case "expiring":
		f.Exp = r.nonNegative("exp")
		f.GraceMS = r.nonNegative("grace_ms")
	case "closing":
		f.Reason = r.requiredString("reason")
		f.AfterMS = r.nonNegative("reconnect_after_ms")
	case "error":
		f.Req = r.requestID()
		f.Code = r.requiredString("code")
		f.Message = r.requiredString("message")
		if t := r.optionalString("topic", false); t != nil {
			f.Topic = *t
		}
	default:
		return ServerFrame{}, badFrame("member 'op': unknown op '" + excerpt(f.Op) + "'")
	}
	if r.failure != nil {
		return ServerFrame{}, r.failure
	}
	return f, nil
}

// ---- client frames ---------------------------------------------------------------------------

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			switch c {
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func EncodeAuth(token string) string {
	b := appendJSONString([]byte(`{"op":"auth","token":`), token)
	return string(append(b, '}'))
}

func encodeTopics(op, req string, topics []string, from *string, snapshot, conflate bool) string {
	b := []byte(`{"op":"` + op + `"`)
	if req != "" {
		b = append(b, `,"req":`...)
		b = appendJSONString(b, req)
	}
	b = append(b, `,"topics":[`...)
	for i, t := range topics {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, t)
	}
	b = append(b, ']')
	if from != nil {
		b = append(b, `,"from":`...)
		b = appendJSONString(b, *from)
	}
	if snapshot {
		b = append(b, `,"snapshot":true`...)
	}
	if conflate {
		b = append(b, `,"conflate":true`...)
	}
	return string(append(b, '}'))
}

// EncodeSubscribe writes a subscribe; snapshot and conflate are written only when true.
func EncodeSubscribe(req string, topics []string, from *string, snapshot, conflate bool) string {
	return encodeTopics("subscribe", req, topics, from, snapshot, conflate)
}

func EncodeUnsubscribe(req string, topics []string) string {
	return encodeTopics("unsubscribe", req, topics, nil, false, false)
}

func EncodeRefresh(req, token string) string {
	b := []byte(`{"op":"refresh","req":`)
	b = appendJSONString(b, req)
	b = append(b, `,"token":`...)
	b = appendJSONString(b, token)
	return string(append(b, '}'))
}

func EncodePing(req string) string {
	if req == "" {
		return `{"op":"ping"}`
	}
	return string(append(appendJSONString([]byte(`{"op":"ping","req":`), req), '}'))
}

// JWTExpiry reads `exp` (whole Unix seconds) from a JWT's payload without verifying it.
func JWTExpiry(token string) (int64, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 0, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return 0, false
	}
	var scratch []topMember
	members, msg := parseStrictObject(payload, maxTokenBytes, scratch)
	if msg != "" {
		return 0, false
	}
	for _, m := range members {
		if m.key == "exp" && m.kind == kindNumber && m.integer {
			v, err := strconv.ParseInt(string(m.raw), 10, 64)
			if err != nil {
				return 0, false
			}
			return v, true
		}
	}
	return 0, false
}
