package core

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Strict JSON (docs/protocol.md section 2), as core/src/strict_json.cpp reads it: duplicate
// member names anywhere, non-finite numbers, invalid UTF-8, lone surrogate escapes, a byte
// order mark, nesting deeper than 64 levels, trailing data or a top level other than an object
// make the text invalid (`bad_json`). The parser validates the whole text in one pass without
// building a tree; it keeps only the top-level members, each as its raw span, which the frame
// decoder reads by name. Nested values (an event's `data`) stay raw bytes.

const maxDepth = 64

type jsonKind uint8

const (
	kindNull jsonKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k jsonKind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

type topMember struct {
	key     string
	kind    jsonKind
	integer bool // a number without fraction or exponent
	raw     []byte
}

type pathEntry struct {
	key   []byte // nil for an array index
	index int
}

type jsonParser struct {
	buf     []byte
	pos     int
	members []topMember
	path    []pathEntry
	err     string
}

type jsonFail struct{}

func (p *jsonParser) fail(msg string) {
	if p.err == "" {
		p.err = msg
	}
	panic(jsonFail{})
}

// parseStrictObject validates text and returns its top-level members, or a bad_json message.
func parseStrictObject(text []byte, maxBytes int, members []topMember) (out []topMember, errMsg string) {
	if len(text) > maxBytes {
		return nil, "input of " + strconv.Itoa(len(text)) + " bytes is larger than the limit of " + strconv.Itoa(maxBytes) + " bytes"
	}
	if len(text) >= 3 && text[0] == 0xEF && text[1] == 0xBB && text[2] == 0xBF {
		return nil, "a byte order mark is not allowed"
	}
	p := jsonParser{buf: text, members: members[:0]}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(jsonFail); !ok {
				panic(r)
			}
			out, errMsg = nil, p.err
		}
	}()
	p.skipSpace()
	if p.pos >= len(p.buf) {
		p.fail("unexpected end of input")
	}
	if p.buf[p.pos] != '{' {
		kind := p.peekKind()
		p.value(0)
		p.fail("expected a JSON object at the top level, got " + kind.String())
	}
	p.object(1, true)
	p.skipSpace()
	if p.pos < len(p.buf) {
		p.fail("unexpected data after the JSON object at byte " + strconv.Itoa(p.pos))
	}
	return p.members, ""
}

func (p *jsonParser) peekKind() jsonKind {
	switch c := p.buf[p.pos]; {
	case c == '{':
		return kindObject
	case c == '[':
		return kindArray
	case c == '"':
		return kindString
	case c == 't' || c == 'f':
		return kindBool
	case c == 'n':
		return kindNull
	default:
		return kindNumber
	}
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.buf) {
		switch p.buf[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) invalid(what string) {
	if p.pos >= len(p.buf) {
		p.fail("unexpected end of input")
	}
	p.fail("invalid JSON (" + what + " at byte " + strconv.Itoa(p.pos) + ")")
}

func (p *jsonParser) expect(c byte) {
	p.skipSpace()
	if p.pos >= len(p.buf) || p.buf[p.pos] != c {
		p.invalid("expected '" + string(c) + "'")
	}
	p.pos++
}

func (p *jsonParser) pathString() string {
	var b strings.Builder
	for _, e := range p.path {
		if e.key != nil {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString("'" + excerpt(string(e.key)) + "'")
		} else {
			b.WriteString("[" + strconv.Itoa(e.index) + "]")
		}
	}
	return b.String()
}

func excerpt(s string) string {
	const limit = 32
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// value parses one value at nesting `depth` (its container's level) and returns its kind.
func (p *jsonParser) value(depth int) (jsonKind, bool) {
	p.skipSpace()
	if p.pos >= len(p.buf) {
		p.fail("unexpected end of input")
	}
	switch c := p.buf[p.pos]; {
	case c == '{':
		p.object(depth+1, false)
		return kindObject, false
	case c == '[':
		p.array(depth + 1)
		return kindArray, false
	case c == '"':
		p.str()
		return kindString, false
	case c == 't':
		p.literal("true")
		return kindBool, false
	case c == 'f':
		p.literal("false")
		return kindBool, false
	case c == 'n':
		p.literal("null")
		return kindNull, false
	case c == '-' || (c >= '0' && c <= '9'):
		return kindNumber, p.number()
	default:
		p.invalid("unexpected character")
	}
	return kindNull, false
}

func (p *jsonParser) literal(word string) {
	if len(p.buf)-p.pos < len(word) {
		if string(p.buf[p.pos:]) == word[:len(p.buf)-p.pos] {
			p.pos = len(p.buf)
			p.fail("unexpected end of input")
		}
		p.invalid("unexpected character")
	}
	if string(p.buf[p.pos:p.pos+len(word)]) != word {
		p.invalid("unexpected character")
	}
	p.pos += len(word)
}

func (p *jsonParser) deeper(depth int) {
	if depth > maxDepth {
		p.fail("nested deeper than 64 levels")
	}
}

func (p *jsonParser) object(depth int, top bool) {
	p.deeper(depth)
	p.pos++ // '{'
	var keys [][]byte
	var keySet map[string]struct{}
	p.skipSpace()
	if p.pos < len(p.buf) && p.buf[p.pos] == '}' {
		p.pos++
		return
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.buf) {
			p.fail("unexpected end of input")
		}
		if p.buf[p.pos] != '"' {
			p.invalid("expected a member name")
		}
		start := p.pos
		escaped := p.str()
		key := p.buf[start+1 : p.pos-1]
		if escaped {
			key = []byte(unescape(key))
		}
		// Duplicate names: a linear scan for small objects, a set beyond 16 members.
		dup := false
		if keySet != nil {
			_, dup = keySet[string(key)]
			keySet[string(key)] = struct{}{}
		} else {
			for _, k := range keys {
				if string(k) == string(key) {
					dup = true
					break
				}
			}
			keys = append(keys, key)
			if len(keys) > 16 {
				keySet = make(map[string]struct{}, 32)
				for _, k := range keys {
					keySet[string(k)] = struct{}{}
				}
			}
		}
		if dup {
			where := "the top-level object"
			if len(p.path) > 0 {
				where = "member " + p.pathString()
			}
			p.fail("duplicate member name '" + excerpt(string(key)) + "' in " + where)
		}
		p.expect(':')
		p.path = append(p.path, pathEntry{key: key})
		p.skipSpace()
		vstart := p.pos
		kind, integer := p.value(depth)
		if top {
			p.members = append(p.members, topMember{key: string(key), kind: kind, integer: integer, raw: p.buf[vstart:p.pos]})
		}
		p.path = p.path[:len(p.path)-1]
		p.skipSpace()
		if p.pos >= len(p.buf) {
			p.fail("unexpected end of input")
		}
		switch p.buf[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return
		default:
			p.invalid("expected ',' or '}'")
		}
	}
}

func (p *jsonParser) array(depth int) {
	p.deeper(depth)
	p.pos++ // '['
	p.skipSpace()
	if p.pos < len(p.buf) && p.buf[p.pos] == ']' {
		p.pos++
		return
	}
	for i := 0; ; i++ {
		p.path = append(p.path, pathEntry{index: i})
		p.value(depth)
		p.path = p.path[:len(p.path)-1]
		p.skipSpace()
		if p.pos >= len(p.buf) {
			p.fail("unexpected end of input")
		}
		switch p.buf[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return
		default:
			p.invalid("expected ',' or ']'")
		}
	}
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// str validates a string starting at '"' and reports whether it holds escapes.
func (p *jsonParser) str() (escaped bool) {
	p.pos++
	for {
		if p.pos >= len(p.buf) {
			p.fail("unexpected end of input")
		}
		c := p.buf[p.pos]
		switch {
		case c == '"':
			p.pos++
			return escaped
		case c == '\\':
			escaped = true
			if p.pos+1 >= len(p.buf) {
				p.fail("unexpected end of input")
			}
			switch p.buf[p.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.pos += 2
			case 'u':
				r, ok := hex4(p.buf[p.pos+2:])
				if !ok {
					p.invalid("bad \\u escape")
				}
				at := p.pos
				p.pos += 6
				if r >= 0xD800 && r < 0xDC00 {
					lo, ok := rune(0), false
					if p.pos+1 < len(p.buf) && p.buf[p.pos] == '\\' && p.buf[p.pos+1] == 'u' {
						lo, ok = hex4(p.buf[p.pos+2:])
					}
					if !ok || lo < 0xDC00 || lo > 0xDFFF {
						p.fail("lone UTF-16 surrogate " + string(p.buf[at:at+6]) + " at byte " + strconv.Itoa(at))
					}
					p.pos += 6
				} else if r >= 0xDC00 && r <= 0xDFFF {
					p.fail("lone UTF-16 surrogate " + string(p.buf[at:at+6]) + " at byte " + strconv.Itoa(at))
				}
			default:
				p.invalid("bad escape")
			}
		case c < 0x20:
			p.invalid("control character in a string")
		case c < 0x80:
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.buf[p.pos:])
			if r == utf8.RuneError && size <= 1 {
				p.fail("invalid UTF-8 at byte " + strconv.Itoa(p.pos))
			}
			p.pos += size
		}
	}
}

// number validates a number and reports whether it is an integer (no fraction, no exponent).
func (p *jsonParser) number() bool {
	start := p.pos
	if p.buf[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.buf) && p.buf[p.pos] >= '0' && p.buf[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.pos >= len(p.buf) {
		p.fail("unexpected end of input")
	}
	intStart := p.pos
	n := digits()
	if n == 0 {
		p.invalid("bad number")
	}
	if n > 1 && p.buf[intStart] == '0' {
		p.pos = intStart + 1
		p.invalid("leading zero")
	}
	integer, check := true, n > 300
	if p.pos < len(p.buf) && p.buf[p.pos] == '.' {
		p.pos++
		integer = false
		if digits() == 0 {
			p.invalid("bad number")
		}
	}
	if p.pos < len(p.buf) && (p.buf[p.pos] == 'e' || p.buf[p.pos] == 'E') {
		p.pos++
		integer, check = false, true
		if p.pos < len(p.buf) && (p.buf[p.pos] == '+' || p.buf[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			p.invalid("bad number")
		}
	}
	// Only an exponent or a very long literal can leave the range of a double.
	if check {
		f, _ := strconv.ParseFloat(string(p.buf[start:p.pos]), 64)
		if math.IsInf(f, 0) {
			p.fail("member " + p.pathString() + ": number out of range (not finite)")
		}
	}
	return integer
}

// unescape decodes the body of a JSON string already validated by str().
func unescape(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			sb.WriteByte(c)
			continue
		}
		i++
		switch b[i] {
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			r, _ := hex4(b[i+1:])
			i += 4
			if r >= 0xD800 && r < 0xDC00 {
				lo, _ := hex4(b[i+3:])
				r = utf16.DecodeRune(r, lo)
				i += 6
			}
			sb.WriteRune(r)
		default: // '"', '\\', '/'
			sb.WriteByte(b[i])
		}
	}
	return sb.String()
}

// stringValue decodes a raw string value (quotes included).
func stringValue(raw []byte) string {
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' {
			return unescape(body)
		}
	}
	return string(body)
}
