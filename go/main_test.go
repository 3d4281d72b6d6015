package globemeet_test

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/globemeet/globemeet-events/go/internal/testserver"
)

// The examples talk to a real server, started once for the package; the live tests start
// their own. goleak checks after all tests that no goroutine of any client is left.
var shared *testserver.Server

func TestMain(m *testing.M) {
	var err error
	shared, err = testserver.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "live tests need the server:", err)
		os.Exit(1)
	}
	endpoint, baseURL = shared.WSURL(), shared.HTTPURL()
	clientID, clientSecret = shared.ClientID, shared.ClientSecret
	code := m.Run()
	shared.Stop()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines left behind:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Where the examples find the server; a real program has its own values.
var (
	endpoint     string
	baseURL      string
	clientID     string
	clientSecret string
)
