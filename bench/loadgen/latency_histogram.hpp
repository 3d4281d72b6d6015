// HDR-style log-linear histogram of nanosecond latencies: 64 sub-buckets per power of two,
// so any recorded value is reported within 1/64 (1.6%) of itself. Fixed memory, O(1) record.
#pragma once
#include <array>
#include <bit>
#include <cstdint>

namespace bench {

class LatencyHistogram {
 public:
  void record(std::uint64_t ns) {
    ++counts_[index_of(ns)];
    ++total_;
    if (ns > max_) max_ = ns;
  }

  void merge(const LatencyHistogram& other) {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    if (other.max_ > max_) max_ = other.max_;
  }

  void reset() { *this = LatencyHistogram{}; }

  std::uint64_t count() const { return total_; }
  std::uint64_t max() const { return max_; }

  // The value at quantile q (0..1): the middle of the bucket holding that rank.
  std::uint64_t quantile(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_));
    if (rank >= total_) rank = total_ - 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen > rank) return midpoint_of(i);
    }
    return max_;
  }

 private:
  static constexpr unsigned kSubBits = 6;  // 64 sub-buckets
  static constexpr std::size_t kLinear = std::size_t{1} << (kSubBits + 1);  // values < 128 exact
  static constexpr std::size_t kBuckets = kLinear + (64 - kSubBits - 1) * (std::size_t{1} << kSubBits);

  static std::size_t index_of(std::uint64_t v) {
    if (v < kLinear) return static_cast<std::size_t>(v);
    const auto exponent = static_cast<unsigned>(63 - std::countl_zero(v));  // >= 7
    const auto sub = static_cast<std::size_t>((v >> (exponent - kSubBits)) & ((1u << kSubBits) - 1));
    return kLinear + (exponent - kSubBits - 1) * (std::size_t{1} << kSubBits) + sub;
  }

  static std::uint64_t midpoint_of(std::size_t index) {
    if (index < kLinear) return index;
    const std::size_t rel = index - kLinear;
    const unsigned exponent = static_cast<unsigned>(rel >> kSubBits) + kSubBits + 1;
    const std::uint64_t sub = rel & ((std::size_t{1} << kSubBits) - 1);
    const std::uint64_t width = std::uint64_t{1} << (exponent - kSubBits);
    const std::uint64_t low = (std::uint64_t{1} << exponent) + sub * width;
    return low + width / 2;
  }

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace bench
