// The running server: one io_context with N threads, the acceptor (TCP_NODELAY, optional
// TLS 1.3), periodic log trimming, and graceful shutdown on SIGTERM/SIGINT (stop accepting,
// readiness 503, `closing` + 1001 to every client, exit after a bounded drain).
#pragma once
#include <memory>

#include "server_state.hpp"

namespace globemeet::server::net {

// Runs until a signal and the drain complete. Returns the process exit code (0 on a clean
// shutdown, 1 when the server could not start).
int run_server_until_signalled(std::unique_ptr<server_state> state);

}  // namespace globemeet::server::net
