// The OAuth clients file (--clients FILE; server/auth client_registry::from_json).
// Checks: a refusal is "invalid_config" with a message that starts "clients"; an accepted file
// is JSON whose "clients" entries are each in the registry (found by client_id, with the same
// secret_hash, tenant, perms and publish), no other; every accepted client has a valid tenant,
// valid patterns, a well-formed hash and an id without control characters; max_iterations() is
// the highest iteration count among them.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "check.hpp"
#include "globemeet/core/topic.hpp"
#include "globemeet/server/auth/client_registry.hpp"
#include "globemeet/server/auth/secret_hash.hpp"

namespace auth = globemeet::server::auth;
namespace core = globemeet::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto registry = auth::client_registry::from_json(text);
  if (!registry) {
    FUZZ_CHECK(registry.err().code == "invalid_config");
    FUZZ_CHECK(registry.err().message.starts_with("clients"));
    return 0;
  }

  boost::system::error_code ec;
  const auto doc = boost::json::parse(text, ec);
  FUZZ_CHECK(!ec && doc.is_object());
  const auto& entries = doc.as_object().at("clients").as_array();
  FUZZ_CHECK(registry->size() == entries.size());
  std::uint32_t max_iterations = 0;
  for (const auto& entry : entries) {
    const auto& object = entry.as_object();
    const auto id = std::string_view(object.at("client_id").as_string());
    const auth::client* c = registry->find(id);
    FUZZ_CHECK(c != nullptr);
    FUZZ_CHECK(c->client_id == id && !id.empty());
    FUZZ_CHECK(std::none_of(id.begin(), id.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F; }));
    FUZZ_CHECK(c->secret_hash == std::string_view(object.at("secret_hash").as_string()));
    FUZZ_CHECK(!auth::check_secret_hash(c->secret_hash));
    FUZZ_CHECK(c->tenant == std::string_view(object.at("tenant").as_string()));
    FUZZ_CHECK(auth::is_valid_tenant(c->tenant));
    const auto& perms = object.at("perms").as_array();
    FUZZ_CHECK(c->perms.size() == perms.size());
    for (std::size_t i = 0; i < perms.size(); ++i) {
      FUZZ_CHECK(c->perms[i] == std::string_view(perms[i].as_string()));
      FUZZ_CHECK(!core::topic::validate_pattern(c->perms[i]));
    }
    const auto* publish = object.if_contains("publish");
    FUZZ_CHECK(c->publish == (publish != nullptr && publish->as_bool()));
    const auto iterations = auth::secret_hash_iterations(c->secret_hash);
    FUZZ_CHECK(iterations.has_value());
    max_iterations = std::max(max_iterations, *iterations);
  }
  FUZZ_CHECK(registry->max_iterations() == max_iterations);
  return 0;
}
