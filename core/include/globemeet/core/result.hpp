// A value or an error, without exceptions crossing the core's API (C++20 has no std::expected).
#pragma once
#include <string>
#include <utility>
#include <variant>

namespace globemeet::core {

// What went wrong, in the protocol's own words: `code` is a documented error code from
// docs/protocol.md (for example "bad_json", "invalid_topic"), `message` says what and where.
struct error {
  std::string code;
  std::string message;
  friend bool operator==(const error&, const error&) = default;
};

template <class T>
class result {
 public:
  result(T value) : v_(std::move(value)) {}            // NOLINT: implicit by design
  result(error e) : v_(std::move(e)) {}                // NOLINT: implicit by design
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const error& err() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, error> v_;
};

}  // namespace globemeet::core
