// The library's token helper (globemeet/token.hpp) against the real server: a token with its
// expiry, the server's OAuth error codes, an unreachable server, and the provider driving a
// Client. Also the kept-alive HTTP connection that `globemeet pub` posts its batches on.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "globemeet/client.hpp"
#include "globemeet/token.hpp"
#include "http_client.hpp"
#include "live_server.hpp"
#include "tcp_proxy.hpp"

using namespace std::chrono_literals;
using globemeet::test::live_server;
using globemeet::test::tcp_proxy;

namespace {

globemeet::ClientCredentials dev_credentials(const live_server& server) {
  return {.server = server.http_url(), .client_id = server.client_id(), .client_secret = server.client_secret()};
}

}  // namespace

TEST_CASE("fetch_token returns the JWT with its expiry and the granted scope", "[token_live]") {
  live_server server;
  REQUIRE_FALSE(server.client_id().empty());
  auto credentials = dev_credentials(server);
  const auto before = std::chrono::system_clock::now();
  const globemeet::Token token = globemeet::fetch_token(credentials);
  const auto after = std::chrono::system_clock::now();

  CHECK(std::count(token.access_token.begin(), token.access_token.end(), '.') == 2);
  // The reference server's tokens live 900 s (docs/openapi.yaml); expires_at counts from the answer.
  CHECK(token.expires_at >= before + 900s);
  CHECK(token.expires_at <= after + 900s);
  CHECK_FALSE(token.expired());
  CHECK(token.expired(token.expires_at));
  CHECK(token.scope.empty());

  credentials.scope = "queue.>";
  CHECK(globemeet::fetch_token(credentials).scope == "queue.>");
}

TEST_CASE("fetch_token failures carry the OAuth error code, the HTTP status and one line", "[token_live]") {
  live_server server;
  auto credentials = dev_credentials(server);
  credentials.client_secret = "wrong";
  try {
    globemeet::fetch_token(credentials);
    FAIL("a wrong secret was accepted");
  } catch (const globemeet::TokenError& e) {
    CHECK(e.code() == "invalid_client");
    CHECK(e.http_status() == 401);
    CHECK(std::string(e.what()).starts_with("token refused (HTTP 401 invalid_client: "));
    CHECK(std::string(e.what()).find('\n') == std::string::npos);
  }

  credentials = dev_credentials(server);
  credentials.scope = "billing.>";  // beyond what the client may have, or not a known stream
  try {
    globemeet::fetch_token(credentials);
  } catch (const globemeet::TokenError& e) {
    CHECK(e.http_status() == 400);
    CHECK(e.code() != "token_request_failed");
  }

  credentials = dev_credentials(server);
  credentials.server = "http://127.0.0.1:1";
  credentials.timeout = 2s;
  try {
    globemeet::fetch_token(credentials);
    FAIL("an unreachable server answered");
  } catch (const globemeet::TokenError& e) {
    CHECK(e.code() == "token_request_failed");
    CHECK(e.http_status() == 0);
  }

  credentials.server = "ftp://127.0.0.1";
  try {
    globemeet::fetch_token(credentials);
    FAIL("an ftp URL was accepted");
  } catch (const globemeet::TokenError& e) {
    CHECK(e.code() == "bad_options");
  }
}

TEST_CASE("client_credentials_provider feeds a Client that goes live", "[token_live]") {
  live_server server;
  globemeet::ClientOptions options;
  options.endpoint = server.ws_url();
  options.token_provider = globemeet::client_credentials_provider(dev_credentials(server));
  std::mutex mutex;
  std::condition_variable changed;
  bool live = false;
  options.on_state = [&](const globemeet::StateChange& c) {
    std::lock_guard lock(mutex);
    if (c.to == globemeet::State::live) live = true;
    changed.notify_all();
  };
  globemeet::Client client(options);
  // Live means the server accepted the provider's token on the socket and the subscription.
  auto sub = client.subscribe(">", [](const globemeet::Event&) {});
  client.start();
  std::unique_lock lock(mutex);
  REQUIRE(changed.wait_for(lock, 15s, [&] { return live; }));
  CHECK(client.state() == globemeet::State::live);
  lock.unlock();
  client.stop();
}

TEST_CASE("http_connection keeps one connection for many requests and reopens one the peer dropped",
          "[token_live]") {
  live_server server;
  tcp_proxy proxy(server.port());
  auto where = globemeet::detail::parse_endpoint("http://127.0.0.1:" + std::to_string(proxy.port()), false);
  REQUIRE(where);
  globemeet::detail::http_connection connection(*where, "", 5s);
  globemeet::detail::http_request request;
  request.method = "POST";
  request.target = "/v1/events";
  request.headers = {{"Content-Type", "application/json"},
                     {"Authorization", "Bearer " + server.mint({.sub = "publisher", .pub = true})}};
  request.body = R"({"type":"queue.depth-changed","subject":"support","data":{"queue_id":"support","depth":1,"longest_wait_seconds":1}})";
  for (int i = 0; i < 3; ++i) CHECK(connection.send(request).status == 200);
  CHECK(connection.connections_opened() == 1);

  // The peer drops the idle connection (as a server's idle timeout does): the next request
  // finds it dead before any answer and goes out once on a new connection.
  proxy.cut_and_hold();
  proxy.release();
  std::this_thread::sleep_for(50ms);
  CHECK(connection.send(request).status == 200);
  CHECK(connection.connections_opened() == 2);
}
