#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "globemeet/server/auth/base64.hpp"
#include "globemeet/server/auth/secret_hash.hpp"
#include "globemeet/server/auth/token_endpoint.hpp"
#include "globemeet/server/auth/verifier.hpp"

using namespace globemeet::server::auth;
namespace json = boost::json;

namespace {

constexpr std::int64_t now = 1'800'000'000;
constexpr std::string_view form = "application/x-www-form-urlencoded";

// Standard base64 with padding, for building Basic headers.
std::string base64(std::string_view bytes) {
  std::string s = base64url_encode(bytes);
  for (char& c : s) c = c == '-' ? '+' : (c == '_' ? '/' : c);
  while (s.size() % 4 != 0) s.push_back('=');
  return s;
}

std::string basic(std::string_view id, std::string_view secret) {
  return "Basic " + base64(std::string(id) + ":" + std::string(secret));
}

struct fixture {
  client_registry clients;
  signer issuer = signer::generate_es256("k1").value();
  token_policy policy{"https://auth.test", "globemeet-events", 900};

  fixture() {
    REQUIRE_FALSE(clients.add({"svc-1", hash_secret("s3cret-value", 1000).value(), "acme",
                               {"queue.>", "agent.*.online"}, true}));
    REQUIRE_FALSE(clients.add({"app:one", hash_secret("p&ss w:rd", 1000).value(), "globex",
                               {">"}, false}));
  }

  token_response call(std::string_view authorization, std::string_view body,
                      std::string_view content_type = form) const {
    return token_endpoint(clients, issuer, policy).handle_token_request(authorization, content_type, body, now);
  }

  claims verified(const token_response& r) const {
    REQUIRE(r.status == 200);
    const json::object body = json::parse(r.json_body).as_object();
    const auto c = verifier(issuer.verification_keys(), {"https://auth.test", "globemeet-events", 30})
                       .verify(body.at("access_token").as_string(), now);
    REQUIRE(c.ok());
    return c.value();
  }
};

std::string header(const token_response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "(absent)";
}

// Checks an RFC 6749 section 5.2 error response and returns its description.
std::string oauth_error(const token_response& r, int status, std::string_view error) {
  CHECK(r.status == status);
  const json::object body = json::parse(r.json_body).as_object();
  CHECK(body.at("error") == json::value(std::string(error)));
  CHECK(header(r, "Cache-Control") == "no-store");
  CHECK(header(r, "Content-Type") == "application/json");
  CHECK(header(r, "WWW-Authenticate") ==
        (status == 401 ? "Basic realm=\"globemeet\"" : "(absent)"));
  CHECK(r.json_body.find("access_token") == std::string::npos);
  return std::string(body.at("error_description").as_string());
}

}  // namespace

TEST_CASE("client credentials with HTTP Basic yield a verifiable token", "[auth][token_endpoint]") {
  const fixture f;
  const auto r = f.call(basic("svc-1", "s3cret-value"), "grant_type=client_credentials");
  REQUIRE(r.status == 200);
  CHECK(header(r, "Cache-Control") == "no-store");
  CHECK(header(r, "Pragma") == "no-cache");
  CHECK(header(r, "Content-Type") == "application/json");
  CHECK(header(r, "WWW-Authenticate") == "(absent)");
  const json::object body = json::parse(r.json_body).as_object();
  CHECK(body.at("token_type") == "Bearer");
  CHECK(body.at("expires_in") == 900);
  CHECK_FALSE(body.contains("scope"));
  CHECK(body.size() == 3);
  const claims c = f.verified(r);
  CHECK(c.sub == "svc-1");
  CHECK(c.tenant == "acme");
  CHECK(c.perms == std::vector<std::string>{"queue.>", "agent.*.online"});
  CHECK(c.pub);
  CHECK(c.iat == now);
  CHECK(c.exp == now + 900);
  CHECK(c.iss == "https://auth.test");
  CHECK(c.aud == std::vector<std::string>{"globemeet-events"});
}

TEST_CASE("Basic credentials are form-urlencoded inside (RFC 6749 2.3.1)", "[auth][token_endpoint]") {
  const fixture f;
  const auto r = f.call(basic("app%3Aone", "p%26ss+w%3Ard"), "grant_type=client_credentials");
  const claims c = f.verified(r);
  CHECK(c.sub == "app:one");
  CHECK(c.tenant == "globex");
  CHECK_FALSE(c.pub);
  // The scheme name is case-insensitive; the charset parameter of the media type is allowed.
  CHECK(f.call("basic " + base64("svc-1:s3cret-value"), "grant_type=client_credentials",
               "Application/X-WWW-Form-Urlencoded; charset=UTF-8").status == 200);
}

TEST_CASE("client credentials in the body are accepted", "[auth][token_endpoint]") {
  const fixture f;
  const auto r = f.call("", "grant_type=client_credentials&client_id=svc-1&client_secret=s3cret-value");
  CHECK(f.verified(r).sub == "svc-1");
}

TEST_CASE("scope narrows the token's perms to the requested patterns", "[auth][token_endpoint]") {
  const fixture f;
  const auto r = f.call(basic("svc-1", "s3cret-value"),
                        "grant_type=client_credentials&scope=queue.support.*+agent.a-1.online+queue.support.*");
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.json_body).at("scope") == "queue.support.* agent.a-1.online");
  CHECK(f.verified(r).perms == std::vector<std::string>{"queue.support.*", "agent.a-1.online"});
  // Containment over three-segment names: `queue.>` grants `queue.*.*` and `queue.support.>`.
  const auto same_names = f.call(basic("svc-1", "s3cret-value"),
                                 "grant_type=client_credentials&scope=queue.*.*+queue.support.>");
  CHECK(f.verified(same_names).perms == std::vector<std::string>{"queue.*.*", "queue.support.>"});
  // An empty scope is an omitted scope (RFC 6749 section 3.1).
  const auto all = f.call(basic("svc-1", "s3cret-value"), "grant_type=client_credentials&scope=");
  CHECK(f.verified(all).perms == std::vector<std::string>{"queue.>", "agent.*.online"});
}

TEST_CASE("scope outside the client's perms is invalid_scope", "[auth][token_endpoint]") {
  const fixture f;
  const auto auth = basic("svc-1", "s3cret-value");
  CHECK(oauth_error(f.call(auth, "grant_type=client_credentials&scope=session.>"), 400, "invalid_scope") ==
        "scope 'session.>' is not permitted for this client");
  CHECK(oauth_error(f.call(auth, "grant_type=client_credentials&scope=agent.>"), 400, "invalid_scope") ==
        "scope 'agent.>' is not permitted for this client");
  CHECK(oauth_error(f.call(auth, "grant_type=client_credentials&scope=queue..x"), 400, "invalid_scope")
            .rfind("scope 'queue..x': ", 0) == 0);
  // A scope that can match no name is refused like a subscription to it, never issued.
  CHECK(oauth_error(f.call(auth, "grant_type=client_credentials&scope=queue.support"), 400, "invalid_scope") ==
        "scope 'queue.support': a topic pattern can never match a topic name: names have exactly 3 segments "
        "{stream}.{key}.{event} (the pattern has 2)");
  CHECK(oauth_error(f.call(auth, "grant_type=client_credentials&scope=queue.>++agent.a.online"), 400,
                    "invalid_scope") == "scope must be topic patterns separated by single spaces");
}

TEST_CASE("failed client authentication is 401 invalid_client", "[auth][token_endpoint]") {
  const fixture f;
  const std::string grant = "grant_type=client_credentials";
  CHECK(oauth_error(f.call(basic("svc-1", "wrong"), grant), 401, "invalid_client") ==
        "client authentication failed");
  CHECK(oauth_error(f.call(basic("nobody", "s3cret-value"), grant), 401, "invalid_client") ==
        "client authentication failed");
  CHECK(oauth_error(f.call("", grant + "&client_id=svc-1&client_secret=wrong"), 401, "invalid_client") ==
        "client authentication failed");
  CHECK(oauth_error(f.call("", grant), 401, "invalid_client") ==
        "client authentication is required (HTTP Basic)");
  CHECK(oauth_error(f.call("", grant + "&client_id=svc-1"), 401, "invalid_client") ==
        "client authentication is required (HTTP Basic)");
  CHECK(oauth_error(f.call("Bearer abc", grant), 401, "invalid_client") ==
        "client authentication must use HTTP Basic");
  CHECK(oauth_error(f.call("Basic !!!!", grant), 401, "invalid_client") ==
        "the Basic credentials are not base64");
  CHECK(oauth_error(f.call("Basic " + base64("svc-1"), grant), 401, "invalid_client") ==
        "the Basic credentials have no ':'");
  CHECK(oauth_error(f.call("Basic " + base64(":s3cret-value"), grant), 401, "invalid_client") ==
        "the Basic credentials have an empty client_id");
  CHECK(oauth_error(f.call("Basic " + base64("svc%-1:x"), grant), 401, "invalid_client") ==
        "the Basic credentials have a malformed percent-encoding");
}

TEST_CASE("malformed requests are 400 invalid_request", "[auth][token_endpoint]") {
  const fixture f;
  const auto auth = basic("svc-1", "s3cret-value");
  CHECK(oauth_error(f.call(auth, "grant_type=client_credentials", "application/json"), 400,
                    "invalid_request") == "Content-Type must be application/x-www-form-urlencoded");
  CHECK(oauth_error(f.call(auth, "grant_type=client_credentials", ""), 400, "invalid_request") ==
        "Content-Type must be application/x-www-form-urlencoded");
  CHECK(oauth_error(f.call(auth, "scope=queue.>"), 400, "invalid_request") == "grant_type is missing");
  CHECK(oauth_error(f.call(auth, "grant_type=client_credentials&grant_type=client_credentials"), 400,
                    "invalid_request") == "parameter 'grant_type' appears more than once");
  CHECK(oauth_error(f.call(auth, "grant_type=client_credentials&scope=a&scope=b"), 400,
                    "invalid_request") == "parameter 'scope' appears more than once");
  CHECK(oauth_error(f.call(auth, "grant_type=client_credentials&client_id=svc-1"), 400,
                    "invalid_request") == "use HTTP Basic or client_id/client_secret in the body, not both");
  CHECK(oauth_error(f.call(auth, "grant_type=client_credentials&client_secret=s3cret-value"), 400,
                    "invalid_request") == "use HTTP Basic or client_id/client_secret in the body, not both");
  CHECK(oauth_error(f.call("", "grant_type=client_credentials&client_secret=s3cret-value"), 400,
                    "invalid_request") == "client_secret without client_id");
  CHECK(oauth_error(f.call(auth, "grant_type=client%credentials"), 400, "invalid_request") ==
        "the body has a malformed percent-encoding");
  CHECK(oauth_error(f.call(auth, "grant_type=client_credentials&pad=" + std::string(8'192, 'a')), 400,
                    "invalid_request") == "the body is larger than 8192 bytes");
}

TEST_CASE("grant types other than client_credentials are unsupported", "[auth][token_endpoint]") {
  const fixture f;
  const auto auth = basic("svc-1", "s3cret-value");
  for (std::string_view grant : {"password", "authorization_code", "refresh_token", "Client_Credentials"}) {
    CHECK(oauth_error(f.call(auth, "grant_type=" + std::string(grant)), 400, "unsupported_grant_type") ==
          "only grant_type=client_credentials is supported");
  }
}

TEST_CASE("the token lifetime is configurable", "[auth][token_endpoint]") {
  fixture f;
  f.policy.lifetime_s = 60;
  const auto r = f.call(basic("svc-1", "s3cret-value"), "grant_type=client_credentials");
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.json_body).at("expires_in") == 60);
  CHECK(f.verified(r).exp == now + 60);
}
