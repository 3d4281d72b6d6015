// Lets Catch2 print core::error values in failed assertions.
#pragma once
#include <catch2/catch.hpp>

#include "globemeet/core/result.hpp"

namespace Catch {
template <>
struct StringMaker<globemeet::core::error> {
  static std::string convert(const globemeet::core::error& e) {
    return "{" + e.code + ": " + e.message + "}";
  }
};
}  // namespace Catch
