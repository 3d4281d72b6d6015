#include "tcp_proxy.hpp"

#include <array>
#include <future>
#include <list>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace globemeet::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct tcp_proxy::impl {
  // One client connection and its upstream; both directions are pumped until either side ends.
  struct pair : std::enable_shared_from_this<pair> {
    explicit pair(asio::io_context& ioc) : client(ioc), upstream(ioc) {}
    tcp::socket client, upstream;
    std::array<char, 16384> up{}, down{};

    void pump(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buffer) {
      from.async_read_some(asio::buffer(buffer), [self = shared_from_this(), &from, &to, &buffer](auto ec, std::size_t n) {
        if (ec) return self->shut();
        asio::async_write(to, asio::buffer(buffer.data(), n), [self, &from, &to, &buffer](auto write_ec, std::size_t) {
          if (write_ec) return self->shut();
          self->pump(from, to, buffer);
        });
      });
    }
    // SO_LINGER 0: close() sends RST, what a dead network path looks like to both ends.
    void reset() {
      boost::system::error_code ignored;
      for (auto* s : {&client, &upstream}) {
        if (!s->is_open()) continue;
        s->set_option(asio::socket_base::linger(true, 0), ignored);
        s->close(ignored);
      }
    }
    void shut() {
      boost::system::error_code ignored;
      client.close(ignored);
      upstream.close(ignored);
    }
  };

  explicit impl(std::uint16_t target) : target_port(target), acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread = std::thread([this] { ioc.run(); });
  }
  ~impl() {
    ioc.stop();
    thread.join();
  }

  void accept() {
    auto p = std::make_shared<pair>(ioc);
    acceptor.async_accept(p->client, [this, p](boost::system::error_code ec) {
      if (ec) return;
      if (holding) {
        p->reset();
      } else {
        boost::system::error_code connect_ec;
        p->upstream.connect({asio::ip::make_address("127.0.0.1"), target_port}, connect_ec);
        if (connect_ec) {
          p->reset();
        } else {
          pairs.remove_if([](const std::weak_ptr<pair>& w) { return w.expired(); });
          pairs.push_back(p);
          p->pump(p->client, p->upstream, p->up);
          p->pump(p->upstream, p->client, p->down);
        }
      }
      accept();
    });
  }

  // Runs `f` on the proxy's thread and waits for it, so the test sees its effect at once.
  template <class F>
  auto on_thread(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto done = task.get_future();
    asio::post(ioc, [&task] { task(); });
    return done.get();
  }

  std::uint16_t target_port;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  std::list<std::weak_ptr<pair>> pairs;  // proxy thread only
  bool holding = false;                  // proxy thread only
  std::thread thread;
};

tcp_proxy::tcp_proxy(std::uint16_t target_port) : impl_(std::make_unique<impl>(target_port)) {}
tcp_proxy::~tcp_proxy() = default;

std::uint16_t tcp_proxy::port() const { return impl_->acceptor.local_endpoint().port(); }

void tcp_proxy::cut_and_hold() {
  impl_->on_thread([this] {
    impl_->holding = true;
    for (auto& p : impl_->pairs)
      if (auto live = p.lock()) live->reset();
    impl_->pairs.clear();
  });
}

void tcp_proxy::release() {
  impl_->on_thread([this] { impl_->holding = false; });
}

}  // namespace globemeet::test
