// The strict JSON readers: core strict_json::parse_object (publish bodies), the codec's
// check_strict_json (frames, data objects) and the auth layer's parse_strict_object (JOSE
// headers, claims, JWKS, configuration). Checks: all three accept exactly the same texts; an
// accepted object is within the nesting limit; the auth reader and the core reader read the
// same values; an accepted object serialized again is accepted and reads back equal.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/serialize.hpp>

#include "check.hpp"
#include "globemeet/core/codec.hpp"
#include "globemeet/core/strict_json.hpp"
#include "strict_json.hpp"

namespace core = globemeet::core;

namespace {

constexpr std::size_t max_bytes = 8192;

bool equal_values(const boost::json::value& a, const boost::json::value& b);

bool equal_objects(const boost::json::object& a, const boost::json::object& b) {
  if (a.size() != b.size()) return false;
  for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
    if (i->key() != j->key() || !equal_values(i->value(), j->value())) return false;
  }
  return true;
}

// Order-sensitive, and a number equals a number of another kind with the same value.
bool equal_values(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_double() || b.is_double()) {
      boost::json::error_code ea, eb;
      const double x = a.to_number<double>(ea), y = b.to_number<double>(eb);
      return !ea && !eb && x == y;
    }
    return a == b;
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_object()) return equal_objects(a.get_object(), b.get_object());
  if (a.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!equal_values(x[i], y[i])) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const auto checked = core::codec::check_strict_json(text, max_bytes);
  auto parsed = core::strict_json::parse_object(text, max_bytes, {}, nullptr);
  const auto auth = globemeet::server::auth::detail::parse_strict_object(text, max_bytes);
  FUZZ_CHECK(parsed.ok() == !checked.has_value());
  FUZZ_CHECK(auth.ok() == parsed.ok());
  if (!parsed) {
    FUZZ_CHECK(parsed.err().code == "bad_json" || parsed.err().code == "payload_too_large");
    return 0;
  }
  FUZZ_CHECK(equal_objects(auth.value(), parsed.value()));

  const std::string again = boost::json::serialize(parsed.value());
  auto reparsed = core::strict_json::parse_object(again, SIZE_MAX, {}, nullptr);
  FUZZ_CHECK(reparsed.ok());
  FUZZ_CHECK(equal_objects(reparsed.value(), parsed.value()));
  return 0;
}
