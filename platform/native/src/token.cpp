// The OAuth 2.0 client-credentials grant (RFC 6749 section 4.4) against POST /oauth/token.
#include "globemeet/token.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "endpoint.hpp"
#include "http_client.hpp"

namespace globemeet {
namespace {

namespace json = boost::json;

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

std::string string_field(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

Token fetch_token(const ClientCredentials& c) {
  auto server = detail::parse_endpoint(c.server, false);
  if (!server) throw TokenError("bad_options", "server must be an http:// or https:// URL, got '" + c.server + "'");
  if (c.client_id.empty()) throw TokenError("bad_options", "client_id is empty");

  detail::http_request req;
  req.method = "POST";
  req.target = detail::join_target(server->target, "/oauth/token");
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"},
                 {"Authorization", "Basic " + base64(form_encode(c.client_id) + ":" + form_encode(c.client_secret))}};
  req.body = "grant_type=client_credentials";
  if (!c.scope.empty()) req.body += "&scope=" + form_encode(c.scope);

  detail::http_response res;
  try {
    res = detail::send_http(*server, req, c.ca_file, c.timeout);
  } catch (const std::exception& e) {
    throw TokenError("token_request_failed", std::string("token request failed: ") + e.what());
  }
  // The moment of the answer, not of the request: expires_in counts from when it was issued.
  const auto answered = std::chrono::system_clock::now();

  json::error_code ec;
  const json::value body = json::parse(res.body, ec);
  const json::object* o = (!ec && body.is_object()) ? &body.get_object() : nullptr;
  if (res.status != 200) {
    // {"error","error_description"} (RFC 6749 5.2); anything else is quoted, shortened.
    std::string code = o ? string_field(*o, "error") : std::string();
    std::string text = code;
    if (o)
      for (const char* key : {"error_description", "message"})
        if (auto m = string_field(*o, key); !m.empty()) text += (text.empty() ? "" : ": ") + m;
    if (text.empty()) text = res.body.substr(0, 200);
    const std::string status = "HTTP " + std::to_string(res.status) + (text.empty() ? "" : " " + text);
    // 400 and 401 are the server's verdict on these credentials; other statuses are failures
    // of the request (a proxy, a 5xx) that a retry may cure.
    if (res.status == 400 || res.status == 401)
      throw TokenError(code.empty() ? "token_refused" : code, "token refused (" + status + ")", res.status);
    throw TokenError("token_request_failed", "token request failed (" + status + ")", res.status);
  }
  Token token;
  if (o) {
    token.access_token = string_field(*o, "access_token");
    token.scope = string_field(*o, "scope");
  }
  if (token.access_token.empty())
    throw TokenError("token_request_failed", "token response has no access_token", res.status);
  const json::value* expires_in = o ? o->if_contains("expires_in") : nullptr;
  if (!expires_in || !expires_in->is_int64() || expires_in->get_int64() < 1)
    throw TokenError("token_request_failed", "token response has no positive expires_in", res.status);
  token.expires_at = answered + std::chrono::seconds(expires_in->get_int64());
  return token;
}

std::function<std::string()> client_credentials_provider(ClientCredentials credentials) {
  return [credentials = std::move(credentials)] { return fetch_token(credentials).access_token; };
}

}  // namespace globemeet
