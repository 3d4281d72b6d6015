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
    invalid_id,     // not the id of an event (seq 0 names a position, not an event)
  };

  verdict accept(std::string_view id);
  // A `reset` names the position after which delivery continues (`{epoch}-0` when nothing
  // precedes it; nullopt only from servers that predate `{epoch}-0`).
  void reset_to(const std::optional<std::string>& position);
  // A position: persisted by a tool across its own restart, or a `head` (`{epoch}-0` included);
  // returns false if not an id.
  bool set_last(std::string_view id);
  void clear() { last_.reset(); }

  std::optional<std::string> last() const;  // as text, for `from` and `Last-Event-ID`; may be `{epoch}-0`

 private:
  std::optional<event_id> last_;
};

}  // namespace globemeet::core
