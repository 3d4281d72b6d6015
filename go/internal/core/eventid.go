package core

import "strconv"

// EventID is a parsed `{epoch}-{seq}` (docs/protocol.md section 5). Seq 0 names the position
// before an epoch's first event: valid as a position, never as an event's id.
type EventID struct {
	Epoch string
	Seq   uint64
}

const maxSeq = 1<<53 - 1

// ParseEventID parses a position (seq 0 allowed).
func ParseEventID(s string) (EventID, bool) {
	dash := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			dash = i
			break
		}
	}
	if dash < 1 || dash > 16 || dash == len(s)-1 {
		return EventID{}, false
	}
	for i := 0; i < dash; i++ {
		c := s[i]
		if !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
			return EventID{}, false
		}
	}
	digits := s[dash+1:]
	if len(digits) > 16 || (len(digits) > 1 && digits[0] == '0') {
		return EventID{}, false
	}
	var seq uint64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return EventID{}, false
		}
		seq = seq*10 + uint64(c-'0')
	}
	if seq > maxSeq {
		return EventID{}, false
	}
	return EventID{Epoch: s[:dash], Seq: seq}, true
}

// ParseEventIDOfEvent parses an id an event may carry (seq >= 1).
func ParseEventIDOfEvent(s string) (EventID, bool) {
	id, ok := ParseEventID(s)
	if !ok || id.Seq == 0 {
		return EventID{}, false
	}
	return id, true
}

func (id EventID) String() string { return id.Epoch + "-" + strconv.FormatUint(id.Seq, 10) }

// resumeState keeps the last delivered id and decides about each incoming event.
type resumeState struct {
	last    EventID
	hasLast bool
}

type verdict int

const (
	verdictDeliver verdict = iota
	verdictDuplicate
	verdictEpochChanged
	verdictInvalidID
)

func (r *resumeState) accept(id string) verdict {
	parsed, ok := ParseEventIDOfEvent(id)
	if !ok {
		return verdictInvalidID
	}
	if r.hasLast {
		// Across epochs there is no order: the server owes a `reset`.
		if parsed.Epoch != r.last.Epoch {
			return verdictEpochChanged
		}
		if parsed.Seq <= r.last.Seq {
			return verdictDuplicate
		}
	}
	r.last, r.hasLast = parsed, true
	return verdictDeliver
}

// resetTo takes a reset's position; one that is not an id forgets the last id (the only choice
// that neither drops what follows nor rejects its epoch).
func (r *resumeState) resetTo(position *string) {
	if position != nil {
		if p, ok := ParseEventID(*position); ok {
			r.last, r.hasLast = p, true
			return
		}
	}
	r.hasLast = false
}

func (r *resumeState) setLast(id string) bool {
	p, ok := ParseEventID(id)
	if !ok {
		return false
	}
	r.last, r.hasLast = p, true
	return true
}

func (r *resumeState) lastString() (string, bool) {
	if !r.hasLast {
		return "", false
	}
	return r.last.String(), true
}
