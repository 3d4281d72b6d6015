package globemeet_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	globemeet "github.com/globemeet/globemeet-events/go"
)

// A dashboard feed: typed events for one queue, every session event untyped, and a service
// publishing into it. endpoint, baseURL, clientID and clientSecret are your deployment's.
func ExampleDial() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	creds := globemeet.Credentials{BaseURL: baseURL, ClientID: clientID, ClientSecret: clientSecret}
	c, err := globemeet.Dial(ctx, globemeet.Options{
		Endpoint:    endpoint,
		TokenSource: globemeet.TokenSourceFromCredentials(creds),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.OnReconnect(func(lastEventID string) { log.Println("reconnected, resuming after", lastEventID) })

	got := make(chan struct{})
	globemeet.Subscribe(c, "queue.support.depth-changed", func(e globemeet.Event[globemeet.QueueDepthChanged]) {
		fmt.Println(e.Type, e.Subject, "depth", e.Data.Depth, "longest wait", e.Data.LongestWaitSeconds)
		close(got)
	})

	// A service publishes (its token needs `pub`).
	tok, err := globemeet.FetchToken(ctx, creds)
	if err != nil {
		log.Fatal(err)
	}
	_, err = globemeet.Publish(ctx, baseURL, tok.AccessToken, globemeet.PublishEvent{
		Type: "queue.depth-changed", Subject: "support",
		Data: globemeet.QueueDepthChanged{QueueID: "support", Depth: 7, LongestWaitSeconds: 42},
	})
	if err != nil {
		log.Fatal(err)
	}
	<-got
	// Output: queue.depth-changed support depth 7 longest wait 42
}

// The channel form, and a type switch over the catalogue.
func ExampleClient_SubscribeChan() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	creds := globemeet.Credentials{BaseURL: baseURL, ClientID: clientID, ClientSecret: clientSecret}
	c, err := globemeet.Dial(ctx, globemeet.Options{Endpoint: endpoint, TokenSource: globemeet.TokenSourceFromCredentials(creds)})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	sub, err := c.SubscribeChan("agent.a-17.*", 16)
	if err != nil {
		log.Fatal(err)
	}

	tok, _ := globemeet.FetchToken(ctx, creds)
	globemeet.Publish(ctx, baseURL, tok.AccessToken,
		globemeet.PublishEvent{Type: "agent.online", Subject: "a-17", Data: map[string]any{"agent_id": "a-17", "queues": []string{"support"}}},
		globemeet.PublishEvent{Type: "agent.busy", Subject: "a-17", Data: globemeet.AgentBusy{AgentID: "a-17", SessionID: "s-9"}},
	)
	for i := 0; i < 2; i++ {
		e := <-sub.C
		switch d, _ := globemeet.DecodeData(e); d := d.(type) {
		case globemeet.AgentOnline:
			fmt.Println("online in", d.Queues)
		case globemeet.AgentBusy:
			fmt.Println("busy with", d.SessionID)
		}
	}
	// Output:
	// online in [support]
	// busy with s-9
}

// A pattern that breaks the grammar is refused before anything is sent; errors.Is tells it.
func ExampleClient_Subscribe_invalid() {
	c, _ := globemeet.New(globemeet.Options{Endpoint: "ws://127.0.0.1:1/v1/events", Token: "t"})
	defer c.Close()
	_, err := c.Subscribe("queue.sup*.depth-changed", func(globemeet.AnyEvent) {})
	fmt.Println(errors.Is(err, globemeet.ErrInvalidTopic))
	fmt.Println(err)
	// Output:
	// true
	// globemeet: invalid_topic: wildcard '*' must be a whole segment (segment 2: 'sup*')
}
