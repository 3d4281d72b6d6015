// Builds the one-line JSON object a run prints. Keys and string values are ours (no escaping
// beyond quotes and backslashes is needed).
#pragma once
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

namespace bench {

class JsonLine {
 public:
  JsonLine& add(std::string_view key, std::string_view value) {
    start(key);
    text_.push_back('"');
    for (char c : value) {
      if (c == '"' || c == '\\') text_.push_back('\\');
      if (static_cast<unsigned char>(c) >= 0x20) text_.push_back(c);
    }
    text_.push_back('"');
    return *this;
  }
  JsonLine& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  JsonLine& add(std::string_view key, bool value) {
    start(key);
    text_.append(value ? "true" : "false");
    return *this;
  }
  JsonLine& add(std::string_view key, double value) {
    start(key);
    if (!std::isfinite(value)) { text_.append("null"); return *this; }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", value);
    text_.append(buf);
    return *this;
  }
  JsonLine& add(std::string_view key, long long value) {
    start(key);
    text_.append(std::to_string(value));
    return *this;
  }
  JsonLine& add(std::string_view key, int value) { return add(key, static_cast<long long>(value)); }
  JsonLine& add(std::string_view key, unsigned long long value) { return add(key, static_cast<long long>(value)); }
  JsonLine& add(std::string_view key, unsigned long value) { return add(key, static_cast<long long>(value)); }

  // Prints the object and a newline to stdout, flushed (the orchestrator reads line by line).
  void print() const {
    std::fputs(text_.c_str(), stdout);
    std::fputs("}\n", stdout);
    std::fflush(stdout);
  }

 private:
  void start(std::string_view key) {
    if (text_.size() > 1) text_.push_back(',');
    text_.push_back('"');
    text_.append(key);
    text_.append("\":");
  }
  std::string text_ = "{";
};

}  // namespace bench
