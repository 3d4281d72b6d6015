package globemeet

import (
	"errors"
	"strconv"
)

// Error is an error with one of the protocol's codes (docs/protocol.md section 2.3, plus the
// client's own: bad_frame, epoch_changed, token_unavailable, bad_data, bad_config). Compare
// with errors.Is against the sentinels below (only Code is compared), or take the details with
// errors.As.
type Error struct {
	Code    string
	Message string
	Pattern string // for subscription errors: the pattern concerned
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "globemeet: " + e.Code
	}
	return "globemeet: " + e.Code + ": " + e.Message
}

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrInvalidTopic         = &Error{Code: "invalid_topic"}
	ErrForbiddenTopic       = &Error{Code: "forbidden_topic"}
	ErrTooManySubscriptions = &Error{Code: "too_many_subscriptions"}
	ErrBadFrame             = &Error{Code: "bad_frame"}
	ErrBadJSON              = &Error{Code: "bad_json"}
	ErrEpochChanged         = &Error{Code: "epoch_changed"}
	ErrTokenUnavailable     = &Error{Code: "token_unavailable"}
	ErrInvalidToken         = &Error{Code: "invalid_token"}
	ErrRateLimited          = &Error{Code: "rate_limited"}
	ErrBadData              = &Error{Code: "bad_data"}
	ErrBadConfig            = &Error{Code: "bad_config"}
	ErrInvalidEventID       = &Error{Code: "invalid_event_id"}
	ErrPermissionRevoked    = &Error{Code: "permission_revoked"}
)

// ErrClosed is returned by calls on a client that was closed by its user.
var ErrClosed = errors.New("globemeet: client closed")

// CloseError says why a client stopped for good other than by Close (a final close code, or a
// token provider that gives only expired tokens): the close code and the server's reason.
// Client.Err returns it; errors.Is(err, ErrInvalidToken) holds for code 4401.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	msg := "globemeet: stopped for good after close " + strconv.Itoa(e.Code)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Is maps the final close codes to the sentinel of the same meaning.
func (e *CloseError) Is(target error) bool {
	switch e.Code {
	case 4401:
		return target == ErrInvalidToken
	case 4403:
		return target == ErrForbiddenTopic
	}
	return false
}

// HTTPError is a refusal from the HTTP API (FetchToken, Publish): the status and the
// `error`/`message` of its JSON body (RFC 6749 section 5.2 names it `error_description`).
type HTTPError struct {
	Status  int
	Code    string
	Message string
}

func (e *HTTPError) Error() string {
	return "globemeet: HTTP " + strconv.Itoa(e.Status) + " " + e.Code + ": " + e.Message
}

// Is lets errors.Is(err, ErrInvalidToken) and friends match the body's code.
func (e *HTTPError) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}
