// Which subscribers hold a pattern that matches a topic name. A segment trie with `*` and `>`
// edges: a lookup walks at most one literal edge and two wildcard edges per level, so its cost
// depends on the name's length and on the matching subscriptions, not on the ones that miss.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace globemeet::core {

class subscription_index {
 public:
  using subscriber = std::uint64_t;

  subscription_index();
  ~subscription_index();
  subscription_index(subscription_index&&) noexcept;
  subscription_index& operator=(subscription_index&&) noexcept;

  // `pattern` must be valid (topic::validate_pattern). Adding the same (pattern, subscriber)
  // twice is a no-op; returns whether it was added.
  bool add(std::string_view pattern, subscriber who);
  // Returns whether it was there. Empty trie nodes are freed.
  bool remove(std::string_view pattern, subscriber who);

  // Appends every subscriber with at least one pattern matching `name`, each exactly once
  // (a subscriber whose patterns overlap still appears once), in no particular order.
  void match(std::string_view name, std::vector<subscriber>& out) const;

  std::size_t pattern_count() const noexcept;  // distinct (pattern, subscriber) pairs
  bool empty() const noexcept { return pattern_count() == 0; }

 private:
  struct node;
  std::unique_ptr<node> root_;
  std::size_t count_ = 0;
  mutable std::uint64_t generation_ = 0;  // de-duplicates subscribers within one match()
};

}  // namespace globemeet::core
