package core

import (
	"strconv"
	"strings"
)

// Topic grammar (docs/protocol.md section 4), with the same messages as core/src/topic.cpp:
// the first rule broken, left to right, naming the segment (from 1) or byte offset (from 0).

const (
	maxTopicBytes   = 255
	maxSegmentBytes = 64
	maxSegments     = 16
	nameSegments    = 3
)

func isSegmentChar(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'
}

func isPrintableASCII(c byte) bool { return c >= 0x20 && c < 0x7f }

const hexDigits = "0123456789abcdef"

func appendHex(b *strings.Builder, c byte) {
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&0x0f])
}

func quoted(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if isPrintableASCII(s[i]) {
			b.WriteByte(s[i])
		} else {
			b.WriteString(`\x`)
			appendHex(&b, s[i])
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func invalidTopic(msg string) *ProtocolError {
	return &ProtocolError{Code: "invalid_topic", Message: msg}
}

func segmentError(pattern bool, seg string, number, offset int, last bool) *ProtocolError {
	n := strconv.Itoa(number)
	if seg == "*" || seg == ">" {
		if !pattern {
			return invalidTopic("a topic name cannot contain wildcards (segment " + n + ": " + quoted(seg) + ")")
		}
		if seg == ">" && !last {
			return invalidTopic("'>' must be the last segment (found at segment " + n + ")")
		}
		return nil
	}
	if len(seg) > maxSegmentBytes {
		return invalidTopic("segment " + n + " is longer than 64 bytes (" + strconv.Itoa(len(seg)) + " bytes)")
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c == '*' || c == '>' {
			msg := "a topic name cannot contain wildcards"
			if pattern {
				msg = "wildcard '" + string(c) + "' must be a whole segment"
			}
			return invalidTopic(msg + " (segment " + n + ": " + quoted(seg) + ")")
		}
		if !isSegmentChar(c) {
			var b strings.Builder
			switch {
			case isPrintableASCII(c):
				b.WriteString("character '" + string(c) + "'")
			case c >= 0x80:
				b.WriteString("non-ASCII byte 0x")
				appendHex(&b, c)
			default:
				b.WriteString("control character 0x")
				appendHex(&b, c)
			}
			b.WriteString(" at byte " + strconv.Itoa(offset+i) + " is not allowed (segment " + n + "; segments use A-Z a-z 0-9 _ -)")
			return invalidTopic(b.String())
		}
	}
	return nil
}

func validateTopic(text string, pattern bool) *ProtocolError {
	noun := "topic name"
	if pattern {
		noun = "topic pattern"
	}
	if text == "" {
		return invalidTopic("a " + noun + " cannot be empty")
	}
	if len(text) > maxTopicBytes {
		return invalidTopic("a " + noun + " is longer than 255 bytes (" + strconv.Itoa(len(text)) + " bytes)")
	}
	count, offset := 0, 0
	for {
		dot := strings.IndexByte(text[offset:], '.')
		last := dot < 0
		end := len(text)
		if !last {
			end = offset + dot
		}
		seg := text[offset:end]
		count++
		if pattern && count > maxSegments {
			return invalidTopic("a topic pattern has more than 16 segments")
		}
		if seg == "" {
			msg := "segment " + strconv.Itoa(count) + " is empty"
			switch {
			case offset == 0:
				msg += " (the topic starts with '.')"
			case offset == len(text):
				msg += " (the topic ends with '.')"
			default:
				msg += " ('..' at byte " + strconv.Itoa(offset-1) + ")"
			}
			return invalidTopic(msg)
		}
		if e := segmentError(pattern, seg, count, offset, last); e != nil {
			return e
		}
		if last {
			break
		}
		offset = end + 1
	}
	if !pattern && count != nameSegments {
		return invalidTopic("a topic name has exactly 3 segments {stream}.{key}.{event} (found " + strconv.Itoa(count) + ")")
	}
	return nil
}

// matchRuleError is for a pattern that obeys the grammar: a name has exactly three segments, so a
// pattern without '>' needs three, and one ending in '>' (one or more segments) at most three.
func matchRuleError(p string) *ProtocolError {
	segments := strings.Count(p, ".") + 1
	tail := p == ">" || strings.HasSuffix(p, ".>")
	if (tail && segments <= nameSegments) || (!tail && segments == nameSegments) {
		return nil
	}
	how := "has "
	if tail {
		how = "needs at least "
	}
	return invalidTopic("a topic pattern can never match a topic name: names have exactly 3 segments {stream}.{key}.{event} (the pattern " +
		how + strconv.Itoa(segments) + ")")
}

// ValidatePattern reports the first rule a subscription pattern breaks, or nil; a pattern that
// can match no topic name (queue.support, a.b.c.d) is refused too.
func ValidatePattern(p string) *ProtocolError {
	if e := validateTopic(p, true); e != nil {
		return e
	}
	return matchRuleError(p)
}

// ValidateName reports the first rule a topic name breaks, or nil.
func ValidateName(n string) *ProtocolError { return validateTopic(n, false) }

// nextSegment splits off the first '.'-separated segment; ok is false when s is exhausted.
func nextSegment(s string, done bool) (seg, rest string, restDone bool) {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[:i], s[i+1:], false
	}
	return s, "", true
}

// Matches reports whether a pattern matches a topic name ('*' one segment, final '>' the rest).
func Matches(pattern, name string) bool {
	pDone, nDone := pattern == "", name == ""
	for !pDone {
		var ps, ns string
		ps, pattern, pDone = nextSegment(pattern, pDone)
		if ps == ">" {
			return !nDone
		}
		if nDone {
			return false
		}
		ns, name, nDone = nextSegment(name, nDone)
		if ps != "*" && ps != ns {
			return false
		}
	}
	return nDone
}

// shape is the names a pattern can match, one entry per name segment: a literal or "*" (a final
// '>' stands for "*" in each position it reaches); ok is false when it can match no name.
func shape(p string) (s [nameSegments]string, ok bool) {
	count, done := 0, p == ""
	for !done {
		var seg string
		seg, p, done = nextSegment(p, done)
		if seg == ">" {
			if count == nameSegments || !done {
				return s, false
			}
			for ; count < nameSegments; count++ {
				s[count] = "*"
			}
			return s, true
		}
		if count == nameSegments {
			return s, false
		}
		s[count] = seg
		count++
	}
	return s, count == nameSegments
}

// Contains reports whether every topic name inner can match is matched by outer, judged over the
// names that exist (three segments): queue.support.* contains queue.support.>.
func Contains(outer, inner string) bool {
	o, okOuter := shape(outer)
	i, okInner := shape(inner)
	if !okOuter || !okInner {
		return false
	}
	for k := range o {
		if o[k] != "*" && o[k] != i[k] {
			return false
		}
	}
	return true
}
