// Frame decoding reads the strict DOM of strict_json.hpp member by member; encoding writes text
// directly (json_writer.hpp) in a fixed member order, `op` first, so equal frames give equal
// bytes. The member orders are listed at the encoders below.
#include "globemeet/core/codec.hpp"

#include <cstdint>
#include <exception>
#include <limits>
#include <utility>
#include <vector>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>

#include "globemeet/core/event_id.hpp"
#include "json_writer.hpp"
#include "strict_json.hpp"

namespace globemeet::core::codec {
namespace {

namespace json = boost::json;

constexpr std::size_t max_request_id_chars = 64;  // `req`, in code points
constexpr std::size_t max_topics_per_request = 64;
constexpr std::size_t max_token_bytes = 16 * 1024;
constexpr std::string_view event_spec_version = "1.0";
constexpr std::string_view event_content_type = "application/json";
constexpr auto int64_max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

// Frames are small: most parse without touching the heap.
constexpr std::size_t parse_buffer_bytes = 4096;

error bad_frame(std::string message) { return error{"bad_frame", std::move(message)}; }

std::string_view view(const json::string& s) noexcept { return {s.data(), s.size()}; }

std::size_t count_code_points(std::string_view utf8) noexcept {
  std::size_t count = 0;
  for (char c : utf8) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // skip continuations
  return count;
}

// Reads the members of one frame object. The first problem is kept and every later read
// returns a default, so that a decoder reads straight through and checks once at the end.
class member_reader {
 public:
  explicit member_reader(const json::object& object) : object_(object) {}

  const std::optional<error>& failure() const noexcept { return failure_; }

  std::string required_string(std::string_view name) {
    const json::string* s = as_string(name, required(name));
    return s ? std::string(view(*s)) : std::string();
  }

  // Absent stays nullopt; with `null_is_absent`, so does null (members documented as nullable).
  std::optional<std::string> optional_string(std::string_view name, bool null_is_absent) {
    const json::value* v = present(name);
    if (!v || (null_is_absent && v->is_null())) return std::nullopt;
    const json::string* s = as_string(name, v);
    if (!s) return std::nullopt;
    return std::string(view(*s));
  }

  // `req`: absent (returned as "") or 1 to 64 characters.
  std::string request_id() {
    const std::optional<std::string> req = optional_string("req", false);
    if (!req) return {};
    const std::size_t chars = count_code_points(*req);
    if (chars < 1 || chars > max_request_id_chars)
      fail(member("req") + ": expected 1 to " + std::to_string(max_request_id_chars) +
           " characters, got " + std::to_string(chars));
    return *req;
  }

  // An event's id. `{epoch}-0` names the position before an epoch's first event and is no
  // event's id, so it is refused here like any other text that is not an id.
  std::string event_identifier(std::string_view name) {
    std::string id = required_string(name);
    if (!failure_ && !event_id::parse_event(id))
      fail(member(name) + ": expected an event id {epoch}-{seq} with seq 1 to 2^53-1, got \"" +
           strict_json::excerpt(id) + "\"");
    return id;
  }

  // Any non-empty string: its length is the verifier's to judge, so a token over 16,384 bytes
  // is refused as a token (close 4401, `invalid_token`) like on the handshake, not as a frame.
  std::string token(std::string_view name) {
    std::string t = required_string(name);
    if (failure_) return {};
    if (t.empty()) fail(member(name) + ": expected a non-empty string");
    return t;
  }

  std::vector<std::string> string_array(std::string_view name, std::size_t min_entries,
                                        std::size_t max_entries) {
    std::vector<std::string> strings;
    const json::value* v = required(name);
    if (!v) return strings;
    const json::array* array = v->if_array();
    if (!array) {
      fail(member(name) + ": expected an array, got " + std::string(strict_json::kind_name(*v)));
      return strings;
    }
    if (array->size() < min_entries || array->size() > max_entries) {
      fail(member(name) + ": expected " + std::to_string(min_entries) + " to " +
           std::to_string(max_entries) + " entries, got " + std::to_string(array->size()));
      return strings;
    }
    strings.reserve(array->size());
    for (std::size_t i = 0; i < array->size(); ++i) {
      const json::value& entry = (*array)[i];
      const json::string* s = entry.if_string();
      if (!s) {
        fail("member " + strict_json::member_path_index(strict_json::member_path_key("", name), i) +
             ": expected a string, got " + std::string(strict_json::kind_name(entry)));
        return {};
      }
      strings.emplace_back(view(*s));
    }
    return strings;
  }

  // A non-negative integer that fits int64 (times, durations, expiries).
  std::int64_t non_negative_integer(std::string_view name) {
    return static_cast<std::int64_t>(unsigned_integer(name, int64_max));
  }

  // The same, or nullopt when absent (members newer servers add, like `time_ms`).
  std::optional<std::int64_t> optional_non_negative_integer(std::string_view name) {
    if (!present(name)) return std::nullopt;
    const std::int64_t value = non_negative_integer(name);
    if (failure_) return std::nullopt;
    return value;
  }

  // A boolean, false when absent.
  bool optional_boolean(std::string_view name) {
    const json::value* v = present(name);
    if (!v) return false;
    if (const bool* b = v->if_bool()) return *b;
    fail(member(name) + ": expected a boolean, got " + std::string(strict_json::kind_name(*v)));
    return false;
  }

  // A flag that is either absent or `true` (an event's `snapshot`): false when absent.
  bool absent_or_true(std::string_view name) {
    const json::value* v = present(name);
    if (!v) return false;
    if (const bool* b = v->if_bool(); b && *b) return true;
    fail(member(name) + ": expected true or no member, got " +
         (v->is_bool() ? std::string("false") : std::string(strict_json::kind_name(*v))));
    return false;
  }

  std::uint64_t unsigned_integer(std::string_view name,
                                 std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
    const json::value* v = required(name);
    if (!v) return 0;
    if (const auto* u = v->if_uint64()) {
      if (*u <= max) return *u;
      fail(member(name) + ": " + std::to_string(*u) + " is out of range (at most " + std::to_string(max) +
           ")");
      return 0;
    }
    if (const auto* i = v->if_int64()) {
      if (*i >= 0 && static_cast<std::uint64_t>(*i) <= max) return static_cast<std::uint64_t>(*i);
      fail(member(name) + ": " + std::to_string(*i) + " is out of range (0 to " + std::to_string(max) + ")");
      return 0;
    }
    if (v->is_double())
      fail(member(name) + ": expected an integer, got a number with a fraction or exponent");
    else
      fail(member(name) + ": expected an integer, got " + std::string(strict_json::kind_name(*v)));
    return 0;
  }

  const json::object* object(std::string_view name) {
    const json::value* v = required(name);
    if (!v) return nullptr;
    if (const json::object* o = v->if_object()) return o;
    fail(member(name) + ": expected an object, got " + std::string(strict_json::kind_name(*v)));
    return nullptr;
  }

  // A string member that must be exactly `expected`; `required` says whether it may be absent.
  void expect_exactly(std::string_view name, std::string_view expected, bool is_required) {
    const json::value* v = is_required ? required(name) : present(name);
    const json::string* s = as_string(name, v);
    if (s && view(*s) != expected)
      fail(member(name) + ": expected \"" + std::string(expected) + "\", got \"" +
           strict_json::excerpt(view(*s)) + "\"");
  }

 private:
  static std::string member(std::string_view name) {
    return "member " + strict_json::member_path_key("", name);
  }

  void fail(std::string message) {
    if (!failure_) failure_ = bad_frame(std::move(message));
  }

  const json::value* present(std::string_view name) const {
    return failure_ ? nullptr : object_.if_contains(name);
  }

  const json::value* required(std::string_view name) {
    const json::value* v = present(name);
    if (!v && !failure_) fail("missing member '" + std::string(name) + "'");
    return v;
  }

  const json::string* as_string(std::string_view name, const json::value* v) {
    if (!v) return nullptr;
    if (const json::string* s = v->if_string()) return s;
    fail(member(name) + ": expected a string, got " + std::string(strict_json::kind_name(*v)));
    return nullptr;
  }

  const json::object& object_;
  std::optional<error> failure_;
};

template <class Frame, class Variant>
result<Variant> finish(const member_reader& reader, Frame&& frame) {
  if (reader.failure()) return *reader.failure();
  return Variant{std::forward<Frame>(frame)};
}

// The `op` member, or the error for a frame without a usable one.
result<std::string> read_op(const json::object& object) {
  const json::value* op = object.if_contains("op");
  if (!op) return bad_frame("missing member 'op'");
  const json::string* s = op->if_string();
  if (!s) return bad_frame("member 'op': expected a string, got " + std::string(strict_json::kind_name(*op)));
  return std::string(view(*s));
}

error unknown_op(std::string_view op) {
  return bad_frame("member 'op': unknown op '" + strict_json::excerpt(op) + "'");
}

// ---- client frames -----------------------------------------------------------------------------

result<client_frame> decode_client_object(const json::object& object) {
  result<std::string> op = read_op(object);
  if (!op) return op.err();
  member_reader r(object);
  using F = client_frame;
  if (op.value() == "subscribe") {
    subscribe_frame f;
    f.req = r.request_id();
    f.topics = r.string_array("topics", 1, max_topics_per_request);
    f.from = r.optional_string("from", false);
    f.snapshot = r.optional_boolean("snapshot");
    f.conflate = r.optional_boolean("conflate");
    return finish<subscribe_frame, F>(r, std::move(f));
  }
  if (op.value() == "ping") {
    ping_frame f;
    f.req = r.request_id();
    return finish<ping_frame, F>(r, std::move(f));
  }
  if (op.value() == "unsubscribe") {
    unsubscribe_frame f;
    f.req = r.request_id();
    f.topics = r.string_array("topics", 1, max_topics_per_request);
    return finish<unsubscribe_frame, F>(r, std::move(f));
  }
  if (op.value() == "refresh") {
    refresh_frame f;
    f.req = r.request_id();
    f.token = r.token("token");
    return finish<refresh_frame, F>(r, std::move(f));
  }
  if (op.value() == "auth") {
    auth_frame f;
    f.token = r.token("token");
    return finish<auth_frame, F>(r, std::move(f));
  }
  return unknown_op(op.value());
}

// ---- server frames -----------------------------------------------------------------------------

// Server frames carry no count limit on `topics`: a refresh may revoke every pattern at once.
constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

result<server_frame> decode_event(member_reader& r) {
  event_frame f;
  event& ev = f.ev;
  r.expect_exactly("specversion", event_spec_version, true);
  ev.id = r.event_identifier("id");
  ev.source = r.required_string("source");
  ev.type = r.required_string("type");
  ev.subject = r.required_string("subject");
  ev.time = r.required_string("time");
  r.expect_exactly("datacontenttype", event_content_type, false);
  ev.topic = r.required_string("topic");
  ev.tenant = r.required_string("tenant");
  ev.snapshot = r.absent_or_true("snapshot");
  if (const json::object* data = r.object("data")) {
    ev.data_json.reserve(256);
    json_writer::append_object(ev.data_json, *data);
  }
  return finish<event_frame, server_frame>(r, std::move(f));
}

result<server_frame> decode_server_object(const json::object& object) {
  result<std::string> op = read_op(object);
  if (!op) return op.err();
  member_reader r(object);
  using F = server_frame;
  const std::string& name = op.value();
  if (name == "event") return decode_event(r);
  if (name == "subscribed") {
    subscribed_frame f;
    f.req = r.request_id();
    f.topics = r.string_array("topics", 0, unlimited);
    f.head = r.optional_string("head", true);
    return finish<subscribed_frame, F>(r, std::move(f));
  }
  if (name == "replayed") {
    replayed_frame f;
    f.req = r.request_id();
    f.count = r.unsigned_integer("count");
    return finish<replayed_frame, F>(r, std::move(f));
  }
  if (name == "snapshotted") {
    snapshotted_frame f;
    f.req = r.request_id();
    f.count = r.unsigned_integer("count");
    return finish<snapshotted_frame, F>(r, std::move(f));
  }
  if (name == "pong") {
    pong_frame f;
    f.req = r.request_id();
    f.time_ms = r.optional_non_negative_integer("time_ms");
    return finish<pong_frame, F>(r, std::move(f));
  }
  if (name == "ready") {
    ready_frame f;
    f.sub = r.required_string("sub");
    f.tenant = r.required_string("tenant");
    f.exp = r.non_negative_integer("exp");
    f.heartbeat_ms = r.non_negative_integer("heartbeat_ms");
    f.time_ms = r.optional_non_negative_integer("time_ms");
    f.head = r.optional_string("head", true);
    return finish<ready_frame, F>(r, std::move(f));
  }
  if (name == "unsubscribed") {
    unsubscribed_frame f;
    f.req = r.request_id();
    f.topics = r.string_array("topics", 0, unlimited);
    f.reason = r.required_string("reason");
    return finish<unsubscribed_frame, F>(r, std::move(f));
  }
  if (name == "refreshed") {
    refreshed_frame f;
    f.req = r.request_id();
    f.exp = r.non_negative_integer("exp");
    return finish<refreshed_frame, F>(r, std::move(f));
  }
  if (name == "reset") {
    reset_frame f;
    f.reason = r.required_string("reason");
    f.from = r.optional_string("from", true);
    f.position = r.optional_string("position", true);
    return finish<reset_frame, F>(r, std::move(f));
  }
  if (name == "overflow") {
    overflow_frame f;
    f.lag_ms = r.non_negative_integer("lag_ms");
    f.last_id = r.optional_string("last_id", true);
    return finish<overflow_frame, F>(r, std::move(f));
  }
  if (name == "expiring") {
    expiring_frame f;
    f.exp = r.non_negative_integer("exp");
    f.grace_ms = r.non_negative_integer("grace_ms");
    return finish<expiring_frame, F>(r, std::move(f));
  }
  if (name == "closing") {
    closing_frame f;
    f.reason = r.required_string("reason");
    f.reconnect_after_ms = r.non_negative_integer("reconnect_after_ms");
    return finish<closing_frame, F>(r, std::move(f));
  }
  if (name == "error") {
    error_frame f;
    f.req = r.request_id();
    f.code = r.required_string("code");
    f.message = r.required_string("message");
    f.topic = r.optional_string("topic", false).value_or(std::string());
    return finish<error_frame, F>(r, std::move(f));
  }
  return unknown_op(name);
}

// Parses `text` strictly and hands the object to `decode`; Boost's exceptions stop here.
template <class Frame, class Decode>
result<Frame> decode_text(std::string_view text, std::size_t max_bytes, Decode decode) {
  try {
    unsigned char buffer[parse_buffer_bytes];
    json::monotonic_resource memory(buffer, sizeof buffer);
    result<json::object> parsed = strict_json::parse_object(text, max_bytes, json::storage_ptr(&memory));
    if (!parsed) return parsed.err();
    return decode(parsed.value());
  } catch (const std::exception& e) {
    return error{"bad_json", std::string("cannot decode: ") + e.what()};
  }
}

// ---- encoding ----------------------------------------------------------------------------------

// Writes `{"op":"<op>"` then members in call order; names are our own ASCII identifiers.
class frame_writer {
 public:
  explicit frame_writer(std::string_view op) {
    out_.reserve(96);
    out_.append(R"({"op":)");
    json_writer::append_string(out_, op);
  }

  frame_writer& string(std::string_view name, std::string_view value) {
    open(name);
    json_writer::append_string(out_, value);
    return *this;
  }
  frame_writer& string_unless_empty(std::string_view name, std::string_view value) {
    return value.empty() ? *this : string(name, value);
  }
  frame_writer& optional_string(std::string_view name, const std::optional<std::string>& value) {
    return value ? string(name, *value) : *this;
  }
  frame_writer& optional_integer(std::string_view name, const std::optional<std::int64_t>& value) {
    return value ? integer(name, *value) : *this;
  }
  frame_writer& true_if(std::string_view name, bool value) {
    if (!value) return *this;
    open(name);
    out_.append("true");
    return *this;
  }
  frame_writer& string_or_null(std::string_view name, const std::optional<std::string>& value) {
    if (value) return string(name, *value);
    open(name);
    out_.append("null");
    return *this;
  }
  frame_writer& integer(std::string_view name, std::int64_t value) {
    open(name);
    json_writer::append_integer(out_, value);
    return *this;
  }
  frame_writer& unsigned_integer(std::string_view name, std::uint64_t value) {
    open(name);
    json_writer::append_unsigned(out_, value);
    return *this;
  }
  frame_writer& strings(std::string_view name, const std::vector<std::string>& values) {
    open(name);
    out_.push_back('[');
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i) out_.push_back(',');
      json_writer::append_string(out_, values[i]);
    }
    out_.push_back(']');
    return *this;
  }
  std::string finish() {
    out_.push_back('}');
    return std::move(out_);
  }

 private:
  void open(std::string_view name) {
    out_.append(",\"");
    out_.append(name);
    out_.append("\":");
  }
  std::string out_;
};

// Member order, client frames: auth(token); subscribe(req, topics, from, snapshot, conflate);
// unsubscribe(req, topics); refresh(req, token); ping(req). Empty req, absent from and false
// flags are omitted.
std::string encode_frame(const auth_frame& f) {
  return frame_writer("auth").string("token", f.token).finish();
}
std::string encode_frame(const subscribe_frame& f) {
  return frame_writer("subscribe").string_unless_empty("req", f.req).strings("topics", f.topics)
      .optional_string("from", f.from).true_if("snapshot", f.snapshot).true_if("conflate", f.conflate).finish();
}
std::string encode_frame(const unsubscribe_frame& f) {
  return frame_writer("unsubscribe").string_unless_empty("req", f.req).strings("topics", f.topics).finish();
}
std::string encode_frame(const refresh_frame& f) {
  return frame_writer("refresh").string_unless_empty("req", f.req).string("token", f.token).finish();
}
std::string encode_frame(const ping_frame& f) {
  return frame_writer("ping").string_unless_empty("req", f.req).finish();
}

// Member order, server frames: ready(sub, tenant, exp, heartbeat_ms, time_ms, head);
// subscribed(req, topics, head); replayed(req, count); snapshotted(req, count); unsubscribed(req,
// topics, reason); refreshed(req, exp); pong(req, time_ms); reset(reason, from, position); overflow(lag_ms, last_id); expiring(exp, grace_ms);
// closing(reason, reconnect_after_ms); error(req, code, message, topic); event: encode_event.
// An absent `head` or `position` is written as null (see frames.hpp); other absent members
// (`time_ms` included) are omitted.
std::string encode_frame(const ready_frame& f) {
  return frame_writer("ready").string("sub", f.sub).string("tenant", f.tenant).integer("exp", f.exp)
      .integer("heartbeat_ms", f.heartbeat_ms).optional_integer("time_ms", f.time_ms)
      .string_or_null("head", f.head).finish();
}
std::string encode_frame(const subscribed_frame& f) {
  return frame_writer("subscribed").string_unless_empty("req", f.req).strings("topics", f.topics)
      .string_or_null("head", f.head).finish();
}
std::string encode_frame(const replayed_frame& f) {
  return frame_writer("replayed").string_unless_empty("req", f.req).unsigned_integer("count", f.count)
      .finish();
}
std::string encode_frame(const snapshotted_frame& f) {
  return frame_writer("snapshotted").string_unless_empty("req", f.req).unsigned_integer("count", f.count)
      .finish();
}
std::string encode_frame(const unsubscribed_frame& f) {
  return frame_writer("unsubscribed").string_unless_empty("req", f.req).strings("topics", f.topics)
      .string("reason", f.reason).finish();
}
std::string encode_frame(const refreshed_frame& f) {
  return frame_writer("refreshed").string_unless_empty("req", f.req).integer("exp", f.exp).finish();
}
std::string encode_frame(const pong_frame& f) {
  return frame_writer("pong").string_unless_empty("req", f.req).optional_integer("time_ms", f.time_ms).finish();
}
std::string encode_frame(const event_frame& f) { return encode_event(f.ev); }
std::string encode_frame(const reset_frame& f) {
  return frame_writer("reset").string("reason", f.reason).optional_string("from", f.from)
      .string_or_null("position", f.position).finish();
}
std::string encode_frame(const overflow_frame& f) {
  return frame_writer("overflow").integer("lag_ms", f.lag_ms).optional_string("last_id", f.last_id).finish();
}
std::string encode_frame(const expiring_frame& f) {
  return frame_writer("expiring").integer("exp", f.exp).integer("grace_ms", f.grace_ms).finish();
}
std::string encode_frame(const closing_frame& f) {
  return frame_writer("closing").string("reason", f.reason)
      .integer("reconnect_after_ms", f.reconnect_after_ms).finish();
}
std::string encode_frame(const error_frame& f) {
  return frame_writer("error").string_unless_empty("req", f.req).string("code", f.code)
      .string("message", f.message).string_unless_empty("topic", f.topic).finish();
}

// ---- JWT ---------------------------------------------------------------------------------------

int base64url_digit(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Unpadded base64url (RFC 7515 section 2), or nullopt.
std::optional<std::string> decode_base64url(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string bytes;
  bytes.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (char c : text) {
    const int digit = base64url_digit(c);
    if (digit < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(digit);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      bytes.push_back(static_cast<char>((bits >> bit_count) & 0xFF));
    }
  }
  return bytes;
}

}  // namespace

result<client_frame> decode_client(std::string_view text) {
  return decode_text<client_frame>(text, max_client_frame_bytes, decode_client_object);
}

result<server_frame> decode_server(std::string_view text) {
  return decode_text<server_frame>(text, max_server_frame_bytes, decode_server_object);
}

std::string encode(const client_frame& frame) {
  return std::visit([](const auto& f) { return encode_frame(f); }, frame);
}

std::string encode(const server_frame& frame) {
  return std::visit([](const auto& f) { return encode_frame(f); }, frame);
}

// Member order: op, specversion, id, source, type, subject, time, datacontenttype, topic,
// tenant, snapshot (only on snapshot events), data. Written straight into one buffer: this runs
// once per published event.
std::string encode_event(const event& ev) {
  static constexpr std::string_view head = R"({"op":"event","specversion":"1.0","id":)";
  static constexpr std::string_view content_type = R"(,"datacontenttype":"application/json","topic":)";
  std::string out;
  out.reserve(head.size() + content_type.size() + 80 + ev.id.size() + ev.source.size() + ev.type.size() +
              ev.subject.size() + ev.time.size() + ev.topic.size() + ev.tenant.size() + ev.data_json.size());
  out.append(head);
  json_writer::append_string(out, ev.id);
  out.append(R"(,"source":)");
  json_writer::append_string(out, ev.source);
  out.append(R"(,"type":)");
  json_writer::append_string(out, ev.type);
  out.append(R"(,"subject":)");
  json_writer::append_string(out, ev.subject);
  out.append(R"(,"time":)");
  json_writer::append_string(out, ev.time);
  out.append(content_type);
  json_writer::append_string(out, ev.topic);
  out.append(R"(,"tenant":)");
  json_writer::append_string(out, ev.tenant);
  if (ev.snapshot) out.append(R"(,"snapshot":true)");
  out.append(R"(,"data":)");
  out.append(ev.data_json.empty() ? std::string_view("{}") : std::string_view(ev.data_json));
  out.push_back('}');
  return out;
}

std::optional<error> check_strict_json(std::string_view text, std::size_t max_bytes) {
  try {
    unsigned char buffer[parse_buffer_bytes];
    json::monotonic_resource memory(buffer, sizeof buffer);
    result<json::object> parsed = strict_json::parse_object(text, max_bytes, json::storage_ptr(&memory));
    if (!parsed) return parsed.err();
    return std::nullopt;
  } catch (const std::exception& e) {
    return error{"bad_json", std::string("cannot check: ") + e.what()};
  }
}

std::optional<std::int64_t> jwt_expiry(std::string_view token) {
  const std::size_t first_dot = token.find('.');
  if (first_dot == std::string_view::npos) return std::nullopt;
  const std::size_t second_dot = token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos)
    return std::nullopt;
  const std::optional<std::string> payload =
      decode_base64url(token.substr(first_dot + 1, second_dot - first_dot - 1));
  if (!payload) return std::nullopt;
  try {
    unsigned char buffer[parse_buffer_bytes];
    json::monotonic_resource memory(buffer, sizeof buffer);
    result<json::object> claims =
        strict_json::parse_object(*payload, max_token_bytes, json::storage_ptr(&memory));
    if (!claims) return std::nullopt;
    const json::value* exp = claims.value().if_contains("exp");
    if (!exp) return std::nullopt;
    if (const auto* i = exp->if_int64()) return *i;
    if (const auto* u = exp->if_uint64(); u && *u <= int64_max)
      return static_cast<std::int64_t>(*u);
    return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace globemeet::core::codec
