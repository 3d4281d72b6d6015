// Resume bookkeeping on the client side (docs/protocol.md sections 5 and 9): the last delivered
// event id, duplicate suppression on replay, and epoch changes.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "globemeet/core/event_id.hpp"

namespace globemeet::core {

class resume_state {
 public:
  enum class verdict {
    deliver,        // new: deliver it; it is now the last id
    duplicate,      // at or before the last id in the same epoch: drop it
    epoch_changed,  // another epoch without a reset: the server broke the contract
    invalid_id,     // not an event id
  };

  verdict accept(std::string_view id);
  // A `reset` names the position after which delivery continues (nullopt: empty log).
  void reset_to(const std::optional<std::string>& position);
  // Set by a tool that persisted the id across its own restart; returns false if not an id.
  bool set_last(std::string_view id);
  void clear() { last_.reset(); }

  std::optional<std::string> last() const;  // as text, for `from` and `Last-Event-ID`

 private:
  std::optional<event_id> last_;
};

}  // namespace globemeet::core
