// Uses the installed client the way an application would, without a server: options, an
// invalid pattern refused locally, the token helper, a subscription, start, and a clean stop
// while reconnecting.
#include <cstdio>
#include <string>

#include <globemeet/client.hpp>
#include <globemeet/token.hpp>

int main(int argc, char** argv) {
  // Nothing listens on port 1: the client keeps trying until stop().
  const std::string endpoint = argc > 1 ? argv[1] : "ws://127.0.0.1:1/v1/events";
  globemeet::ClientOptions options;
  options.endpoint = endpoint;
  options.token = "not-a-real-token";
  options.backoff_min = std::chrono::milliseconds(10);
  options.backoff_max = std::chrono::milliseconds(50);
  int reconnecting = 0;
  options.on_state = [&](const globemeet::StateChange& change) {
    if (change.to == globemeet::State::reconnecting) ++reconnecting;
  };
  globemeet::Client client(options);

  try {
    client.subscribe("queue..depth", [](const globemeet::Event&) {});
    std::puts("FAIL: an invalid pattern was accepted");
    return 1;
  } catch (const globemeet::ClientError& e) {
    if (e.code() != "invalid_topic") {
      std::printf("FAIL: expected invalid_topic, got %s\n", e.code().c_str());
      return 1;
    }
  }
  // The token helper is part of the package: nothing listens on port 1, so it fails cleanly.
  try {
    globemeet::fetch_token({.server = "http://127.0.0.1:1", .client_id = "id", .client_secret = "secret"});
    std::puts("FAIL: a token came from nowhere");
    return 1;
  } catch (const globemeet::TokenError& e) {
    if (e.code() != "token_request_failed") {
      std::printf("FAIL: expected token_request_failed, got %s\n", e.code().c_str());
      return 1;
    }
  }
  auto sub = client.subscribe("queue.*.depth-changed", [](const globemeet::Event& e) { std::puts(e.raw.c_str()); });
  client.start();
  while (!client.wait_for(std::chrono::milliseconds(20)) && reconnecting < 2) {
  }
  client.stop();
  if (client.state() != globemeet::State::closed || client.final_code() != 1000) {
    std::printf("FAIL: expected closed with 1000, got %s %u\n", globemeet::to_string(client.state()),
                static_cast<unsigned>(client.final_code()));
    return 1;
  }
  std::printf("consumer ok: %s, %d failed attempts, then stopped\n", sub.pattern().c_str(), reconnecting);
  return 0;
}
