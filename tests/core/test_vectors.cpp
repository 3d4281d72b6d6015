// The language-neutral vectors of tests/vectors/*.json, run against the native core. The wasm
// runner (tests/js/vectors.test.mjs) runs the same files with the same rules, so a vector that
// passes in both proves the two runtimes agree. An unknown file, section or member fails: a
// vector must never be added where it silently does not run.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "globemeet/core/backoff.hpp"
#include "globemeet/core/codec.hpp"
#include "globemeet/core/event_id.hpp"
#include "globemeet/core/topic.hpp"

namespace {

namespace json = boost::json;
namespace core = globemeet::core;
namespace codec = globemeet::core::codec;

// The limit check_strict_json vectors run with, unless an entry names its own `max_bytes`.
constexpr std::size_t default_strict_json_max_bytes = 65'536;

// ---- reading entries -------------------------------------------------------------------------

std::string str(const json::object& entry, std::string_view key) { return std::string(entry.at(key).as_string()); }
bool flag(const json::object& entry, std::string_view key) { return entry.at(key).as_bool(); }
template <class Number>
Number number(const json::object& entry, std::string_view key) {
  return entry.at(key).to_number<Number>();
}

std::string decode_base64(std::string_view text) {
  static constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t bits = 0;
  int pending = 0;
  for (const char c : text) {
    if (c == '=') break;
    const auto at = alphabet.find(c);
    REQUIRE(at != std::string_view::npos);
    bits = (bits << 6) | static_cast<std::uint32_t>(at);
    pending += 6;
    if (pending >= 8) {
      pending -= 8;
      out.push_back(static_cast<char>((bits >> pending) & 0xff));
    }
  }
  return out;
}

// The bytes under test: `input`, or `input_base64` for bytes JSON cannot carry (invalid UTF-8).
std::string input_of(const json::object& entry) {
  if (const auto* b64 = entry.if_contains("input_base64")) return decode_base64(b64->as_string());
  return str(entry, "input");
}

void check_message(const json::object& entry, const std::string& message) {
  if (entry.contains("message_contains")) CHECK_THAT(message, Catch::Contains(str(entry, "message_contains")));
}

// ---- the checks, one per section -------------------------------------------------------------

void check_validity(const json::object& entry, const std::optional<core::error>& problem) {
  INFO((problem ? problem->message : std::string("valid")));
  CHECK(!problem.has_value() == flag(entry, "valid"));
  if (problem && !flag(entry, "valid")) {
    CHECK(problem->code == "invalid_topic");
    check_message(entry, problem->message);
  }
}

// `valid`: a position (`from`, `head`); `event`: also the id of an event (seq 0 is not).
void check_event_id(const json::object& entry) {
  const std::string input = str(entry, "input");
  const auto parsed = core::event_id::parse(input);
  REQUIRE(parsed.has_value() == flag(entry, "valid"));
  const bool is_event = parsed && flag(entry, "event");
  CHECK(core::event_id::parse_event(input).has_value() == is_event);
  if (parsed) {
    CHECK(parsed->epoch == str(entry, "epoch"));
    CHECK(parsed->seq == number<std::uint64_t>(entry, "seq"));
    CHECK(parsed->names_event() == is_event);
    CHECK(parsed->str() == input);
  }
}

void check_backoff(const json::object& entry) {
  const auto& policy = entry.at("policy").as_object();
  const core::backoff_policy p{number<std::int64_t>(policy, "min_ms"), number<std::int64_t>(policy, "max_ms"),
                               number<double>(policy, "factor")};
  const auto attempt = static_cast<unsigned>(number<std::uint64_t>(entry, "attempt"));
  CHECK(core::backoff_delay(p, attempt, number<double>(entry, "random")) == number<std::int64_t>(entry, "expected_ms"));
}

template <class Decode>
void check_frame(const json::object& entry, Decode decode) {
  const auto decoded = decode(input_of(entry));
  if (flag(entry, "ok")) {
    INFO((decoded ? std::string() : decoded.err().message));
    REQUIRE(decoded.ok());
    const std::string canonical = str(entry, "canonical");
    CHECK(codec::encode(decoded.value()) == canonical);  // encode(decode(input))
    const auto again = decode(canonical);
    INFO((again ? std::string() : again.err().message));
    REQUIRE(again.ok());
    CHECK(codec::encode(again.value()) == canonical);    // encode(decode(canonical))
  } else {
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.err().code == str(entry, "code"));
    check_message(entry, decoded.err().message);
  }
}

void check_strict_json(const json::object& entry) {
  const std::size_t max_bytes =
      entry.contains("max_bytes") ? number<std::size_t>(entry, "max_bytes") : default_strict_json_max_bytes;
  const auto problem = codec::check_strict_json(input_of(entry), max_bytes);
  INFO((problem ? problem->message : std::string("ok")));
  CHECK(!problem.has_value() == flag(entry, "ok"));
  if (problem && !flag(entry, "ok")) {
    CHECK(problem->code == (entry.contains("code") ? str(entry, "code") : std::string("bad_json")));
    check_message(entry, problem->message);
  }
}

// ---- which file and section runs how ---------------------------------------------------------

struct section_runner {
  std::vector<std::string> required;
  std::vector<std::string> optional;
  std::function<void(const json::object&)> check;
};
using file_runner = std::map<std::string, section_runner>;

const std::vector<std::string> frame_members{"input", "input_base64", "canonical", "code", "message_contains"};

const std::map<std::string, file_runner>& runners() {
  static const std::map<std::string, file_runner> all{
      {"topics.json",
       {{"validate_name", {{"input", "valid"}, {"message_contains"},
                           [](const json::object& e) { check_validity(e, core::topic::validate_name(str(e, "input"))); }}},
        {"validate_pattern", {{"input", "valid"}, {"message_contains"},
                              [](const json::object& e) { check_validity(e, core::topic::validate_pattern(str(e, "input"))); }}},
        {"matches", {{"pattern", "name", "expected"}, {},
                     [](const json::object& e) {
                       CHECK(core::topic::matches(str(e, "pattern"), str(e, "name")) == flag(e, "expected"));
                     }}},
        {"contains", {{"outer", "inner", "expected"}, {},
                      [](const json::object& e) {
                        CHECK(core::topic::contains(str(e, "outer"), str(e, "inner")) == flag(e, "expected"));
                      }}}}},
      {"event_ids.json", {{"parse", {{"input", "valid"}, {"epoch", "seq", "event"}, check_event_id}}}},
      {"backoff.json", {{"delay", {{"policy", "attempt", "random", "expected_ms"}, {}, check_backoff}}}},
      {"frames.json",
       {{"client", {{"ok"}, frame_members,
                    [](const json::object& e) { check_frame(e, [](std::string_view t) { return codec::decode_client(t); }); }}},
        {"server", {{"ok"}, frame_members,
                    [](const json::object& e) { check_frame(e, [](std::string_view t) { return codec::decode_server(t); }); }}},
        {"strict_json", {{"ok"}, {"input", "input_base64", "code", "message_contains", "max_bytes"}, check_strict_json}}}},
  };
  return all;
}

// Members every entry may carry for people, not for the check.
const std::set<std::string> descriptive{"name", "comment"};

// An entry's members must all be understood, or part of it would silently not be checked.
void check_shape(const section_runner& runner, const json::object& entry) {
  for (const auto& member : entry) {
    const std::string key(member.key());
    INFO("member '" << key << "'");
    const bool known = descriptive.count(key) != 0 ||
                       std::find(runner.required.begin(), runner.required.end(), key) != runner.required.end() ||
                       std::find(runner.optional.begin(), runner.optional.end(), key) != runner.optional.end();
    CHECK(known);
  }
  for (const auto& key : runner.required) {
    INFO("required member '" << key << "'");
    CHECK(entry.contains(key));
  }
  const auto& opt = runner.optional;
  if (std::find(opt.begin(), opt.end(), "input") != opt.end()) {
    INFO("exactly one of input and input_base64");
    CHECK(entry.contains("input") != entry.contains("input_base64"));
  }
  if (std::find(opt.begin(), opt.end(), "canonical") != opt.end()) {
    INFO("canonical for an ok frame, code for a refused one");
    CHECK(entry.contains(entry.at("ok").as_bool() ? "canonical" : "code"));
  }
}

std::filesystem::path vectors_dir() { return GLOBEMEET_VECTORS_DIR; }

std::vector<std::string> vector_files() {
  std::vector<std::string> files;
  for (const auto& f : std::filesystem::directory_iterator(vectors_dir()))
    if (f.is_regular_file() && f.path().extension() == ".json") files.push_back(f.path().filename().string());
  std::sort(files.begin(), files.end());
  return files;
}

json::object load(const std::string& file) {
  std::ifstream in(vectors_dir() / file, std::ios::binary);
  REQUIRE(in);
  std::stringstream contents;
  contents << in.rdbuf();
  const json::value root = json::parse(contents.str());
  REQUIRE(root.is_object());
  return root.as_object();
}

// Runs every entry of every section of `file`; returns how many entries ran.
std::size_t run_file(const std::string& file) {
  const auto runner = runners().find(file);
  INFO(file);
  REQUIRE(runner != runners().end());
  std::size_t ran = 0;
  for (const auto& [section_name, entries] : load(file)) {
    const std::string section(section_name);
    INFO("section '" << section << "'");
    const auto known = runner->second.find(section);
    CHECK(known != runner->second.end());  // a section without a runner
    if (known == runner->second.end()) continue;
    REQUIRE(entries.is_array());
    CHECK_FALSE(entries.as_array().empty());
    std::size_t index = 0;
    for (const auto& item : entries.as_array()) {
      const json::object& entry = item.as_object();
      INFO("[" << index++ << "] " << json::serialize(entry));
      check_shape(known->second, entry);
      known->second.check(entry);
      ++ran;
    }
  }
  return ran;
}

}  // namespace

TEST_CASE("every vector file and section has a runner", "[vectors]") {
  const auto files = vector_files();
  REQUIRE_FALSE(files.empty());
  for (const auto& file : files) {
    INFO(file << " has no runner: add one here and in tests/js/vectors.test.mjs");
    CHECK(runners().count(file) == 1);
  }
}

TEST_CASE("every vector of every file holds for the native core", "[vectors]") {
  for (const auto& file : vector_files()) {
    if (runners().count(file) == 0) continue;  // reported by the test above
    DYNAMIC_SECTION(file) { CHECK(run_file(file) > 0); }
  }
}

// The files the runners were written for must stay: losing one would silently shrink the suite.
TEST_CASE("the known vector files are present", "[vectors]") {
  const auto files = vector_files();
  for (const auto& [file, unused] : runners()) {
    INFO(file);
    CHECK(std::find(files.begin(), files.end(), file) != files.end());
  }
}
