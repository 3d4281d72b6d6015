// One accepted TCP connection until it becomes a WebSocket: the TLS handshake (when enabled),
// HTTP/1.1 requests with keep-alive, the routes of http_routes.hpp, and the WebSocket upgrade
// of GET /v1/events (checked by wire, then Origin, limits and the token), after which the
// stream is handed to a websocket_session.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "server_state.hpp"
#include "session_registry.hpp"

namespace globemeet::server::net {

// `socket`'s executor must be a strand of its own, or the io_context when it has one thread:
// the session and, after an upgrade, the WebSocket session run on it.
void start_http_session(server_state& state, session_registry& registry, boost::asio::ssl::context* tls,
                        boost::asio::ip::tcp::socket socket);

}  // namespace globemeet::server::net
