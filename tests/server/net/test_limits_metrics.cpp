#include <catch2/catch.hpp>

#include "connection_limits.hpp"
#include "http_routes.hpp"
#include "metrics.hpp"

using namespace globemeet::server::net;

TEST_CASE("connection limits count per tenant and per address", "[limits]") {
  connection_limits limits(2, 1);
  CHECK(limits.acquire_address("10.0.0.1"));
  CHECK_FALSE(limits.acquire_address("10.0.0.1"));
  CHECK(limits.acquire_address("10.0.0.2"));
  limits.release_address("10.0.0.1");
  CHECK(limits.acquire_address("10.0.0.1"));
  CHECK(limits.acquire_tenant("acme"));
  CHECK(limits.acquire_tenant("acme"));
  CHECK_FALSE(limits.acquire_tenant("acme"));
  CHECK(limits.acquire_tenant("globex"));
  limits.release_tenant("acme");
  CHECK(limits.acquire_tenant("acme"));
  limits.release_tenant("unknown");  // harmless
}

TEST_CASE("metrics render Prometheus text with a cumulative histogram", "[metrics]") {
  metrics m;
  m.connections = 3;
  m.events_in = 7;
  metrics::latency_tally first_write, second_write;  // one tally per written batch
  first_write.add(0.0005);
  first_write.add(0.003);
  second_write.add(5.0);
  m.observe_delivery_latencies(first_write);
  m.observe_delivery_latencies(second_write);
  m.observe_delivery_latencies(metrics::latency_tally{});  // an empty batch changes nothing
  auto text = m.render();
  CHECK(text.find("# TYPE globemeet_connections gauge\nglobemeet_connections 3\n") != std::string::npos);
  CHECK(text.find("globemeet_events_in_total 7\n") != std::string::npos);
  CHECK(text.find("globemeet_delivery_latency_seconds_bucket{le=\"0.0005\"} 1\n") != std::string::npos);
  CHECK(text.find("globemeet_delivery_latency_seconds_bucket{le=\"0.005\"} 2\n") != std::string::npos);
  CHECK(text.find("globemeet_delivery_latency_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(text.find("globemeet_delivery_latency_seconds_count 3\n") != std::string::npos);
}

TEST_CASE("bearer tokens and target paths", "[limits]") {
  CHECK(bearer_token("Bearer abc.def") == "abc.def");
  CHECK(bearer_token("bearer   abc ") == "abc");
  CHECK(bearer_token("Basic abc").empty());
  CHECK(bearer_token("Bearer").empty());
  CHECK(target_path("/v1/events?x=1") == "/v1/events");
  CHECK(target_path("/healthz") == "/healthz");
}
