#include "cli_common.hpp"

#include <charconv>
#include <cstdlib>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "http_client.hpp"

namespace globemeet::cli {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// RFC 6749 2.3.1: the client id and secret are form-encoded before Basic encoding.
std::string form_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string base64(std::string_view in) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += {alphabet[(n >> 18) & 63], alphabet[(n >> 12) & 63], alphabet[(n >> 6) & 63], alphabet[n & 63]};
  }
  if (i + 1 == in.size()) {
    const unsigned n = static_cast<unsigned char>(in[i]) << 16;
    out += {alphabet[(n >> 18) & 63], alphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {alphabet[(n >> 18) & 63], alphabet[(n >> 12) & 63], alphabet[(n >> 6) & 63], '='};
  }
  return out;
}

// {"error","error_description"} (OAuth) or {"error","message"} (the rest of the API).
std::string describe_error_body(const std::string& body) {
  boost::json::error_code ec;
  const auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return body.substr(0, 200);
  const auto& o = v.get_object();
  std::string text;
  if (const auto* e = o.if_contains("error"); e && e->is_string()) text = std::string(e->get_string());
  for (const char* key : {"error_description", "message"}) {
    if (const auto* m = o.if_contains(key); m && m->is_string()) text += (text.empty() ? "" : ": ") + std::string(m->get_string());
  }
  return text.empty() ? body.substr(0, 200) : text;
}

}  // namespace

const char* const common_flags_help =
    "connection (flags win over the environment):\n"
    "  --server URL          http(s)://host:port of the server (GLOBEMEET_SERVER; default http://127.0.0.1:8443)\n"
    "  --token JWT           bearer token (GLOBEMEET_TOKEN)\n"
    "  --client-id ID        OAuth client id: fetch tokens with client credentials (GLOBEMEET_CLIENT_ID)\n"
    "  --client-secret S     OAuth client secret (GLOBEMEET_CLIENT_SECRET)\n"
    "  --scope PATTERNS      space-separated patterns narrowing fetched tokens\n"
    "  --ca FILE             extra PEM CA certificate(s) to trust for https/wss (GLOBEMEET_CA)\n"
    "  --timeout SECONDS     bound on each HTTP request and on the first connection (default 10)\n";

std::string connection_settings::events_url() const {
  std::string base = server.target;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return std::string(server.tls ? "wss://" : "ws://") + server.host_header() + base + "/v1/events";
}

std::optional<std::string> argument_scanner::next() {
  inline_value_.reset();
  if (pos_ >= args_.size()) return std::nullopt;
  std::string arg = args_[pos_++];
  if (arg.starts_with("--")) {
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      inline_value_ = arg.substr(eq + 1);
      arg.resize(eq);
    }
  }
  flag_ = arg;
  return arg;
}

std::string argument_scanner::value() {
  if (inline_value_) return *std::exchange(inline_value_, std::nullopt);
  if (pos_ >= args_.size()) throw usage_error(flag_ + " needs a value");
  return args_[pos_++];
}

bool take_common_flag(argument_scanner& scanner, const std::string& flag, connection_settings& s) {
  if (flag == "--server") s.server_url = scanner.value();
  else if (flag == "--token") s.token = scanner.value();
  else if (flag == "--client-id") s.client_id = scanner.value();
  else if (flag == "--client-secret") s.client_secret = scanner.value();
  else if (flag == "--ca") s.ca_file = scanner.value();
  else if (flag == "--scope") s.scope = scanner.value();
  else if (flag == "--timeout") {
    const std::string v = scanner.value();
    const auto n = parse_count(v);
    if (!n || *n < 1 || *n > 3600) throw usage_error("--timeout must be a whole number of seconds from 1 to 3600, got '" + v + "'");
    s.timeout = std::chrono::seconds(*n);
  } else {
    return false;
  }
  return true;
}

void finish_settings(connection_settings& s) {
  auto fill = [](std::string& field, const char* name) {
    if (field.empty()) field = env(name);
  };
  fill(s.server_url, "GLOBEMEET_SERVER");
  fill(s.token, "GLOBEMEET_TOKEN");
  fill(s.client_id, "GLOBEMEET_CLIENT_ID");
  fill(s.client_secret, "GLOBEMEET_CLIENT_SECRET");
  fill(s.ca_file, "GLOBEMEET_CA");
  if (s.server_url.empty()) s.server_url = "http://127.0.0.1:8443";
  auto ep = detail::parse_endpoint(s.server_url, false);
  if (!ep) throw usage_error("--server must be an http:// or https:// URL, got '" + s.server_url + "'");
  s.server = std::move(*ep);
  if (!s.client_id.empty() && s.client_secret.empty())
    throw usage_error("--client-id needs --client-secret (or GLOBEMEET_CLIENT_SECRET)");
}

std::string fetch_token(const connection_settings& s) {
  http_request req;
  req.method = "POST";
  std::string base = s.server.target;
  while (!base.empty() && base.back() == '/') base.pop_back();
  req.target = base + "/oauth/token";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"},
                 {"Authorization", "Basic " + base64(form_encode(s.client_id) + ":" + form_encode(s.client_secret))}};
  req.body = "grant_type=client_credentials";
  if (!s.scope.empty()) req.body += "&scope=" + form_encode(s.scope);
  http_response res;
  try {
    res = send_http(s.server, req, s.ca_file, s.timeout);
  } catch (const std::exception& e) {
    throw runtime_failure(std::string("token request failed: ") + e.what());
  }
  if (res.status == 401 || res.status == 400)
    throw runtime_failure("token refused (HTTP " + std::to_string(res.status) + " " + describe_error_body(res.body) + ")");
  if (res.status != 200)
    throw runtime_failure("token request failed (HTTP " + std::to_string(res.status) + " " + describe_error_body(res.body) + ")");
  boost::json::error_code ec;
  const auto v = boost::json::parse(res.body, ec);
  const boost::json::value* token = (!ec && v.is_object()) ? v.get_object().if_contains("access_token") : nullptr;
  if (!token || !token->is_string() || token->get_string().empty())
    throw runtime_failure("token response has no access_token");
  return std::string(token->get_string());
}

std::string obtain_token(const connection_settings& s) {
  if (!s.token.empty()) return s.token;
  if (s.has_client_credentials()) return fetch_token(s);
  throw usage_error("no credentials: give --token (GLOBEMEET_TOKEN) or --client-id and --client-secret");
}

std::optional<long long> parse_count(std::string_view text) {
  long long n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

}  // namespace globemeet::cli
