package core

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzServerFrame feeds arbitrary bytes to a live session as a server frame: nothing may
// panic, and a frame is either refused with a code or decoded. Seeds: every server and
// strict-JSON vector. `go test` runs the seeds; `go test -fuzz FuzzServerFrame` explores.
func FuzzServerFrame(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "tests", "vectors", "frames.json"))
	if err != nil {
		f.Fatal(err)
	}
	var v map[string][]struct {
		Input       string `json:"input"`
		InputBase64 string `json:"input_base64"`
	}
	json.Unmarshal(raw, &v)
	for _, list := range [][]struct {
		Input       string `json:"input"`
		InputBase64 string `json:"input_base64"`
	}{v["server"], v["strict_json"]} {
		for _, c := range list {
			if c.InputBase64 != "" {
				b, _ := base64.StdEncoding.DecodeString(c.InputBase64)
				f.Add(b)
			} else {
				f.Add([]byte(c.Input))
			}
		}
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		var scratch []topMember
		if _, perr := DecodeServer(frame, &scratch); perr != nil && perr.Code != "bad_json" && perr.Code != "bad_frame" {
			t.Fatalf("code %q", perr.Code)
		}
		h := newHarness(t, true)
		h.s.Subscribe(h.tick(), ">", false)
		h.live(jwt(h.now/1000 + 900))
		h.s.Frame(h.tick(), 1, frame)
		h.s.TakeActions()
		JWTExpiry(string(frame))
	})
}
