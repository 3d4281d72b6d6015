// `globemeet pub`: POST /v1/events, one event from flags or the lines of stdin in batches; prints
// the ids.
//
// Stdin lines go out as {"events":[...]} batches of up to 1,000 events and under the 1 MiB body
// limit (docs/openapi.yaml), over one kept-alive connection: one request per line cost a round
// trip and a server commit each (10,000 lines: 2.4 s before, see docs/client.md). A partial batch
// is sent as soon as stdin pauses for `idle_flush`, so a person or a slow producer typing one
// event at a time still sees each id promptly.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cli_common.hpp"
#include "http_client.hpp"

namespace globemeet::cli {
namespace {

namespace json = boost::json;

// The API's limits for one POST /v1/events (docs/openapi.yaml).
constexpr std::size_t max_batch_events = 1000;
constexpr std::size_t max_body_bytes = 1'048'576;
constexpr std::string_view batch_open = "{\"events\":[";
constexpr std::string_view batch_close = "]}";
// Long enough that a producer writing as fast as it can fills whole batches, short enough that
// an interactive user does not notice the wait.
constexpr int idle_flush_ms = 50;
// A fetched token is replaced this long before it expires, so a long interactive run keeps going.
constexpr auto token_margin = std::chrono::seconds(60);

constexpr const char* pub_usage =
    "usage: globemeet pub --type TYPE --subject SUBJECT [--data JSON] [options]\n"
    "       globemeet pub [options] < events.jsonl\n"
    "\n"
    "Publishes one event given by flags, or, without --type, one event per line of stdin (each a\n"
    "JSON object {\"type\",\"subject\",\"data\"}; blank lines are skipped). Stdin lines are sent in\n"
    "batches of up to 1,000 events (and 1 MiB) over one connection; a batch goes out as soon as\n"
    "stdin pauses for 50 ms. Prints each event id on its own line, in input order, once the server\n"
    "has stored the event. The token needs `pub: true`.\n"
    "\n"
    "  --type TYPE           event type, e.g. queue.depth-changed\n"
    "  --subject SUBJECT     the key segment (queue name or agent id)\n"
    "  --data JSON           the data object (default {})\n"
    "\n";

// Reads stdin lines straight from the file descriptor, so that it can wait for input with a
// timeout (poll) without a second thread; std::getline cannot tell "no input yet" from EOF.
class line_reader {
 public:
  enum class result { line, idle, end };

  // Waits at most `idle_ms` for a complete line (forever when negative). A last line without
  // a newline counts as a line.
  result next(std::string& line, int idle_ms) {
    for (;;) {
      if (const auto nl = buffer_.find('\n', pos_); nl != std::string::npos) {
        line.assign(buffer_, pos_, nl - pos_);
        pos_ = nl + 1;
        return result::line;
      }
      if (end_) {
        if (pos_ == buffer_.size()) return result::end;
        line.assign(buffer_, pos_);
        pos_ = buffer_.size();
        return result::line;
      }
      if (idle_ms >= 0) {
        pollfd p{STDIN_FILENO, POLLIN, 0};
        const int ready = ::poll(&p, 1, idle_ms);
        if (ready < 0 && errno != EINTR) throw runtime_failure(std::string("cannot read stdin: ") + std::strerror(errno));
        if (ready == 0) return result::idle;
        if (ready < 0) continue;
      }
      fill();
    }
  }

 private:
  void fill() {
    if (pos_ > 0 && pos_ * 2 >= buffer_.size()) {  // drop consumed lines before growing
      buffer_.erase(0, pos_);
      pos_ = 0;
    }
    char chunk[65536];
    const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) return;
      throw runtime_failure(std::string("cannot read stdin: ") + std::strerror(errno));
    }
    if (n == 0) end_ = true;
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }

  std::string buffer_;
  std::size_t pos_ = 0;
  bool end_ = false;
};

// "HTTP 400 invalid_event: events[3].data.depth: ..." from an error answer.
std::string describe_refusal(const detail::http_response& res) {
  json::error_code ec;
  const auto v = json::parse(res.body, ec);
  std::string text = "HTTP " + std::to_string(res.status);
  if (!ec && v.is_object()) {
    const auto& o = v.get_object();
    if (const auto* e = o.if_contains("error"); e && e->is_string()) text += " " + std::string(e->get_string());
    if (const auto* m = o.if_contains("message"); m && m->is_string()) text += ": " + std::string(m->get_string());
  } else if (!res.body.empty()) {
    text += ": " + res.body.substr(0, 200);
  }
  return text;
}

// The server names a bad event by its index in the batch ("events[3]..."); the user knows lines.
std::optional<std::size_t> event_index_in(const std::string& message) {
  const auto at = message.find("events[");
  if (at == std::string::npos) return std::nullopt;
  const auto end = message.find(']', at);
  const auto n = parse_count(std::string_view(message).substr(at + 7, end == std::string::npos ? 0 : end - at - 7));
  if (!n || *n < 0) return std::nullopt;
  return static_cast<std::size_t>(*n);
}

class publisher {
 public:
  explicit publisher(const connection_settings& settings)
      : settings_(settings), connection_(settings.server, settings.ca_file, settings.timeout) {
    if (!settings.token.empty()) token_ = Token{.access_token = settings.token,
                                                .expires_at = std::chrono::system_clock::time_point::max()};
  }

  // Posts one body; returns the ids of the stored events. `what` names the events in messages.
  std::vector<std::string> post(const std::string& body, const std::string& what,
                                const std::vector<long long>& lines = {}) {
    detail::http_request req;
    req.method = "POST";
    req.target = detail::join_target(settings_.server.target, "/v1/events");
    req.body = body;
    auto res = send(req, what);
    // A fetched token the server refuses (it restarted with a new signing key, or a clock
    // disagrees about its expiry): the credentials can mint another, so ask once and retry.
    // Nothing was stored by the refused request; a given --token has no second chance.
    if (res.status == 401 && token_fetched_) {
      token_.reset();
      res = send(req, what);
    }
    if (res.status != 200) {
      std::string text = describe_refusal(res);
      if (const auto index = event_index_in(text); index && *index < lines.size())
        text += "; events[" + std::to_string(*index) + "] is stdin line " + std::to_string(lines[*index]);
      throw runtime_failure("publish refused" + what + " (" + text + ")");
    }
    json::error_code ec;
    const auto v = json::parse(res.body, ec);
    const json::value* ids = (!ec && v.is_object()) ? v.get_object().if_contains("ids") : nullptr;
    if (!ids || !ids->is_array()) throw runtime_failure("publish answer has no ids: " + res.body.substr(0, 200));
    std::vector<std::string> out;
    for (const auto& id : ids->get_array())
      if (id.is_string()) out.emplace_back(id.get_string());
    return out;
  }

  unsigned connections_opened() const { return connection_.connections_opened(); }

 private:
  detail::http_response send(detail::http_request& req, const std::string& what) {
    req.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token()}};
    try {
      return connection_.send(req);
    } catch (const std::exception& e) {
      throw runtime_failure("publish failed" + what + ": " + e.what());
    }
  }

  // --token as given; with client credentials a token from the library's helper, fetched again
  // when it nears its expiry (a pipe can stay open longer than a token lives).
  const std::string& token() {
    if (!token_ || std::chrono::system_clock::now() + token_margin >= token_->expires_at) {
      if (!settings_.has_client_credentials())
        throw usage_error("no credentials: give --token (GLOBEMEET_TOKEN) or --client-id and --client-secret");
      try {
        token_ = fetch_token(settings_.credentials());
        token_fetched_ = true;
      } catch (const TokenError& e) {
        throw runtime_failure(e.what());
      }
    }
    return token_->access_token;
  }

  const connection_settings& settings_;
  detail::http_connection connection_;
  std::optional<Token> token_;
  bool token_fetched_ = false;  // token_ came from the client credentials, which can mint another
};

// Stdin lines waiting to be posted as one {"events":[...]} body.
class batch {
 public:
  batch() { body_.reserve(max_body_bytes); }

  bool empty() const { return lines_.empty(); }
  // Whether `event` (one line's JSON) still fits under both limits.
  bool fits(const std::string& event) const {
    const std::size_t size = (empty() ? batch_open.size() : body_.size() + 1) + event.size() + batch_close.size();
    return lines_.size() < max_batch_events && size <= max_body_bytes;
  }
  static bool fits_alone(const std::string& event) {
    return batch_open.size() + event.size() + batch_close.size() <= max_body_bytes;
  }
  void add(const std::string& event, long long line) {
    body_ += empty() ? batch_open : std::string_view(",");
    body_ += event;
    lines_.push_back(line);
  }

  // Posts the batch, prints its ids in order, and empties it.
  void flush(publisher& pub) {
    if (empty()) return;
    body_ += batch_close;
    const std::string what = lines_.size() == 1
                                 ? " for stdin line " + std::to_string(lines_.front())
                                 : " for stdin lines " + std::to_string(lines_.front()) + "-" +
                                       std::to_string(lines_.back()) + " (" + std::to_string(lines_.size()) + " events)";
    std::vector<std::string> ids;
    try {
      ids = pub.post(body_, what, lines_);
    } catch (const runtime_failure& e) {
      // Say where the output stops: earlier batches are stored and their ids printed.
      throw runtime_failure(std::string(e.what()) + "; none of these was published" +
                            (lines_.front() > 1 ? ", earlier lines were (their ids are on stdout)" : ""));
    }
    if (ids.size() != lines_.size())
      throw runtime_failure("publish answer" + what + " has " + std::to_string(ids.size()) + " ids");
    std::string out;
    for (const auto& id : ids) (out += id) += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    body_.clear();
    lines_.clear();
  }

 private:
  std::string body_;
  std::vector<long long> lines_;  // the stdin line of each event, to name it in errors
};

int publish_stdin(const connection_settings& settings) {
  publisher pub(settings);
  batch pending;
  line_reader reader;
  std::string line;
  long long line_number = 0;
  for (;;) {
    const auto got = reader.next(line, pending.empty() ? -1 : idle_flush_ms);
    if (got == line_reader::result::end) break;
    if (got == line_reader::result::idle) {
      pending.flush(pub);
      continue;
    }
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    json::error_code ec;
    const json::value parsed = json::parse(line, ec);
    if (ec || !parsed.is_object() || !batch::fits_alone(line)) {
      pending.flush(pub);  // everything before the bad line goes out, as its position promises
      if (ec || !parsed.is_object())
        throw runtime_failure("stdin line " + std::to_string(line_number) + " is not a JSON object");
      throw runtime_failure("stdin line " + std::to_string(line_number) + " is larger than the 1 MiB request limit");
    }
    if (!pending.fits(line)) pending.flush(pub);
    pending.add(line, line_number);
  }
  pending.flush(pub);
  return exit_ok;
}

}  // namespace

int run_pub(std::vector<std::string> args) {
  connection_settings settings;
  std::string type, subject, data;
  argument_scanner scanner(std::move(args));
  while (auto arg = scanner.next()) {
    if (*arg == "--help" || *arg == "-h") {
      std::printf("%s%s", pub_usage, common_flags_help);
      return exit_ok;
    }
    if (*arg == "--type") type = scanner.value();
    else if (*arg == "--subject") subject = scanner.value();
    else if (*arg == "--data") data = scanner.value();
    else if (!take_common_flag(scanner, *arg, settings)) throw usage_error("pub: unknown argument '" + *arg + "'");
  }
  finish_settings(settings);
  if (settings.token.empty() && !settings.has_client_credentials())
    throw usage_error("no credentials: give --token (GLOBEMEET_TOKEN) or --client-id and --client-secret");

  if (type.empty() && subject.empty() && data.empty()) return publish_stdin(settings);

  if (type.empty() || subject.empty()) throw usage_error("pub: --type and --subject go together");
  json::object event{{"type", type}, {"subject", subject}};
  if (data.empty()) {
    event["data"] = json::object();
  } else {
    json::error_code ec;
    json::value parsed = json::parse(data, ec);
    if (ec || !parsed.is_object()) throw usage_error("pub: --data must be a JSON object, got '" + data + "'");
    event["data"] = std::move(parsed);
  }
  publisher pub(settings);
  for (const auto& id : pub.post(json::serialize(event), "")) std::printf("%s\n", id.c_str());
  std::fflush(stdout);
  return exit_ok;
}

}  // namespace globemeet::cli
