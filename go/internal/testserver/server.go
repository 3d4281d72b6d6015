// Package testserver starts the real globemeet-server for the Go client's live tests and
// benchmark: loopback, a temp data dir, an HS256 dev secret, an OAuth client; tokens are
// minted with the secret. GLOBEMEET_SERVER names the binary (default
// build/native/server/net/globemeet-server from the repository root).
package testserver

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const Issuer = "test-issuer"

// Binary is the server binary's path.
func Binary() string {
	if b := os.Getenv("GLOBEMEET_SERVER"); b != "" {
		return b
	}
	_, file, _, _ := runtime.Caller(0) // go/internal/testserver/server.go
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "build", "native", "server", "net", "globemeet-server")
}

// Server is one running globemeet-server process.
type Server struct {
	Dir          string
	Port         int
	Secret       string
	ClientID     string
	ClientSecret string
	Args         []string // extra flags, kept across restarts
	cmd          *exec.Cmd
	exited       chan struct{}
}

func (s *Server) HTTPURL() string { return "http://127.0.0.1:" + strconv.Itoa(s.Port) }
func (s *Server) WSURL() string   { return "ws://127.0.0.1:" + strconv.Itoa(s.Port) + "/v1/events" }

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// FreePort returns a loopback port that was free a moment ago (so a restart can reuse it).
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts a server in a new temp dir with an OAuth client (tenant acme, every topic,
// may publish). args are extra flags.
func Start(args ...string) (*Server, error) {
	if _, err := os.Stat(Binary()); err != nil {
		return nil, fmt.Errorf("globemeet-server not built (%s): run scripts/build or set GLOBEMEET_SERVER", Binary())
	}
	dir, err := os.MkdirTemp("", "globemeet-go-test-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, Secret: randomString(32), ClientID: "go-tests", ClientSecret: randomString(24), Args: args}
	if err := os.WriteFile(filepath.Join(dir, "hs256.secret"), []byte(s.Secret), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(Binary(), "hash-secret")
	cmd.Stdin = strings.NewReader(s.ClientSecret)
	hash, err := cmd.Output()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("hash-secret: %w", err)
	}
	clients, _ := json.Marshal(map[string]any{"clients": []any{map[string]any{
		"client_id": s.ClientID, "secret_hash": strings.TrimSpace(string(hash)), "tenant": "acme", "perms": []string{">"}, "publish": true,
	}}})
	if err := os.WriteFile(filepath.Join(dir, "clients.json"), clients, 0o600); err != nil {
		return nil, err
	}
	if s.Port, err = FreePort(); err != nil {
		return nil, err
	}
	if err := s.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func (s *Server) start() error {
	args := append([]string{"--listen", "127.0.0.1:" + strconv.Itoa(s.Port), "--issuer", Issuer,
		"--hs256-secret-file", filepath.Join(s.Dir, "hs256.secret"), "--clients", filepath.Join(s.Dir, "clients.json"), "--dev"}, s.Args...)
	cmd := exec.Command(Binary(), args...)
	// The server dies with the test process, even when a test panics or times out.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		said := false
		for sc.Scan() {
			var line struct{ Msg string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" && !said {
				said = true
				close(listening)
			}
		}
		cmd.Wait()
		close(s.exited)
	}()
	select {
	case <-listening:
		return nil
	case <-s.exited:
		return fmt.Errorf("server exited: %s", stderr.String())
	case <-time.After(15 * time.Second):
		s.Kill()
		return errors.New("server did not start within 15 s: " + stderr.String())
	}
}

// Kill ends the process (SIGKILL) and waits, keeping its directory.
func (s *Server) Kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// Terminate asks the process to shut down (SIGTERM: drain, `closing`, 1001) and waits.
func (s *Server) Terminate() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.Kill()
		}
	}
}

// Restart starts the process again on the same port and directory.
func (s *Server) Restart() error { return s.start() }

// Stop kills the process and removes its directory.
func (s *Server) Stop() {
	s.Kill()
	os.RemoveAll(s.Dir)
}

// Mint makes an HS256 token signed with the server's dev secret (tenant acme, every topic,
// may publish, 15 minutes); claims override.
func (s *Server) Mint(claims map[string]any) string { return Mint(s.Secret, claims) }

func Mint(secret string, claims map[string]any) string {
	now := time.Now().Unix()
	body := map[string]any{"sub": "go-test", "tenant": "acme", "perms": []string{">"}, "pub": true,
		"iss": Issuer, "aud": "globemeet-events", "iat": now, "exp": now + 900}
	for k, v := range claims {
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
	}
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "kid": "dev", "typ": "JWT"})
	payload, _ := json.Marshal(body)
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Metric reads one unlabelled counter or gauge from GET /metrics.
func (s *Server) Metric(name string) (float64, error) {
	resp, err := http.Get(s.HTTPURL() + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	return 0, fmt.Errorf("metric %s not found", name)
}
