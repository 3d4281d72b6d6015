package globemeet

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The HTTP side of the API (docs/openapi.yaml) that services need: tokens from the OAuth
// client-credentials grant, and publishing events.

// Credentials are an OAuth client's id and secret, for FetchToken.
type Credentials struct {
	BaseURL      string // https://host (the server's HTTP origin)
	ClientID     string
	ClientSecret string
	Scope        []string // optional: narrows the token's perms to these patterns
	HTTPClient   *http.Client
}

// Token is an access token from POST /oauth/token.
type Token struct {
	AccessToken string
	ExpiresIn   time.Duration
	Scope       string
}

// FetchToken runs the OAuth 2.0 client-credentials grant (RFC 6749 section 4.4) with HTTP
// Basic client authentication. A refusal is an *HTTPError carrying the RFC 6749 error code.
func FetchToken(ctx context.Context, cr Credentials) (Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(cr.Scope) > 0 {
		form.Set("scope", strings.Join(cr.Scope, " "))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(cr.BaseURL, "/")+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, &Error{Code: "bad_config", Message: err.Error()}
	}
	req.SetBasicAuth(url.QueryEscape(cr.ClientID), url.QueryEscape(cr.ClientSecret)) // RFC 6749 section 2.3.1
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	if err := doJSON(cr.HTTPClient, req, &body); err != nil {
		return Token{}, err
	}
	return Token{AccessToken: body.AccessToken, ExpiresIn: time.Duration(body.ExpiresIn) * time.Second, Scope: body.Scope}, nil
}

// TokenSourceFromCredentials is a TokenSource that runs FetchToken for every request.
func TokenSourceFromCredentials(cr Credentials) TokenSource {
	return func(ctx context.Context, _ TokenReason) (string, error) {
		t, err := FetchToken(ctx, cr)
		return t.AccessToken, err
	}
}

// PublishEvent is one event to publish: the server assigns id, time, source, topic and tenant.
type PublishEvent struct {
	Type    string `json:"type"`    // e.g. queue.depth-changed
	Subject string `json:"subject"` // the key: queue name or agent id
	Data    any    `json:"data"`    // a catalogue struct, a map, or json.RawMessage
}

// Publish stores events (1 to 1,000, at most 1 MiB) with POST /v1/events and returns their
// ids in order. token must carry `pub: true`. One bad event refuses the whole batch: an
// *HTTPError with code invalid_event naming it.
func Publish(ctx context.Context, baseURL, token string, events ...PublishEvent) ([]string, error) {
	return publish(ctx, http.DefaultClient, baseURL, token, events)
}

func publish(ctx context.Context, hc *http.Client, baseURL, token string, events []PublishEvent) ([]string, error) {
	if len(events) == 0 {
		return nil, nil
	}
	payload, err := json.Marshal(struct {
		Events []PublishEvent `json:"events"`
	}{events})
	if err != nil {
		return nil, &Error{Code: "bad_data", Message: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(baseURL, "/")+"/v1/events", bytes.NewReader(payload))
	if err != nil {
		return nil, &Error{Code: "bad_config", Message: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	var body struct {
		IDs []string `json:"ids"`
	}
	if err := doJSON(hc, req, &body); err != nil {
		return nil, err
	}
	return body.IDs, nil
}

func doJSON(hc *http.Client, req *http.Request, into any) error {
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Message     string `json:"message"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(raw, &e)
		msg := e.Message
		if msg == "" {
			msg = e.Description
		}
		if e.Error == "" {
			e.Error = "http_" + http.StatusText(resp.StatusCode)
		}
		return &HTTPError{Status: resp.StatusCode, Code: e.Error, Message: msg}
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return &Error{Code: "bad_json", Message: "response: " + err.Error()}
	}
	return nil
}
