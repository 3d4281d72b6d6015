// The end of a loop turn, for a server running one thread: connections with frames to send are
// collected here and written by one posted handler after everything already queued, so a
// fan-out batch (or several) leaves in one send per connection, as uWebSockets corks per loop
// iteration. It replaces a posted handler per connection and send (an allocation each, with
// 10,000 connections), and is only valid where every connection runs on this one thread;
// with strands each connection posts to its own.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace globemeet::server::net {

template <class Writer>  // has write_batch(); one thread only
class write_turn {
 public:
  // At most this many writers per handler: with 10,000 connections a whole turn of sends takes
  // tens of milliseconds, and reads that completed meanwhile (a publisher's next batch) are
  // handled between slices instead of after the last send.
  static constexpr std::size_t slice = 1024;

  // `writer` writes at the end of this turn (once, however often it is deferred meanwhile:
  // its own queue says whether there is anything left to send).
  static void defer(std::shared_ptr<Writer> writer, const boost::asio::any_io_executor& executor) {
    auto& turn = this_thread();
    turn.pending_.push_back(std::move(writer));
    turn.post(executor);
  }

 private:
  static write_turn& this_thread() {
    thread_local write_turn turn;
    return turn;
  }

  void post(const boost::asio::any_io_executor& executor) {
    if (posted_) return;
    posted_ = true;
    boost::asio::post(executor, [executor] { this_thread().run(executor); });
  }

  void run(const boost::asio::any_io_executor& executor) {
    posted_ = false;
    if (next_ == running_.size()) {
      // What is deferred while these write goes to the next turn.
      running_.clear();
      next_ = 0;
      running_.swap(pending_);
    }
    const std::size_t stop = std::min(running_.size(), next_ + slice);
    while (next_ < stop) {
      auto writer = std::move(running_[next_++]);
      writer->write_batch();
    }
    if (next_ < running_.size() || !pending_.empty()) post(executor);
  }

  std::vector<std::shared_ptr<Writer>> pending_, running_;
  std::size_t next_ = 0;  // running_[next_..] have not written yet
  bool posted_ = false;
};

}  // namespace globemeet::server::net
