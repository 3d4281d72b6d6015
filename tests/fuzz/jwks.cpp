// JWK Set documents (server/auth key_set::from_jwks) on arbitrary text, with and without oct
// keys allowed (the first byte's low bit). Checks: an accepted set has distinct non-empty kids
// each bound to an algorithm; oct keys only when allowed; the exported public JWKS is accepted
// again and holds the same EC and RSA keys with the same algorithms.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "check.hpp"
#include "globemeet/server/auth/key_set.hpp"

namespace auth = globemeet::server::auth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool allow_oct = (data[0] & 1) != 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  const auto keys = auth::key_set::from_jwks(text, {allow_oct});
  if (!keys) {
    FUZZ_CHECK(keys.err().code == "invalid_key" || keys.err().code == "bad_json");
    return 0;
  }
  const auto kids = keys->kids();
  FUZZ_CHECK(kids.size() == keys->size());
  FUZZ_CHECK(std::set<std::string>(kids.begin(), kids.end()).size() == kids.size());
  std::set<std::string> asymmetric;
  for (const auto& kid : kids) {
    FUZZ_CHECK(!kid.empty());
    const auto alg = keys->algorithm_of(kid);
    FUZZ_CHECK(alg.has_value() && keys->find(kid) != nullptr);
    FUZZ_CHECK(allow_oct || *alg != auth::algorithm::hs256);
    if (*alg != auth::algorithm::hs256) asymmetric.insert(kid);
  }

  const auto exported = auth::key_set::from_jwks(keys->to_jwks());
  FUZZ_CHECK(exported.ok());
  const auto exported_kids = exported->kids();
  FUZZ_CHECK(std::set<std::string>(exported_kids.begin(), exported_kids.end()) == asymmetric);
  for (const auto& kid : asymmetric) FUZZ_CHECK(exported->algorithm_of(kid) == keys->algorithm_of(kid));
  return 0;
}
