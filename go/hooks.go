package globemeet

// Setting a hook after New or Dial, as an alternative to Options: each replaces the hook of
// the same name (nil removes it) and applies to what happens from then on. Hooks set in
// Options see everything from the start, including the first connection.

func (c *Client) setHook(set func(o *Options)) {
	c.mu.Lock()
	set(&c.opts)
	c.mu.Unlock()
}

// OnState sets the hook told of every state change.
func (c *Client) OnState(f func(StateChange)) { c.setHook(func(o *Options) { o.OnState = f }) }

// OnReconnect sets the hook told when the client is live again after a reconnect.
func (c *Client) OnReconnect(f func(lastEventID string)) {
	c.setHook(func(o *Options) { o.OnReconnect = f })
}

// OnReset sets the hook told when the server could not resume.
func (c *Client) OnReset(f func(Reset)) { c.setHook(func(o *Options) { o.OnReset = f }) }

// OnOverflow sets the hook told when the server dropped the client for lagging.
func (c *Client) OnOverflow(f func(lastID string)) { c.setHook(func(o *Options) { o.OnOverflow = f }) }

// OnError sets the hook told of errors, and last of all of the *CloseError.
func (c *Client) OnError(f func(error)) { c.setHook(func(o *Options) { o.OnError = f }) }

// OnRevoked sets the hook told when the server removed a pattern.
func (c *Client) OnRevoked(f func(pattern, reason string)) {
	c.setHook(func(o *Options) { o.OnRevoked = f })
}

// OnSubscriptionFailed sets the hook told when the server refused a pattern.
func (c *Client) OnSubscriptionFailed(f func(pattern string, err error)) {
	c.setHook(func(o *Options) { o.OnSubscriptionFailed = f })
}

// OnSnapshot sets the hook told when a Snapshot subscription's snapshot is complete.
func (c *Client) OnSnapshot(f func(sub *Subscription, count int)) {
	c.setHook(func(o *Options) { o.OnSnapshot = f })
}

// OnTokenExpiring sets the hook told when the server warned that the token expires.
func (c *Client) OnTokenExpiring(f func()) { c.setHook(func(o *Options) { o.OnTokenExpiring = f }) }
