package core

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The shared vectors of tests/vectors, which the C++ core and the npm package pass too.

func loadVectors(t *testing.T, name string, into any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "tests", "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatal(err)
	}
}

func TestTopicVectors(t *testing.T) {
	var v struct {
		ValidateName, ValidatePattern []struct {
			Input           string `json:"input"`
			Valid           bool   `json:"valid"`
			MessageContains string `json:"message_contains"`
		}
		Matches []struct {
			Pattern, Name string
			Expected      bool
		}
		Contains []struct {
			Outer, Inner string
			Expected     bool
		}
	}
	var raw map[string]json.RawMessage
	loadVectors(t, "topics.json", &raw)
	json.Unmarshal(raw["validate_name"], &v.ValidateName)
	json.Unmarshal(raw["validate_pattern"], &v.ValidatePattern)
	json.Unmarshal(raw["matches"], &v.Matches)
	json.Unmarshal(raw["contains"], &v.Contains)
	check := func(kind string, f func(string) *ProtocolError, input string, valid bool, contains string) {
		err := f(input)
		if (err == nil) != valid {
			t.Errorf("%s(%q): valid=%v, got %v", kind, input, valid, err)
			return
		}
		if err != nil && (err.Code != "invalid_topic" || !strings.Contains(err.Message, contains)) {
			t.Errorf("%s(%q): %q does not contain %q", kind, input, err.Message, contains)
		}
	}
	for _, c := range v.ValidateName {
		check("name", ValidateName, c.Input, c.Valid, c.MessageContains)
	}
	for _, c := range v.ValidatePattern {
		check("pattern", ValidatePattern, c.Input, c.Valid, c.MessageContains)
	}
	if len(v.ValidateName) == 0 || len(v.ValidatePattern) == 0 || len(v.Matches) == 0 || len(v.Contains) == 0 {
		t.Fatal("vectors missing")
	}
	for _, c := range v.Matches {
		if Matches(c.Pattern, c.Name) != c.Expected {
			t.Errorf("Matches(%q, %q) != %v", c.Pattern, c.Name, c.Expected)
		}
	}
	for _, c := range v.Contains {
		if Contains(c.Outer, c.Inner) != c.Expected {
			t.Errorf("Contains(%q, %q) != %v", c.Outer, c.Inner, c.Expected)
		}
	}
}

func TestEventIDVectors(t *testing.T) {
	var v struct {
		Parse []struct {
			Input string
			Valid bool
			Epoch string
			Seq   uint64
			Event bool
		}
	}
	loadVectors(t, "event_ids.json", &v)
	for _, c := range v.Parse {
		id, ok := ParseEventID(c.Input)
		if ok != c.Valid {
			t.Errorf("ParseEventID(%q): ok=%v, want %v", c.Input, ok, c.Valid)
			continue
		}
		if ok && (id.Epoch != c.Epoch || id.Seq != c.Seq || id.String() != c.Input) {
			t.Errorf("ParseEventID(%q) = %+v", c.Input, id)
		}
		if _, ev := ParseEventIDOfEvent(c.Input); ev != (c.Valid && c.Event) {
			t.Errorf("ParseEventIDOfEvent(%q) = %v", c.Input, ev)
		}
	}
}

func TestBackoffVectors(t *testing.T) {
	var v struct {
		Delay []struct {
			Policy struct {
				MinMS  int64   `json:"min_ms"`
				MaxMS  int64   `json:"max_ms"`
				Factor float64 `json:"factor"`
			}
			Attempt    uint32
			Random     float64
			ExpectedMS int64 `json:"expected_ms"`
		}
	}
	loadVectors(t, "backoff.json", &v)
	for _, c := range v.Delay {
		p := BackoffPolicy{MinMS: c.Policy.MinMS, MaxMS: c.Policy.MaxMS, Factor: c.Policy.Factor}
		if got := p.Delay(c.Attempt, c.Random); got != c.ExpectedMS {
			t.Errorf("%+v attempt %d random %v: %d, want %d", p, c.Attempt, c.Random, got, c.ExpectedMS)
		}
	}
}

type frameVector struct {
	Name            string
	Input           string
	InputBase64     string `json:"input_base64"`
	OK              bool
	Code            string
	MessageContains string `json:"message_contains"`
	MaxBytes        int    `json:"max_bytes"`
}

func (v frameVector) bytes(t *testing.T) []byte {
	if v.InputBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(v.InputBase64)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return []byte(v.Input)
}

func TestStrictJSONVectors(t *testing.T) {
	var v struct {
		StrictJSON []frameVector `json:"strict_json"`
		Server     []frameVector
	}
	loadVectors(t, "frames.json", &v)
	for _, c := range v.StrictJSON {
		max := MaxServerFrameBytes
		if c.MaxBytes != 0 {
			max = c.MaxBytes
		}
		_, msg := parseStrictObject(c.bytes(t), max, nil)
		if (msg == "") != c.OK {
			t.Errorf("%s: ok=%v, got %q", c.Name, c.OK, msg)
		} else if !c.OK && !strings.Contains(msg, c.MessageContains) {
			t.Errorf("%s: %q does not contain %q", c.Name, msg, c.MessageContains)
		}
	}
}

func TestServerFrameVectors(t *testing.T) {
	var v struct{ Server []frameVector }
	loadVectors(t, "frames.json", &v)
	var scratch []topMember
	for _, c := range v.Server {
		_, err := DecodeServer(c.bytes(t), &scratch)
		if (err == nil) != c.OK {
			t.Errorf("%s: ok=%v, got %v", c.Name, c.OK, err)
		} else if err != nil && (err.Code != c.Code || !strings.Contains(err.Message, c.MessageContains)) {
			t.Errorf("%s: got %v, want %s containing %q", c.Name, err, c.Code, c.MessageContains)
		}
	}
}
