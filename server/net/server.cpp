#include "server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <atomic>
#include <csignal>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http_session.hpp"
#include "logger.hpp"
#include "readiness_poller.hpp"
#include "session_registry.hpp"
#include "tls_context.hpp"

namespace globemeet::server::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr auto trim_period = std::chrono::seconds(1);
constexpr auto drain_poll = std::chrono::milliseconds(50);
constexpr auto accept_retry_delay = std::chrono::milliseconds(100);

class server {
 public:
  server(std::unique_ptr<server_state> state, std::unique_ptr<asio::ssl::context> tls)
      : state_(std::move(state)),
        tls_(std::move(tls)),
        ioc_(static_cast<int>(state_->config.threads)),
        acceptor_(asio::make_strand(ioc_)),
        signals_(ioc_, SIGTERM, SIGINT),
        trim_timer_(ioc_),
        session_tick_timer_(ioc_),
        drain_timer_(ioc_),
        accept_retry_timer_(acceptor_.get_executor()),
        poller_(ioc_, [this](std::uint64_t id, std::uint32_t events) {
          if (auto session = registry_.find(id)) session->socket_ready(events);
        }) {
    state_->poller = &poller_;
    state_->fan_out->run_fan_out_with([this](const std::function<void()>& task) { run_on_io_thread(task); });
  }

  bool listen(std::string& error_message) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(state_->config.listen_host, ec);
    if (ec) {
      // A host name: resolve it once at start.
      tcp::resolver resolver(ioc_);
      auto results = resolver.resolve(state_->config.listen_host, std::to_string(state_->config.listen_port), ec);
      if (ec || results.empty()) {
        error_message = "cannot resolve --listen host " + state_->config.listen_host;
        return false;
      }
      address = results.begin()->endpoint().address();
    }
    tcp::endpoint endpoint(address, state_->config.listen_port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      error_message = "cannot listen on " + state_->config.listen_host + ":" +
                      std::to_string(state_->config.listen_port) + ": " + ec.message();
      return false;
    }
    auto bound = acceptor_.local_endpoint();
    logger::info("listening", {{"host", bound.address().to_string()},
                               {"port", static_cast<std::int64_t>(bound.port())},
                               {"tls", tls_ != nullptr},
                               {"threads", static_cast<std::int64_t>(state_->config.threads)},
                               {"epoch", state_->log->bounds().epoch},  // empty while a jetstream log is not started
                               {"dev", state_->config.dev}});
    return true;
  }

  int run() {
    state_->log->start();  // fan-out is wired: the log may call its listener from now on
    accept();
    arm_trim();
    arm_session_tick();
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
      if (!ec) shutdown(signal);
    });
    std::vector<std::thread> threads;
    for (unsigned i = 1; i < state_->config.threads; ++i) threads.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : threads) t.join();
    state_->log->close();
    logger::info("stopped", {{"connections_left", static_cast<std::int64_t>(registry_.size())}});
    return 0;
  }

 private:
  void accept() {
    // With several threads each connection gets its own strand, so its handlers never run
    // concurrently; one thread needs none (a strand costs memory and a hop per handler).
    const asio::any_io_executor connection_executor =
        state_->config.threads > 1 ? asio::any_io_executor(asio::make_strand(ioc_)) : asio::any_io_executor(ioc_.get_executor());
    acceptor_.async_accept(connection_executor, [this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        // Out of descriptors or memory: retrying at once would only spin.
        logger::warn("accept_failed", {{"error", ec.message()}});
        accept_retry_timer_.expires_after(accept_retry_delay);
        accept_retry_timer_.async_wait([this](boost::system::error_code wait_ec) {
          if (!wait_ec) accept();
        });
        return;
      } else {
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        start_http_session(*state_, registry_, tls_.get(), std::move(socket));
      }
      accept();
    });
  }

  // One timer for every session's periodic check, instead of one per connection.
  void arm_session_tick() {
    session_tick_timer_.expires_after(std::chrono::milliseconds(session_tick_ms(state_->config)));
    session_tick_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      for (auto& session : registry_.snapshot()) session->tick();
      arm_session_tick();
    });
  }

  void arm_trim() {
    trim_timer_.expires_after(trim_period);
    trim_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      state_->log->trim(unix_now_ms());
      state_->fan_out->forget_retired();
      report_log_health();
      arm_trim();
    });
  }

  // The hub's runner (hub.hpp). On an I/O thread (memory_log's appends) the task runs at once;
  // from the log's thread it is posted and waited for. Whoever claims it first runs it, so a
  // stopped io_context (at shutdown) cannot leave the log waiting.
  void run_on_io_thread(const std::function<void()>& task) {
    if (ioc_.get_executor().running_in_this_thread() || ioc_.stopped()) {
      task();
      return;
    }
    struct handoff {
      std::atomic<bool> claimed{false};
      std::promise<void> ran;
    };
    auto shared = std::make_shared<handoff>();
    auto done = shared->ran.get_future();
    asio::post(ioc_, [shared, &task] {
      if (shared->claimed.exchange(true)) return;
      task();
      shared->ran.set_value();
    });
    while (done.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
      if (ioc_.stopped() && !shared->claimed.exchange(true)) {
        task();
        return;
      }
    }
  }

  // One line when the log stops taking appends (a full disk) and one when it takes them again.
  void report_log_health() {
    if (const std::uint64_t damaged = state_->log->stats().damaged_events; damaged != damaged_events_) {
      logger::error("log_damaged", {{"events", damaged},
                                    {"note", "stored events failed their checksum or could not be read; they were "
                                             "skipped, not served. Check the disk; restore a backup"}});
      damaged_events_ = damaged;
    }
    auto reason = state_->log->unavailable_reason();
    if (reason == log_unavailable_) return;
    if (reason)
      logger::error("log_unavailable", {{"reason", *reason}, {"note", "publishing answers 503 until the log takes writes again"}});
    else
      logger::info("log_available", {{"note", "the log takes writes again"}});
    log_unavailable_ = std::move(reason);
  }

  void shutdown(int signal) {
    logger::info("shutdown", {{"signal", static_cast<std::int64_t>(signal)},
                              {"connections", static_cast<std::int64_t>(registry_.size())},
                              {"drain_ms", state_->config.drain_ms}});
    state_->draining.store(true);
    asio::post(acceptor_.get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      accept_retry_timer_.cancel();
    });
    trim_timer_.cancel();
    for (auto& session : registry_.snapshot()) session->begin_shutdown();
    drain_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(state_->config.drain_ms);
    // A second signal stops at once.
    signals_.async_wait([this](boost::system::error_code ec, int) {
      if (!ec) ioc_.stop();
    });
    poll_drain();
  }

  void poll_drain() {
    if (registry_.size() == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
      ioc_.stop();
      return;
    }
    drain_timer_.expires_after(drain_poll);
    drain_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) poll_drain();
    });
  }

  std::unique_ptr<server_state> state_;
  std::unique_ptr<asio::ssl::context> tls_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer trim_timer_;
  asio::steady_timer session_tick_timer_;
  asio::steady_timer drain_timer_;
  asio::steady_timer accept_retry_timer_;
  std::chrono::steady_clock::time_point drain_deadline_{};
  std::optional<std::string> log_unavailable_;
  std::uint64_t damaged_events_ = 0;
  session_registry registry_;
  readiness_poller poller_;
};

}  // namespace

int run_server_until_signalled(std::unique_ptr<server_state> state) {
  std::unique_ptr<asio::ssl::context> tls;
  if (!state->config.tls_cert.empty()) {
    std::string error_message;
    tls = make_tls13_context(state->config.tls_cert, state->config.tls_key, error_message);
    if (!tls) {
      logger::error("startup_failed", {{"error", error_message}});
      return 1;
    }
  }
  // The server owns the io_context that every session's handlers run on; sessions still
  // alive after the drain are destroyed with it.
  auto srv = std::make_unique<server>(std::move(state), std::move(tls));
  std::string error_message;
  if (!srv->listen(error_message)) {
    logger::error("startup_failed", {{"error", error_message}});
    return 1;
  }
  return srv->run();
}

}  // namespace globemeet::server::net
