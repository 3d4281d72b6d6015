#include "live_server.hpp"

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace globemeet::test {
namespace {

namespace json = boost::json;

std::string base64url(const std::string& in) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (const unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(buffer >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(buffer << (6 - bits)) & 63]);
  return out;
}

std::string random_secret() {
  std::random_device rd;
  std::string s;
  for (int i = 0; i < 32; ++i) s.push_back(static_cast<char>(rd() & 0xff));
  return base64url(s);
}

// Reads stdout lines until the server's {"msg":"listening"} line; returns its port. The dev
// OAuth client, logged before it, goes to `client_id` and `client_secret`.
std::uint16_t read_port(int fd, std::string& client_id, std::string& client_secret) {
  std::string buffered;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    std::array<char, 4096> chunk{};
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n <= 0) break;
    buffered.append(chunk.data(), static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = buffered.find('\n')) != std::string::npos) {
      const std::string line = buffered.substr(0, nl);
      buffered.erase(0, nl + 1);
      json::error_code ec;
      const auto v = json::parse(line, ec);
      if (ec || !v.is_object()) continue;
      if (v.at("msg") == "dev_credentials") {
        client_id = json::value_to<std::string>(v.at("client_id"));
        client_secret = json::value_to<std::string>(v.at("client_secret"));
      }
      if (v.at("msg") == "listening") return static_cast<std::uint16_t>(v.at("port").to_number<int>());
    }
  }
  throw std::runtime_error("globemeet-server did not start");
}

}  // namespace

live_server::live_server(std::vector<std::string> extra_args) {
  dir_ = (std::filesystem::temp_directory_path() / ("globemeet-native-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(std::random_device{}())))
             .string();
  std::filesystem::create_directories(dir_);
  secret_ = random_secret();
  const std::string secret_path = dir_ + "/hs256.secret";
  std::ofstream(secret_path) << secret_;

  std::vector<std::string> args = {GLOBEMEET_SERVER_BINARY, "--dev", "--listen", "127.0.0.1:0", "--issuer", "test-issuer",
                                   "--hs256-secret-file", secret_path};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  stdout_fd_ = pipe_fds[0];
  if (rc != 0) throw std::runtime_error(std::string("cannot start ") + GLOBEMEET_SERVER_BINARY);
  port_ = read_port(stdout_fd_, client_id_, client_secret_);
}

live_server::~live_server() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string live_server::mint(const token_claims& c) const {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  json::array perms;
  for (const auto& p : c.perms) perms.emplace_back(p);
  json::object payload{{"sub", c.sub}, {"tenant", c.tenant}, {"perms", perms}, {"iss", "test-issuer"},
                       {"aud", "globemeet-events"}, {"iat", now}, {"exp", now + c.lifetime_s}};
  if (c.pub) payload["pub"] = true;
  const std::string signing_input = base64url(R"({"alg":"HS256","kid":"dev","typ":"JWT"})") + "." +
                                    base64url(json::serialize(payload));
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac.data(), &mac_len);
  return signing_input + "." + base64url(std::string(reinterpret_cast<const char*>(mac.data()), mac_len));
}

std::vector<std::string> live_server::publish_depth(const std::string& queue, int count) const {
  namespace beast = boost::beast;
  namespace http = beast::http;
  json::array events;
  for (int i = 0; i < count; ++i)
    events.push_back(json::object{{"type", "queue.depth-changed"},
                                  {"subject", queue},
                                  {"data", json::object{{"queue_id", queue}, {"depth", i}, {"longest_wait_seconds", 1}}}});
  http::request<http::string_body> req{http::verb::post, "/v1/events", 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  req.set(http::field::authorization, "Bearer " + mint({.sub = "publisher", .pub = true}));
  req.body() = json::serialize(json::object{{"events", events}});
  req.prepare_payload();

  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket(ioc);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  if (res.result_int() != 200) throw std::runtime_error("publish failed: " + res.body());
  std::vector<std::string> ids;
  const json::value answer = json::parse(res.body());
  for (const auto& id : answer.at("ids").as_array()) ids.emplace_back(id.as_string());
  return ids;
}

}  // namespace globemeet::test
