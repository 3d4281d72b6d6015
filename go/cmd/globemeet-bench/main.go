// Command globemeet-bench measures events per second delivered to one subscriber: the Go
// client (globemeet.Client, one `>` subscription) against a plain coder/websocket reader
// that does encoding/json on each frame, on the same server and the same burst, in the same
// run. Each subscriber is its own process (this binary again, with -role), so neither takes
// CPU from the other's process; each reports its wall time from first to last event and its
// own CPU time (user + system). Usage: go run ./cmd/globemeet-bench [-events N] [-runs K]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/coder/websocket"

	globemeet "github.com/globemeet/globemeet-events/go"
	"github.com/globemeet/globemeet-events/go/internal/testserver"
)

type result struct {
	Role   string  `json:"role"`
	Events int     `json:"events"`
	WallS  float64 `json:"wall_s"`
	CPUS   float64 `json:"cpu_s"`
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// plain: what a developer writes without the library.
func plain(endpoint, token string, n int) result {
	ctx := context.Background()
	h := map[string][]string{"Authorization": {"Bearer " + token}}
	ws, _, err := websocket.Dial(ctx, endpoint, &websocket.DialOptions{Subprotocols: []string{"globemeet-events.v1"}, HTTPHeader: h})
	if err != nil {
		fail(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	ws.Write(ctx, websocket.MessageText, []byte(`{"op":"subscribe","req":"1","topics":[">"]}`))
	type envelope struct {
		Op, ID, Type, Topic, Subject, Source, Time, Tenant string
		Data                                               json.RawMessage
	}
	count := 0
	var first time.Time
	var cpu0 float64
	for count < n {
		_, data, err := ws.Read(ctx)
		if err != nil {
			fail(err)
		}
		var e envelope
		if err := json.Unmarshal(data, &e); err != nil {
			fail(err)
		}
		if e.Op == "subscribed" {
			fmt.Println("ready")
		}
		if e.Op != "event" {
			continue
		}
		if count == 0 {
			first, cpu0 = time.Now(), cpuSeconds()
		}
		count++
	}
	return result{Role: "plain", Events: n, WallS: time.Since(first).Seconds(), CPUS: cpuSeconds() - cpu0}
}

func client(endpoint, token string, n int) result {
	ctx := context.Background()
	c, err := globemeet.Dial(ctx, globemeet.Options{Endpoint: endpoint, Token: token})
	if err != nil {
		fail(err)
	}
	defer c.Close()
	count := 0
	var first time.Time
	var cpu0 float64
	done := make(chan struct{})
	sub, err := c.Subscribe(">", func(e globemeet.AnyEvent) {
		if count == 0 {
			first, cpu0 = time.Now(), cpuSeconds()
		}
		count++
		if count == n {
			close(done)
		}
	})
	if err != nil {
		fail(err)
	}
	for c.LastEventID() == "" { // subscribed: the server's head is the position
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Println("ready")
	<-done
	sub.Unsubscribe()
	return result{Role: "client", Events: n, WallS: time.Since(first).Seconds(), CPUS: cpuSeconds() - cpu0}
}

func main() {
	role := flag.String("role", "", "internal: plain or client")
	endpoint := flag.String("endpoint", "", "internal")
	token := flag.String("token", "", "internal")
	events := flag.Int("events", 100000, "events in the burst")
	runs := flag.Int("runs", 3, "bursts, each on a fresh server")
	flag.Parse()
	if *role != "" {
		var r result
		if *role == "plain" {
			r = plain(*endpoint, *token, *events)
		} else {
			r = client(*endpoint, *token, *events)
		}
		b, _ := json.Marshal(r)
		fmt.Println(string(b))
		return
	}
	self, _ := os.Executable()
	fmt.Printf("%d events per burst, %d runs; events/s from first to last event, CPU per event of the subscriber process\n", *events, *runs)
	for run := 1; run <= *runs; run++ {
		// Limits wide enough that neither subscriber is dropped on a busy machine: the bench
		// measures delivery, not the overflow policy.
		s, err := testserver.Start("--overflow-lag-ms", "600000", "--max-queue-bytes", "1073741824")
		if err != nil {
			fail(err)
		}
		token := s.Mint(nil)
		var procs []*exec.Cmd
		var outs []*bufio.Scanner
		for _, r := range []string{"plain", "client"} {
			cmd := exec.Command(self, "-role", r, "-endpoint", s.WSURL(), "-token", token, "-events", fmt.Sprint(*events))
			cmd.Stderr = os.Stderr
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				fail(err)
			}
			sc := bufio.NewScanner(out)
			sc.Scan() // "ready"
			procs, outs = append(procs, cmd), append(outs, sc)
		}
		// The burst: batches of 1,000 over POST /v1/events.
		for sent := 0; sent < *events; sent += 1000 {
			batch := make([]globemeet.PublishEvent, min(1000, *events-sent))
			for i := range batch {
				batch[i] = globemeet.PublishEvent{Type: "queue.depth-changed", Subject: "support",
					Data: globemeet.QueueDepthChanged{QueueID: "support", Depth: float64(sent + i), LongestWaitSeconds: 42}}
			}
			if _, err := globemeet.Publish(context.Background(), s.HTTPURL(), token, batch...); err != nil {
				fail(err)
			}
		}
		var res []result
		for i, sc := range outs {
			sc.Scan()
			var r result
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				fail(fmt.Errorf("subscriber said %q", sc.Text()))
			}
			procs[i].Wait()
			res = append(res, r)
		}
		s.Stop()
		p, c := res[0], res[1]
		pr, cr := float64(p.Events)/p.WallS, float64(c.Events)/c.WallS
		fmt.Printf("run %d: plain %.0f events/s (%.2f us CPU/event), client %.0f events/s (%.2f us CPU/event): %.2fx wall, %.2fx per CPU-second\n",
			run, pr, p.CPUS/float64(p.Events)*1e6, cr, c.CPUS/float64(c.Events)*1e6, cr/pr, p.CPUS/c.CPUS)
	}
}
