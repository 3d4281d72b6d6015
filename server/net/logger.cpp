#include "logger.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace globemeet::server::net::logger {
namespace {

std::mutex output_mutex;

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

void write(std::string_view level, std::string_view msg, std::initializer_list<field> fields) {
  boost::json::object line;
  line["ts"] = timestamp();
  line["level"] = level;
  line["msg"] = msg;
  for (const auto& f : fields) {
    std::visit([&](const auto& v) { line[f.key] = v; }, f.val);
  }
  std::string text = boost::json::serialize(line);
  text += '\n';
  std::lock_guard lock(output_mutex);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

void info(std::string_view msg, std::initializer_list<field> fields) { write("info", msg, fields); }
void warn(std::string_view msg, std::initializer_list<field> fields) { write("warn", msg, fields); }
void error(std::string_view msg, std::initializer_list<field> fields) { write("error", msg, fields); }

}  // namespace globemeet::server::net::logger
