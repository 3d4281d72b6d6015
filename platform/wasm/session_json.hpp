// The client session's values as JSON text for the JavaScript side of the bridge: the config
// that creates a session, the actions it returns, its status, and timer names.
// The shapes are documented in platform/wasm/README.md.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "globemeet/core/client_session.hpp"
#include "globemeet/core/result.hpp"

namespace globemeet::wasm {

// A session_config from a JSON object: `endpoint` is required, every other member is optional
// and defaults as in session_config; an unknown member, a wrong type or a negative duration is
// an error with code "bad_config" (a typo must not silently fall back to a default).
core::result<core::session_config> parse_session_config(std::string_view json);

// The actions as a JSON array, in order, one object per action with a `kind` member.
std::string actions_to_json(const std::vector<core::action>& actions);

// {"state":..,"last_event_id":..|null,"final_code":..}
std::string status_to_json(const core::client_session& session);

// {"count":..,"p50_ms":..,"p99_ms":..,"clock_offset_ms":..}
std::string latency_to_json(const core::latency_stats& latency);

// "reconnect", "handshake", ... as in core::to_string(timer_kind); nullopt for other text.
std::optional<core::timer_kind> timer_kind_from_name(std::string_view name) noexcept;

}  // namespace globemeet::wasm
