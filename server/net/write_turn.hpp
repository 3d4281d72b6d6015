// The end of a loop turn, for a server running one thread: connections with frames to send are
// collected here and written by one posted handler after everything already queued, so a
// fan-out batch (or several) leaves in one send per connection, as uWebSockets corks per loop
// iteration. It replaces a posted handler per connection and send (an allocation each, with
// 10,000 connections), and is only valid where every connection runs on this one thread;
// with strands each connection posts to its own.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <utility>
#include <vector>

namespace globemeet::server::net {

template <class Writer>  // has write_batch(); one thread only
class write_turn {
 public:
  // `writer` writes at the end of this turn (once, however often it is deferred meanwhile:
  // its own queue says whether there is anything left to send).
  static void defer(std::shared_ptr<Writer> writer, const boost::asio::any_io_executor& executor) {
    auto& turn = this_thread();
    turn.pending_.push_back(std::move(writer));
    if (turn.posted_) return;
    turn.posted_ = true;
    boost::asio::post(executor, [] { this_thread().run(); });
  }

 private:
  static write_turn& this_thread() {
    thread_local write_turn turn;
    return turn;
  }

  void run() {
    posted_ = false;
    running_.swap(pending_);  // what is deferred while these write goes to the next turn
    for (auto& writer : running_) writer->write_batch();
    running_.clear();
  }

  std::vector<std::shared_ptr<Writer>> pending_, running_;
  bool posted_ = false;
};

}  // namespace globemeet::server::net
