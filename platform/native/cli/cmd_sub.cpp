// `globemeet sub`: prints each event frame as one JSON line, reconnecting and resuming on its
// own. Status goes to stderr, events to stdout.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli_common.hpp"
#include "globemeet/client.hpp"
#include "globemeet/token.hpp"

namespace globemeet::cli {
namespace {

constexpr const char* sub_usage =
    "usage: globemeet sub [options] PATTERN...\n"
    "\n"
    "Subscribes to the topic patterns (e.g. 'queue.*.depth-changed', '>') and prints every event\n"
    "frame on stdout, one JSON object per line, as the server sent it. Reconnects and resumes\n"
    "without loss or duplicate after network failures, server restarts and overflow; status\n"
    "lines go to stderr, the last one with the delivery delay of live events (p50/p99).\n"
    "SIGINT/SIGTERM close the connection and exit 0.\n"
    "\n"
    "  --from ID             resume after this event id (e.g. the last id of a previous run);\n"
    "                        EPOCH-0 means from the first event of that epoch\n"
    "  --count N             exit 0 after N events (snapshot events included)\n"
    "  --snapshot            the current state first: the latest event of every matching topic,\n"
    "                        each marked \"snapshot\":true as the server sent it, then live events;\n"
    "                        asked again after a reset\n"
    "  --conflate            let the server conflate gauge events while this reader lags\n"
    "  --retry               keep retrying when the first connection fails (default: exit 1)\n"
    "  --quiet               no status lines on stderr\n"
    "\n";

// What the callbacks (on the I/O thread) tell the main thread.
struct run_state {
  std::mutex mutex;
  std::string failure;       // set when the command gives up
  std::string last_error;    // the latest error notice, to explain a failure without a reason
  std::atomic<bool> ever_live{false};
  std::atomic<long long> delivered{0};
};

class status_printer {
 public:
  explicit status_printer(bool quiet) : quiet_(quiet) {}
  void operator()(const std::string& line) const {
    if (!quiet_) std::fprintf(stderr, "globemeet: %s\n", line.c_str());
  }

 private:
  bool quiet_;
};

std::string describe_close(std::uint16_t code, const std::string& reason) {
  std::string text = code == 0 ? std::string() : std::to_string(code);
  if (!reason.empty()) text += (text.empty() ? "" : " ") + reason;
  return text;
}

// `{epoch}-0` is a position, not an event (docs/protocol.md section 5): saying "after" it would
// suggest an event was received. Seq has no leading zeros, so "-0" at the end means seq 0.
bool is_epoch_start(const std::string& id) { return id.size() > 2 && id.ends_with("-0"); }

std::string resume_line(const std::optional<std::string>& last) {
  if (!last) return "reconnected; no position yet: events from now on only";
  if (is_epoch_start(*last)) return "reconnected; resuming from " + *last + ", before the first event of its epoch";
  return "reconnected; resuming after " + *last;
}

std::string position_line(const std::string& last) {
  if (is_epoch_start(last)) return "no event received; position " + last + " (resume with --from " + last + ")";
  return "last event id " + last;
}

}  // namespace

int run_sub(std::vector<std::string> args) {
  connection_settings settings;
  std::vector<std::string> patterns;
  std::string from;
  long long count = 0;
  bool retry = false, quiet = false, snapshot = false, conflate = false;
  argument_scanner scanner(std::move(args));
  while (auto arg = scanner.next()) {
    if (*arg == "--help" || *arg == "-h") {
      std::printf("%s%s", sub_usage, common_flags_help);
      return exit_ok;
    }
    if (*arg == "--from") from = scanner.value();
    else if (*arg == "--count") {
      const std::string v = scanner.value();
      const auto n = parse_count(v);
      if (!n || *n < 1) throw usage_error("sub: --count must be a positive whole number, got '" + v + "'");
      count = *n;
    } else if (*arg == "--retry") retry = true;
    else if (*arg == "--snapshot") snapshot = true;
    else if (*arg == "--conflate") conflate = true;
    else if (*arg == "--quiet") quiet = true;
    else if (take_common_flag(scanner, *arg, settings)) continue;
    else if (arg->starts_with("--")) throw usage_error("sub: unknown option '" + *arg + "'");
    else patterns.push_back(*arg);
  }
  finish_settings(settings);
  if (patterns.empty()) throw usage_error("sub: give at least one topic pattern, e.g. 'queue.>'");
  if (settings.token.empty() && !settings.has_client_credentials())
    throw usage_error("no credentials: give --token (GLOBEMEET_TOKEN) or --client-id and --client-secret");

  const status_printer status(quiet);
  run_state run;
  Client* client_ptr = nullptr;  // set before start(); callbacks run only after it

  ClientOptions options;
  options.endpoint = settings.events_url();
  options.ca_file = settings.ca_file;
  if (!from.empty()) options.last_event_id = from;
  options.handshake_timeout = settings.timeout;
  options.conflate = conflate;
  if (!settings.token.empty()) {
    options.token = settings.token;
  } else {
    // The first token is fetched here, before any connection: credentials the server refuses
    // (400/401) will not get better by retrying, and fail like `globemeet token` does, in one
    // line. Only an unreachable server is left to the client's retries, under --retry.
    std::optional<std::string> first;
    try {
      first = fetch_token(settings.credentials()).access_token;
    } catch (const TokenError& e) {
      if (!retry || e.http_status() == 400 || e.http_status() == 401) throw runtime_failure(e.what());
    }
    auto first_token = std::make_shared<std::optional<std::string>>(std::move(first));
    options.token_provider = [first_token, fetch = client_credentials_provider(settings.credentials())] {
      // The provider runs one call at a time (client.hpp), so the hand-over needs no lock.
      if (*first_token) return *std::exchange(*first_token, std::nullopt);
      return fetch();
    };
  }

  options.on_state = [&](const StateChange& change) {
    if (change.to == State::live) {
      if (!run.ever_live.exchange(true)) status("connected to " + settings.events_url());
      return;
    }
    if (change.to != State::reconnecting) return;
    std::string why = describe_close(change.code, change.reason);
    // With client credentials the client asks for a fresh token once (a restarted server with a
    // new key refuses the old one); with --token there is nothing else to try.
    if (change.code == 4401 && settings.has_client_credentials() && run.ever_live) {
      status("the server refused the token (" + why + "); fetching a new one");
      return;
    }
    if (!run.ever_live && !retry) {
      std::lock_guard lock(run.mutex);
      if (why.empty()) why = run.last_error;
      run.failure = "cannot subscribe at " + settings.events_url() + ": " + (why.empty() ? "connection failed" : why);
      client_ptr->stop();
      return;
    }
    status("disconnected (" + (why.empty() ? std::string("no reason given") : why) + "); reconnecting");
  };
  options.on_reconnect = [&] { status(resume_line(client_ptr->last_event_id())); };
  options.on_overflow = [&](const std::string& last_id) {
    status("overflow: the server dropped this slow reader (it had sent up to " + (last_id.empty() ? "nothing" : last_id) + "); resuming");
  };
  options.on_reset = [&](const std::string& reason) {
    status(snapshot ? "reset (" + reason + "): events were lost; the snapshot of the current state follows"
                    : "reset (" + reason + "): events were lost; continuing from the server's position");
  };
  options.on_snapshot = [&](const std::string& pattern, std::uint64_t n) {
    status("snapshot of '" + pattern + "' complete: " + std::to_string(n) + " events; live events follow");
  };
  options.on_error = [&](const Error& e) {
    {
      std::lock_guard lock(run.mutex);
      run.last_error = e.code + (e.message.empty() ? "" : ": " + e.message);
    }
    // Before the first connection an error always comes with the state change it causes, and
    // that line (the failure, or "disconnected (...); reconnecting" under --retry) names it:
    // printing it here too made two lines of one failure.
    if (!run.ever_live) return;
    status("error " + e.code + (e.message.empty() ? "" : ": " + e.message));
  };

  std::unique_ptr<Client> client;
  try {
    client = std::make_unique<Client>(std::move(options));
  } catch (const ClientError& e) {
    throw usage_error(std::string("sub: ") + e.what());
  }
  client_ptr = client.get();

  std::vector<Subscription> subscriptions;
  for (const auto& pattern : patterns) {
    try {
      subscriptions.push_back(client->subscribe(pattern, [&](const Event& e) {
        std::fwrite(e.raw.data(), 1, e.raw.size(), stdout);
        std::fputc('\n', stdout);
        std::fflush(stdout);
        if (count > 0 && ++run.delivered == count) client_ptr->stop();
      }, SubscribeOptions{snapshot}));
    } catch (const ClientError& e) {
      throw usage_error("sub: invalid topic pattern '" + pattern + "': " + e.what());
    }
  }

  // Signals are taken synchronously by this thread; the I/O thread inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  client->start();
  bool interrupted = false;
  while (!client->wait_for(std::chrono::milliseconds(0))) {
    const timespec poll{0, 200'000'000};
    if (sigtimedwait(&signals, nullptr, &poll) > 0) {
      interrupted = true;
      client->stop();
    }
  }
  client->stop();
  const std::uint16_t code = client->final_code();
  if (const auto last = client->last_event_id()) status(position_line(*last));
  if (const LatencyStats l = client->latency(); l.count > 0)
    status("delivery delay of " + std::to_string(l.count) + " live events: p50 " + std::to_string(l.p50_ms) + " ms, p99 " +
           std::to_string(l.p99_ms) + " ms (server clock offset " + std::to_string(l.clock_offset_ms) + " ms)");
  subscriptions.clear();

  std::lock_guard lock(run.mutex);
  if (!run.failure.empty()) throw runtime_failure(run.failure);
  if (interrupted || (count > 0 && run.delivered >= count) || code == 1000) return exit_ok;
  throw runtime_failure("closed by the server (" + describe_close(code, client->final_reason()) + ")");
}

}  // namespace globemeet::cli
