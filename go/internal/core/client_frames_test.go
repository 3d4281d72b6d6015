package core

import "testing"

// The client frames the session writes are the core's canonical forms (tests/vectors/frames.json).
func TestClientFrameVectors(t *testing.T) {
	var v struct {
		Client []struct {
			Name, Canonical string
			OK              bool
		}
	}
	loadVectors(t, "frames.json", &v)
	canon := map[string]string{}
	for _, c := range v.Client {
		if c.OK {
			canon[c.Name] = c.Canonical
		}
	}
	from := "6f1c2a9e-1042"
	for name, got := range map[string]string{
		"subscribe with from":                  EncodeSubscribe("1", []string{"queue.support.depth-changed", "session.*.connected"}, &from, false, false),
		"subscribe with snapshot and conflate": EncodeSubscribe("5", []string{"queue.*.depth-changed", "agent.>"}, nil, true, true),
		"subscribe with from and snapshot (the snapshot instead of the replay if the resume is impossible)": EncodeSubscribe("1", []string{">"}, &from, true, true),
		"subscribe with snapshot and conflate false is written without them":                                EncodeSubscribe("1", []string{">"}, nil, false, false),
	} {
		if canon[name] == "" || got != canon[name] {
			t.Errorf("%s: %s, vector %q", name, got, canon[name])
		}
	}
}
