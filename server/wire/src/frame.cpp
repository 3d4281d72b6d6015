#include "globemeet/server/wire/frame.hpp"

namespace globemeet::server::wire {

bool is_valid_close_code(std::uint16_t code) noexcept {
  if (code >= 1000 && code <= 1003) return true;
  // 1004 is reserved; 1005 and 1006 only ever describe a close locally.
  if (code >= 1007 && code <= 1011) return true;
  // 1012-1014 are registered with IANA (service restart, try again later, bad gateway).
  if (code >= 1012 && code <= 1014) return true;
  // 3000-3999 registered by libraries and frameworks, 4000-4999 private use (ours).
  return code >= 3000 && code <= 4999;
}

}  // namespace globemeet::server::wire
