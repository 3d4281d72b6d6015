#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "ecdsa_signature.hpp"
#include "globemeet/server/auth/base64.hpp"
#include "globemeet/server/auth/key_set.hpp"
#include "globemeet/server/auth/signer.hpp"
#include "globemeet/server/auth/verifier.hpp"
#include "test_keys.hpp"

using namespace globemeet::server::auth;
namespace json = boost::json;

namespace {

constexpr std::int64_t now = 1'800'000'000;

claims sample_claims() {
  claims c;
  c.sub = "svc-7";
  c.tenant = "acme";
  c.perms = {"queue.support.*", ">"};
  c.pub = true;
  c.iat = now;
  c.exp = now + 900;
  c.iss = "https://auth.test";
  c.aud = {"globemeet-events"};
  return c;
}

verifier_options options() { return {"https://auth.test", "globemeet-events", 30}; }

// A JWKS document holding `jwk` with members replaced or added by `changes`.
std::string jwks_with(const json::object& jwk, const json::object& changes = {},
                      std::initializer_list<std::string_view> removed = {}) {
  json::object k = jwk;
  for (const auto& member : changes) k[member.key()] = member.value();
  for (auto name : removed) k.erase(name);
  return json::serialize(json::object{{"keys", json::array{k}}});
}

json::object first_jwk(const std::string& jwks) {
  return json::parse(jwks).as_object()["keys"].as_array()[0].as_object();
}

std::string load_error(std::string_view jwks, jwks_options opts = {}) {
  auto r = key_set::from_jwks(jwks, opts);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == "invalid_key");
  return r.err().message;
}

}  // namespace

TEST_CASE("the signer's claims come back unchanged through its own key set", "[auth][keys]") {
  const auto ec = test::make_ec_pem();
  const auto rsa = test::make_rsa_pem();
  std::vector<signer> signers;
  signers.push_back(signer::from_private_pem("ec", ec.private_pem).value());
  signers.push_back(signer::from_private_pem("rsa", rsa.private_pem).value());
  signers.push_back(signer::from_hmac_secret("hs", "a-development-secret-of-32-bytes!").value());
  signers.push_back(signer::generate_es256("eph").value());
  CHECK(signers[0].alg() == algorithm::es256);
  CHECK(signers[1].alg() == algorithm::rs256);
  CHECK(signers[2].alg() == algorithm::hs256);
  CHECK(signers[3].alg() == algorithm::es256);
  for (const auto& s : signers) {
    auto token = s.sign(sample_claims());
    REQUIRE(token.ok());
    const verifier v(s.verification_keys(), options());
    const auto r = v.verify(token.value(), now);
    REQUIRE(r.ok());
    CHECK(r.value() == sample_claims());
  }
}

TEST_CASE("ES256 signatures are raw R||S of 64 bytes", "[auth][keys]") {
  const auto s = signer::generate_es256("eph").value();
  const std::string token = s.sign(sample_claims()).value();
  const auto raw = base64url_decode(token.substr(token.rfind('.') + 1));
  REQUIRE(raw);
  CHECK(raw->size() == 64);
  const auto der = detail::ecdsa_raw_to_der(*raw);
  REQUIRE(der);
  CHECK(detail::ecdsa_der_to_raw(*der) == raw);
  CHECK_FALSE(detail::ecdsa_raw_to_der(raw->substr(0, 63)));
  CHECK_FALSE(detail::ecdsa_der_to_raw("not DER"));
}

TEST_CASE("the exported JWKS verifies the signer's tokens", "[auth][keys]") {
  for (auto s : {signer::generate_es256("k-ec").value(),
                 signer::from_private_pem("k-rsa", test::make_rsa_pem().private_pem).value()}) {
    const std::string jwks = s.public_jwks();
    const json::object jwk = first_jwk(jwks);
    CHECK(jwk.at("kid") == json::value(s.kid()));
    CHECK(jwk.at("use") == "sig");
    CHECK(jwk.at("alg") == json::value(std::string(to_string(s.alg()))));
    CHECK_FALSE(jwk.contains("d"));  // public half only
    auto keys = key_set::from_jwks(jwks);
    REQUIRE(keys.ok());
    CHECK(keys->kids() == std::vector<std::string>{s.kid()});
    CHECK(keys->algorithm_of(s.kid()) == s.alg());
    CHECK(keys->to_jwks() == jwks);
    const verifier v(keys.value(), options());
    CHECK(v.verify(s.sign(sample_claims()).value(), now).ok());
  }
  const auto ec = signer::generate_es256("k").value();
  const json::object jwk = first_jwk(ec.public_jwks());
  CHECK(jwk.at("kty") == "EC");
  CHECK(jwk.at("crv") == "P-256");
  CHECK(base64url_decode(jwk.at("x").as_string())->size() == 32);
  CHECK(base64url_decode(jwk.at("y").as_string())->size() == 32);
}

TEST_CASE("HMAC secrets are never published", "[auth][keys]") {
  const auto hs = signer::from_hmac_secret("hs", "a-development-secret-of-32-bytes!").value();
  CHECK(hs.public_jwks() == R"({"keys":[]})");
  CHECK(hs.verification_keys().to_jwks() == R"({"keys":[]})");
}

TEST_CASE("JWKS oct keys load only when allowed", "[auth][keys]") {
  const std::string secret = "a-development-secret-of-32-bytes!";
  const std::string jwks = R"({"keys":[{"kty":"oct","kid":"dev","alg":"HS256","k":")" +
                           base64url_encode(secret) + R"("}]})";
  CHECK(load_error(jwks) ==
        "JWKS keys[0] (kid 'dev'): kty 'oct' (shared secret) is not allowed here: enable it for development only");
  auto keys = key_set::from_jwks(jwks, jwks_options{true});
  REQUIRE(keys.ok());
  const auto s = signer::from_hmac_secret("dev", secret).value();
  CHECK(verifier(keys.value(), options()).verify(s.sign(sample_claims()).value(), now).ok());
  const std::string short_secret = R"({"keys":[{"kty":"oct","kid":"dev","k":")" +
                                   base64url_encode("short") + R"("}]})";
  CHECK(load_error(short_secret, jwks_options{true}) ==
        "JWKS keys[0] (kid 'dev'): HMAC secret of 5 bytes: at least 32 are required");
}

TEST_CASE("JWKS documents that break the rules are refused whole", "[auth][keys]") {
  const json::object ec = first_jwk(signer::generate_es256("ec").value().public_jwks());
  const json::object rsa =
      first_jwk(signer::from_private_pem("rsa", test::make_rsa_pem().private_pem).value().public_jwks());
  const std::string where = "JWKS keys[0] (kid 'ec'): ";

  CHECK(load_error("[]") == "JWKS: expected a JSON object at the top level, got array");
  CHECK(load_error(R"({"keys":{}})") == "JWKS: member 'keys' must be an array");
  CHECK(load_error(R"({"keys":[],"keys":[]})") == "JWKS: duplicate member name 'keys' in the top-level object");
  CHECK(load_error(R"({"keys":[1]})") == "JWKS keys[0]: not an object");
  CHECK(load_error(jwks_with(ec, {}, {"kid"})) ==
        "JWKS keys[0]: member 'kid' must be a string (keys are chosen by kid)");
  CHECK(load_error(jwks_with(ec, {{"kid", ""}})) == "JWKS keys[0]: kid is empty");
  CHECK(load_error(jwks_with(ec, {{"crv", "P-384"}})) == where + "curve 'P-384' is not allowed: only P-256 (ES256)");
  CHECK(load_error(jwks_with(ec, {{"alg", "RS256"}})) ==
        where + "alg 'RS256' does not fit kty 'EC': expected 'ES256'");
  CHECK(load_error(jwks_with(ec, {{"use", "enc"}})) == where + "'use' must be \"sig\"");
  CHECK(load_error(jwks_with(ec, {{"d", "AAAA"}})) ==
        where + "private member 'd' in a public key set: publish public keys only");
  CHECK(load_error(jwks_with(ec, {{"kty", "OKP"}})) == where + "kty 'OKP' is not allowed: use EC, RSA or oct");
  CHECK(load_error(jwks_with(ec, {}, {"y"})) == where + "member 'y' is missing");
  CHECK(load_error(jwks_with(ec, {{"x", "AAAA"}})) ==
        where + "P-256 coordinates 'x' and 'y' must be 32 bytes each");
  CHECK(load_error(jwks_with(ec, {{"x", "not base64!"}})) == where + "member 'x' is not base64url");
  // A point off the curve (the invalid-curve attack): change y.
  std::string y = std::string(*base64url_decode(ec.at("y").as_string()));
  y[31] = static_cast<char>(y[31] ^ 1);
  CHECK(load_error(jwks_with(ec, {{"y", base64url_encode(y)}})).find("(kid 'ec'): EC") != std::string::npos);

  const std::string rsa_where = "JWKS keys[0] (kid 'rsa'): ";
  const std::string n = std::string(*base64url_decode(rsa.at("n").as_string()));
  CHECK(load_error(jwks_with(rsa, {{"n", base64url_encode(n.substr(0, 128))}})) ==
        rsa_where + "RSA key of 1024 bits: at least 2048 are required");
  CHECK(load_error(jwks_with(rsa, {{"e", base64url_encode(std::string("\x01\x00", 2))}})) ==
        rsa_where + "RSA exponent 'e' is not a valid public exponent");
  CHECK(load_error(jwks_with(rsa, {{"alg", "HS256"}})) ==
        rsa_where + "alg 'HS256' does not fit kty 'RSA': expected 'RS256'");
  CHECK(load_error(jwks_with(rsa, {{"p", "AQAB"}})) ==
        rsa_where + "private member 'p' in a public key set: publish public keys only");

  // Two keys with the same kid.
  const std::string twice = json::serialize(json::object{{"keys", json::array{ec, ec}}});
  CHECK(load_error(twice) == "JWKS keys[1]: kid 'ec' appears twice");
  // A failure adds nothing to an existing set.
  key_set keys;
  REQUIRE_FALSE(keys.add_jwks(jwks_with(ec)));
  CHECK(keys.add_jwks(jwks_with(rsa, {{"alg", "HS256"}})));
  CHECK(keys.size() == 1);
  CHECK(keys.add_jwks(jwks_with(ec)));  // kid 'ec' already present
}

TEST_CASE("PEM public keys: P-256 and RSA >= 2048 only", "[auth][keys]") {
  key_set keys;
  CHECK_FALSE(keys.add_public_pem("ec", test::make_ec_pem().public_pem));
  CHECK_FALSE(keys.add_public_pem("rsa", test::make_rsa_pem(2048).public_pem));
  CHECK(keys.algorithm_of("ec") == algorithm::es256);
  CHECK(keys.algorithm_of("rsa") == algorithm::rs256);
  CHECK_FALSE(keys.algorithm_of("nope"));
  CHECK(keys.add_public_pem("rsa1024", test::make_rsa_pem(1024).public_pem)->message ==
        "kid 'rsa1024': RSA key of 1024 bits: at least 2048 are required");
  CHECK(keys.add_public_pem("ec", test::make_ec_pem().public_pem)->message == "kid 'ec' appears twice");
  CHECK(keys.add_public_pem("", test::make_ec_pem().public_pem)->message == "kid is empty");
  CHECK(keys.add_public_pem("junk", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
            ->message.rfind("kid 'junk': not a PEM public key", 0) == 0);
  // A private key where a public one is expected.
  CHECK(keys.add_public_pem("priv", test::make_ec_pem().private_pem));
  CHECK(keys.add_hmac_secret("hs", "short")->message ==
        "kid 'hs': HMAC secret of 5 bytes: at least 32 are required");
  CHECK(keys.size() == 2);
}

TEST_CASE("signers refuse keys outside the allow-list", "[auth][keys]") {
  auto p384 = signer::from_private_pem("k", test::make_ec_pem("P-384").private_pem);
  REQUIRE_FALSE(p384.ok());
  CHECK(p384.err().message == "EC key on curve 'secp384r1': only P-256 (ES256) is allowed");
  auto rsa1024 = signer::from_private_pem("k", test::make_rsa_pem(1024).private_pem);
  REQUIRE_FALSE(rsa1024.ok());
  CHECK(rsa1024.err().message == "RSA key of 1024 bits: at least 2048 are required");
  auto public_only = signer::from_private_pem("k", test::make_ec_pem().public_pem);
  REQUIRE_FALSE(public_only.ok());
  CHECK(public_only.err().code == "invalid_key");
  auto encrypted = signer::from_private_pem("k", test::make_encrypted_ec_pem("passphrase"));
  REQUIRE_FALSE(encrypted.ok());
  CHECK(encrypted.err().message.rfind("not an unencrypted PEM private key", 0) == 0);
  CHECK_FALSE(signer::from_hmac_secret("k", "too short").ok());
  CHECK_FALSE(signer::from_private_pem("", test::make_ec_pem().private_pem).ok());
  CHECK_FALSE(signer::generate_es256("").ok());
}

TEST_CASE("key sets merge without kid collisions", "[auth][keys]") {
  key_set a;
  REQUIRE_FALSE(a.add_hmac_secret("one", "a-development-secret-of-32-bytes!"));
  key_set b;
  REQUIRE_FALSE(b.add_hmac_secret("two", "a-development-secret-of-32-bytes!"));
  CHECK_FALSE(a.add(b));
  CHECK(a.kids() == std::vector<std::string>{"one", "two"});
  CHECK(a.add(b)->message == "kid 'two' appears twice");
  CHECK(a.size() == 2);
}
