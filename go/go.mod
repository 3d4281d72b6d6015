module github.com/globemeet/globemeet-events/go

go 1.23

require (
	github.com/coder/websocket v1.8.15
	go.uber.org/goleak v1.3.0
)
