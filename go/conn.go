package globemeet

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/globemeet/globemeet-events/go/internal/core"
)

// wsConn is one WebSocket connection the session opened: a goroutine that dials and then
// reads, and a goroutine that writes. It reports to the session (under the client's lock)
// and never decides anything itself.
type wsConn struct {
	c      *Client
	id     uint64
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	ws      *websocket.Conn
	out     []string
	wake    chan struct{}
	aborted bool // the session closed it (close action) or the client closed
	code    int
	reason  string
}

func newWSConn(c *Client, id uint64) *wsConn {
	// Not derived from c.ctx: Close ends each connection with a close frame, not a cut.
	ctx, cancel := context.WithCancel(context.Background())
	return &wsConn{c: c, id: id, ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1)}
}

// Handshake refusals are reported as close codes (client_session.hpp): 401 4401, 403 4403,
// 429 4029, other 4xx 4400, 5xx 1011, anything else (network) 1006.
func refusedCode(resp *http.Response) int {
	if resp == nil {
		return 1006
	}
	switch s := resp.StatusCode; {
	case s == 401:
		return 4401
	case s == 403:
		return 4403
	case s == 429:
		return 4029
	case s >= 400 && s < 500:
		return 4400
	case s >= 500:
		return 1011
	}
	return 1006
}

func (w *wsConn) run(url, authorization, lastEventID string) {
	defer w.c.wg.Done()
	defer w.cancel()
	h := http.Header{}
	for k, v := range w.c.opts.Header {
		h[k] = v
	}
	if authorization != "" {
		h.Set("Authorization", authorization)
	}
	if lastEventID != "" {
		h.Set("Last-Event-ID", lastEventID)
	}
	ws, resp, err := websocket.Dial(w.ctx, url, &websocket.DialOptions{
		HTTPClient: w.c.opts.HTTPClient, HTTPHeader: h, Subprotocols: []string{core.Subprotocol},
	})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		w.report(refusedCode(resp), "handshake failed: "+err.Error())
		return
	}
	ws.SetReadLimit(core.MaxServerFrameBytes)

	w.mu.Lock()
	aborted := w.aborted
	if !aborted {
		w.ws = ws
	}
	w.mu.Unlock()
	if aborted {
		ws.CloseNow()
		return
	}
	w.c.mu.Lock()
	if !w.c.closing {
		w.c.s.Opened(w.c.tick(), w.id)
		w.c.perform()
	}
	w.c.mu.Unlock()

	w.c.wg.Add(1)
	go w.writeLoop()
	w.readLoop(ws)
}

func (w *wsConn) readLoop(ws *websocket.Conn) {
	for {
		_, data, err := ws.Read(w.ctx)
		if err != nil {
			code, reason := 1006, err.Error()
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				code, reason = int(ce.Code), ce.Reason
			}
			w.report(code, reason)
			return
		}
		w.c.mu.Lock()
		if w.c.closing {
			w.c.mu.Unlock()
			return
		}
		w.c.s.Frame(w.c.tick(), w.id, data)
		w.c.perform()
		w.c.mu.Unlock()
		w.c.d.wait()
	}
}

// report tells the session that the connection ended (ignored if it gave up on it already).
func (w *wsConn) report(code int, reason string) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	if w.c.closing {
		return
	}
	if w.c.conns[w.id] == w {
		delete(w.c.conns, w.id)
	}
	w.c.s.Closed(w.c.tick(), w.id, uint16(code), reason)
	w.c.perform()
}

func (w *wsConn) send(text string) {
	w.mu.Lock()
	w.out = append(w.out, text)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *wsConn) writeLoop() {
	defer w.c.wg.Done()
	for {
		w.mu.Lock()
		out := w.out
		w.out = nil
		aborted, ws := w.aborted, w.ws
		w.mu.Unlock()
		for _, text := range out {
			if err := ws.Write(w.ctx, websocket.MessageText, []byte(text)); err != nil {
				return // the reader sees the failure and reports it
			}
		}
		if aborted {
			w.closeSocket(ws)
			return
		}
		select {
		case <-w.wake:
		case <-w.ctx.Done():
			return
		}
	}
}

// closeSocket sends the close frame and waits a little for the server's answer.
func (w *wsConn) closeSocket(ws *websocket.Conn) {
	w.mu.Lock()
	code, reason := w.code, w.reason
	w.mu.Unlock()
	done := make(chan struct{})
	go func() {
		ws.Close(websocket.StatusCode(code), reason)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		ws.CloseNow()
		<-done
	}
	w.cancel()
}

// close is the session's close action: after frames already queued, send the close frame; a
// connection still dialing is aborted.
func (w *wsConn) close(code int, reason string) {
	w.mu.Lock()
	w.aborted, w.code, w.reason = true, code, reason
	open := w.ws != nil
	w.mu.Unlock()
	if !open {
		w.cancel() // the dial ends; run() sees aborted
		return
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}
