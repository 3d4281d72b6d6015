// The token endpoint's HTTP inputs (server/auth): form-urlencoded bodies and HTTP Basic client
// credentials. The first byte picks 'f' (the rest is a form body) or 'b' (an Authorization
// header value); anything else tries both on the whole input. Checks: a parsed form has
// non-empty, distinct names, and percent-encoding its pairs again parses to the same pairs;
// decoded Basic credentials have a client_id, and encoding them again decodes to the same.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "basic_credentials.hpp"
#include "check.hpp"
#include "globemeet/server/auth/base64.hpp"
#include "globemeet/server/auth/form_urlencoded.hpp"

namespace auth = globemeet::server::auth;

namespace {

// Every byte but A-Z a-z 0-9 as %XY: a spelling the decoder must accept whatever the byte.
std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(hex[b >> 4]);
      out.push_back(hex[b & 15]);
    }
  }
  return out;
}

void check_form(std::string_view body) {
  if (const auto decoded = auth::form_decode_component(body)) {
    const auto again = auth::form_decode_component(percent_encode(*decoded));
    FUZZ_CHECK(again && *again == *decoded);
  }
  const auto pairs = auth::parse_form(body);
  if (!pairs) {
    FUZZ_CHECK(pairs.err().code == "invalid_request");
    return;
  }
  std::set<std::string> names;
  std::string encoded;
  for (const auto& [name, value] : pairs.value()) {
    FUZZ_CHECK(!name.empty());
    FUZZ_CHECK(names.insert(name).second);
    encoded += (encoded.empty() ? "" : "&") + percent_encode(name) + "=" + percent_encode(value);
  }
  const auto again = auth::parse_form(encoded);
  FUZZ_CHECK(again.ok() && again.value() == pairs.value());
}

void check_basic(std::string_view header) {
  const auto credentials = auth::detail::parse_basic_authorization(header);
  if (!credentials) {
    FUZZ_CHECK(credentials.err().code == "invalid_client");
    return;
  }
  FUZZ_CHECK(!credentials->client_id.empty());
  const std::string joined = percent_encode(credentials->client_id) + ":" + percent_encode(credentials->client_secret);
  // Standard base64 from base64url: the alphabet differs in two characters, then pad.
  std::string b64 = auth::base64url_encode(joined);
  for (auto& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4 != 0) b64.push_back('=');
  const std::string again_header = "Basic " + b64;
  FUZZ_CHECK(auth::detail::is_basic_scheme(again_header));
  const auto again = auth::detail::parse_basic_authorization(again_header);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->client_id == credentials->client_id && again->client_secret == credentials->client_secret);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && input[0] == 'f') {
    check_form(input.substr(1));
  } else if (!input.empty() && input[0] == 'b') {
    check_basic(input.substr(1));
  } else {
    check_form(input);
    check_basic(input);
  }
  return 0;
}
