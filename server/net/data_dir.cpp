#include "data_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace globemeet::server::net {
namespace {

core::error dir_error(const std::string& what) { return core::error{"data_dir", what}; }

std::string errno_text() { return std::strerror(errno); }

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void sync_directory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

core::result<std::unique_ptr<data_dir>> data_dir::open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
      return dir_error("cannot create --data-dir " + path + ": " + errno_text());
  } else if (!std::filesystem::is_directory(path, ec)) {
    return dir_error("--data-dir " + path + " is not a directory");
  }
  const std::string lock_path = path + "/LOCK";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return dir_error("cannot open " + lock_path + ": " + errno_text());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const std::string why = errno == EWOULDBLOCK ? "another globemeet-server is using it" : errno_text();
    ::close(fd);
    return dir_error("cannot lock --data-dir " + path + ": " + why);
  }
  return std::unique_ptr<data_dir>(new data_dir(path, fd));
}

data_dir::~data_dir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

core::result<std::string> data_dir::load_or_create(std::string_view name, const std::function<std::string()>& make,
                                                   bool& created) const {
  const std::string target = file(name);
  created = false;
  if (std::ifstream in{target, std::ios::binary}) {
    std::stringstream text;
    text << in.rdbuf();
    if (!in.bad()) return text.str();
    return dir_error("cannot read " + target);
  }
  if (errno != ENOENT && std::filesystem::exists(target)) return dir_error("cannot read " + target + ": " + errno_text());

  const std::string content = make();
  if (content.empty()) return dir_error("cannot make " + target);
  const std::string temporary = target + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return dir_error("cannot write " + temporary + ": " + errno_text());
  const bool written = write_all(fd, content) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), target.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return dir_error("cannot write " + target + ": " + errno_text());
  }
  sync_directory(path_);
  created = true;
  return content;
}

}  // namespace globemeet::server::net
