// A segment trie over patterns. Each node has literal children (keyed by the segment text the
// node owns, looked up by string_view without allocating), one `*` child, the subscribers whose
// pattern ends at the node, and the subscribers whose pattern ends with `>` right after it.
//
// Memory: a subscription costs one pointer in one node's sorted vector; a subscriber costs one
// registry entry (its pattern count and a de-duplication stamp); a node exists only while some
// pattern passes through it. Patterns shared by many connections share their nodes.
//
// De-duplication: match() bumps the generation counter and stamps each subscriber's registry
// entry as it is appended, so a subscriber reached through several patterns is appended once
// at O(1) cost. The stamp makes match() a writer: one index must not be matched from two
// threads at once (the server keeps each index on one strand).
#include "globemeet/core/subscription_index.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <unordered_map>
#include <utility>

#include "globemeet/core/topic.hpp"

namespace globemeet::core {
namespace {

struct subscriber_state {
  std::size_t patterns = 0;                // how many of the index's patterns this subscriber holds
  mutable std::uint64_t seen_generation = 0;  // the match() that last appended this subscriber
};

using registry = std::unordered_map<subscription_index::subscriber, subscriber_state>;
using record = registry::value_type;  // node-based map: the address stays put until erased

// Sorted by address, so presence checks, inserts and removals are binary searches.
using record_list = std::vector<const record*>;

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

struct trie_node {
  using literal_map = std::unordered_map<std::string, std::unique_ptr<trie_node>, string_hash, std::equal_to<>>;

  std::unique_ptr<literal_map> literals;  // allocated with the first literal child: most nodes are leaves
  std::unique_ptr<trie_node> star;
  record_list here;       // patterns that end at this node
  record_list remainder;  // patterns `...this node.>`

  trie_node* literal(std::string_view segment) const {
    if (!literals) return nullptr;
    const auto it = literals->find(segment);
    return it == literals->end() ? nullptr : it->second.get();
  }

  bool unused() const noexcept { return !literals && !star && here.empty() && remainder.empty(); }
};

// Splits off the first segment of `text`; `more` tells whether a '.' followed it.
struct split_segment {
  std::string_view first;
  std::string_view rest;
  bool more;
};

split_segment split_first(std::string_view text) noexcept {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return {text, {}, false};
  return {text.substr(0, dot), text.substr(dot + 1), true};
}

bool insert_sorted(record_list& list, const record* r) {
  const auto at = std::lower_bound(list.begin(), list.end(), r, std::less<>{});
  if (at != list.end() && *at == r) return false;
  list.insert(at, r);
  return true;
}

bool erase_sorted(record_list& list, const record* r) {
  const auto at = std::lower_bound(list.begin(), list.end(), r, std::less<>{});
  if (at == list.end() || *at != r) return false;
  list.erase(at);
  // Give memory back after a mass unsubscribe (e.g. thousands of connections leaving).
  if (list.empty()) {
    record_list().swap(list);
  } else if (list.size() < list.capacity() / 4) {
    list.shrink_to_fit();
  }
  return true;
}

void append_unseen(const record_list& list, std::uint64_t generation, std::vector<subscription_index::subscriber>& out) {
  for (const record* r : list) {
    if (r->second.seen_generation == generation) continue;
    r->second.seen_generation = generation;
    out.push_back(r->first);
  }
}

// Recursion depth is bounded by the trie's depth (at most topic::max_segments), whatever `name` is.
void collect(const trie_node& at, std::string_view name_rest, bool more, std::uint64_t generation,
             std::vector<subscription_index::subscriber>& out) {
  if (!more) {
    append_unseen(at.here, generation, out);
    return;
  }
  append_unseen(at.remainder, generation, out);  // '>' takes one or more of the segments left
  const auto [segment, rest, rest_more] = split_first(name_rest);
  if (const trie_node* child = at.literal(segment)) collect(*child, rest, rest_more, generation, out);
  if (at.star) collect(*at.star, rest, rest_more, generation, out);
}

}  // namespace

// The header's `node` is the index's private state: the trie's root and the subscriber registry.
struct subscription_index::node {
  trie_node trie;
  registry subscribers;
};

subscription_index::subscription_index() = default;
subscription_index::~subscription_index() = default;

subscription_index::subscription_index(subscription_index&& other) noexcept
    : root_(std::move(other.root_)), count_(std::exchange(other.count_, 0)), generation_(other.generation_) {}

subscription_index& subscription_index::operator=(subscription_index&& other) noexcept {
  if (this != &other) {
    root_ = std::move(other.root_);
    count_ = std::exchange(other.count_, 0);
    generation_ = other.generation_;
  }
  return *this;
}

bool subscription_index::add(std::string_view pattern, subscriber who) {
  if (topic::validate_pattern(pattern)) return false;  // never store a pattern that cannot match
  if (!root_) root_ = std::make_unique<node>();

  trie_node* at = &root_->trie;
  bool ends_with_remainder = false;
  // Walk the pattern's segments: `s` starts as "nothing taken yet, all of `pattern` left".
  for (split_segment s{{}, pattern, true}; s.more;) {
    s = split_first(s.rest);
    if (s.first == ">") {
      ends_with_remainder = true;
      break;
    }
    if (s.first == "*") {
      if (!at->star) at->star = std::make_unique<trie_node>();
      at = at->star.get();
      continue;
    }
    trie_node* child = at->literal(s.first);
    if (child == nullptr) {
      if (!at->literals) at->literals = std::make_unique<trie_node::literal_map>();
      child = at->literals->emplace(std::string(s.first), std::make_unique<trie_node>()).first->second.get();
    }
    at = child;
  }

  record& r = *root_->subscribers.try_emplace(who).first;
  if (!insert_sorted(ends_with_remainder ? at->remainder : at->here, &r)) return false;
  ++r.second.patterns;
  ++count_;
  return true;
}

bool subscription_index::remove(std::string_view pattern, subscriber who) {
  if (!root_ || topic::validate_pattern(pattern)) return false;
  const auto found = root_->subscribers.find(who);
  if (found == root_->subscribers.end()) return false;

  // The walk down, kept so that nodes left unused can be freed bottom-up.
  std::array<trie_node*, topic::max_segments + 1> path{};
  std::array<std::string_view, topic::max_segments> edges{};
  std::size_t depth = 0;
  path[0] = &root_->trie;
  bool ends_with_remainder = false;
  for (split_segment s{{}, pattern, true}; s.more;) {
    s = split_first(s.rest);
    if (s.first == ">") {
      ends_with_remainder = true;
      break;
    }
    trie_node* child = s.first == "*" ? path[depth]->star.get() : path[depth]->literal(s.first);
    if (child == nullptr) return false;
    edges[depth] = s.first;
    path[++depth] = child;
  }

  trie_node& last = *path[depth];
  if (!erase_sorted(ends_with_remainder ? last.remainder : last.here, &*found)) return false;
  if (--found->second.patterns == 0) root_->subscribers.erase(found);
  --count_;

  for (; depth > 0 && path[depth]->unused(); --depth) {
    trie_node& parent = *path[depth - 1];
    const std::string_view edge = edges[depth - 1];
    if (edge == "*") {
      parent.star.reset();
    } else {
      parent.literals->erase(parent.literals->find(edge));
      if (parent.literals->empty()) parent.literals.reset();
    }
  }
  return true;
}

void subscription_index::match(std::string_view name, std::vector<subscriber>& out) const {
  if (!root_ || count_ == 0) return;
  collect(root_->trie, name, !name.empty(), ++generation_, out);
}

std::size_t subscription_index::pattern_count() const noexcept { return count_; }

}  // namespace globemeet::core
