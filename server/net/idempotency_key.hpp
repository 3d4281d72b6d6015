// The Idempotency-Key request header of POST /v1/events (docs/protocol.md, "Retrying a
// publish"): each event of the request gets an idempotency id derived from the publisher's
// tenant, the key, the event's index in the batch and the event itself, so a retry of the same
// request names the same events and the log stores each of them once, whichever node takes it.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "globemeet/server/events/publish.hpp"

namespace globemeet::server::net {

// Why `key` cannot be an Idempotency-Key (1 to 255 visible ASCII characters), or nullopt.
std::optional<std::string> check_idempotency_key(std::string_view key);

// Sets every event's idempotency_id (false only when OpenSSL fails): "gm1-" and 40 hex digits of SHA-256 over tenant, key,
// index, topic and data. The tenant keeps two tenants' equal keys apart; the content makes a
// different event under a reused key a new event rather than a silent duplicate.
bool assign_idempotency_ids(std::vector<events::pending_event>& batch, std::string_view key);

}  // namespace globemeet::server::net
