// The server's data directory (--data-dir): created on first use, locked so that a second
// server on the same directory refuses to start, and home to the durable event log and to the
// secrets this server creates once and then reuses (the signing key; in --dev the dev secrets),
// so that tokens issued before a restart stay valid after it.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "globemeet/core/result.hpp"

namespace globemeet::server::net {

class data_dir {
 public:
  // Creates `path` (mode 0700) when it is missing and takes its lock. Errors name the path.
  static core::result<std::unique_ptr<data_dir>> open(const std::string& path);
  ~data_dir();
  data_dir(const data_dir&) = delete;
  data_dir& operator=(const data_dir&) = delete;

  const std::string& path() const noexcept { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

  // The content of file `name`; when it is missing, `make()`'s result, written first (mode 0600,
  // atomically: a crash leaves the old state or the whole file). `created` says which.
  core::result<std::string> load_or_create(std::string_view name, const std::function<std::string()>& make,
                                           bool& created) const;

 private:
  data_dir(std::string path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}
  std::string path_;
  int lock_fd_ = -1;
};

}  // namespace globemeet::server::net
