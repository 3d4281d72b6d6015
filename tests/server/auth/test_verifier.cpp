#include <catch2/catch.hpp>

#include "print_error.hpp"

#include <atomic>
#include <thread>

#include "globemeet/server/auth/base64.hpp"
#include "globemeet/server/auth/verifier.hpp"
#include "key.hpp"
#include "test_keys.hpp"

using namespace globemeet::server::auth;
using globemeet::core::error;
using globemeet::server::auth::test::good_payload;

namespace {

constexpr std::int64_t now = 1'800'000'000;
constexpr std::string_view hs_secret = "0123456789abcdef0123456789abcdef-dev-only";

const test::pem_pair& ec_key() {
  static const test::pem_pair k = test::make_ec_pem("P-256");
  return k;
}
const test::pem_pair& rsa_key() {
  static const test::pem_pair k = test::make_rsa_pem(2048);
  return k;
}

verifier make_verifier() {
  key_set keys;
  REQUIRE_FALSE(keys.add_public_pem("ec1", ec_key().public_pem));
  REQUIRE_FALSE(keys.add_public_pem("rsa1", rsa_key().public_pem));
  REQUIRE_FALSE(keys.add_hmac_secret("hs1", hs_secret));
  return verifier(keys, verifier_options{"https://auth.test", "globemeet-events", 30});
}

std::string header(std::string_view alg, std::string_view kid) {
  return R"({"alg":")" + std::string(alg) + R"(","typ":"JWT","kid":")" + std::string(kid) + R"("})";
}

std::string es256(std::string_view payload) {
  return test::sign_with_pem(header("ES256", "ec1"), payload, ec_key().private_pem);
}

// The refusal of `token`, after checking that its message never quotes the token's segments.
error refusal(std::string_view token, std::int64_t at = now) {
  const auto r = make_verifier().verify(token, at);
  REQUIRE_FALSE(r.ok());
  const std::size_t first_dot = token.find('.');
  if (first_dot != std::string_view::npos && first_dot > 8)
    CHECK(r.err().message.find(token.substr(0, first_dot)) == std::string::npos);
  const std::size_t last_dot = token.rfind('.');
  if (last_dot != std::string_view::npos && token.size() - last_dot > 8)
    CHECK(r.err().message.find(token.substr(last_dot + 1)) == std::string::npos);
  return r.err();
}

error invalid(std::string message) { return {"invalid_token", std::move(message)}; }

}  // namespace

TEST_CASE("ES256, RS256 and HS256 tokens verify and yield their claims", "[auth][verifier]") {
  const auto v = make_verifier();
  const std::string payload = good_payload(now, R"("pub":true,"nbf":1799999990,"jti":"ignored")");
  for (const std::string& token :
       {es256(payload), test::sign_with_pem(header("RS256", "rsa1"), payload, rsa_key().private_pem),
        test::sign_with_secret(header("HS256", "hs1"), payload, hs_secret)}) {
    const auto r = v.verify(token, now);
    INFO(token.substr(0, 20));
    REQUIRE(r.ok());
    CHECK(r->sub == "svc-1");
    CHECK(r->tenant == "acme");
    CHECK(r->perms == std::vector<std::string>{"queue.>", "agent.*.online"});
    CHECK(r->pub);
    CHECK(r->iat == now);
    CHECK(r->exp == now + 900);
    CHECK(r->nbf == std::optional<std::int64_t>(1'799'999'990));
    CHECK(r->iss == "https://auth.test");
    CHECK(r->aud == std::vector<std::string>{"globemeet-events"});
  }
}

TEST_CASE("pub defaults to false and aud may be an array", "[auth][verifier]") {
  std::string payload = good_payload(now);
  payload.replace(payload.find(R"("aud":"globemeet-events")"), 24,
                  R"("aud":["other","globemeet-events"])");
  const auto r = make_verifier().verify(es256(payload), now);
  REQUIRE(r.ok());
  CHECK_FALSE(r->pub);
  CHECK_FALSE(r->nbf);
  CHECK(r->aud == std::vector<std::string>{"other", "globemeet-events"});
}

TEST_CASE("typ may be JWT or at+jwt, nothing else", "[auth][verifier]") {
  const auto v = make_verifier();
  const auto with_typ = [](std::string_view typ) {
    return test::sign_with_pem(R"({"alg":"ES256","kid":"ec1","typ":")" + std::string(typ) + R"("})",
                               good_payload(now), ec_key().private_pem);
  };
  CHECK(v.verify(with_typ("jwt"), now).ok());
  CHECK(v.verify(with_typ("at+jwt"), now).ok());
  CHECK(v.verify(with_typ("application/at+jwt"), now).ok());
  CHECK(v.verify(test::sign_with_pem(R"({"alg":"ES256","kid":"ec1"})", good_payload(now),
                                     ec_key().private_pem), now).ok());
  CHECK(refusal(with_typ("JOSE+JSON")) == invalid("header 'typ' does not name a JWT"));
}

TEST_CASE("alg none is refused however it is spelled", "[auth][verifier]") {
  for (std::string_view alg : {"none", "None", "NONE"}) {
    const auto token = test::unsigned_token(header(alg, "ec1"), good_payload(now));
    const auto e = refusal(token);
    CHECK(e == invalid("alg 'none' is not allowed"));
    // Even with a signature segment present.
    CHECK(refusal(token + "c2ln") == invalid("alg 'none' is not allowed"));
  }
}

TEST_CASE("algorithms outside the allow-list are refused", "[auth][verifier]") {
  for (std::string_view alg : {"HS512", "RS384", "ES384", "PS256", "EdDSA", "hs256", ""}) {
    const auto token = test::sign_with_secret(header(alg, "hs1"), good_payload(now), hs_secret);
    CHECK(refusal(token) == invalid("alg '" + std::string(alg) + "' is not allowed"));
  }
  CHECK(refusal(test::sign_with_secret(R"({"kid":"hs1"})", good_payload(now), hs_secret)) ==
        invalid("header has no 'alg'"));
  CHECK(refusal(test::sign_with_secret(R"({"alg":256,"kid":"hs1"})", good_payload(now), hs_secret)) ==
        invalid("header 'alg' must be a string"));
}

TEST_CASE("HS/RS confusion: an HS256 token keyed with the RSA public key fails", "[auth][verifier]") {
  // The classic attack: sign HS256 with the server's RSA public key bytes as the HMAC secret.
  const auto forged =
      test::sign_with_secret(header("HS256", "rsa1"), good_payload(now), rsa_key().public_pem);
  CHECK(refusal(forged) == invalid("alg 'HS256' does not match kid 'rsa1', which is RS256"));
  // And the other way round: an ES256 key never verifies RS256 or HS256.
  const auto rs_on_ec =
      test::sign_with_pem(header("RS256", "ec1"), good_payload(now), rsa_key().private_pem);
  CHECK(refusal(rs_on_ec) == invalid("alg 'RS256' does not match kid 'ec1', which is ES256"));
  const auto es_on_hs =
      test::sign_with_pem(header("ES256", "hs1"), good_payload(now), ec_key().private_pem);
  CHECK(refusal(es_on_hs) == invalid("alg 'ES256' does not match kid 'hs1', which is HS256"));
}

TEST_CASE("ES256 from a key on another curve fails", "[auth][verifier]") {
  const auto p384 = test::make_ec_pem("P-384");
  const auto token = test::sign_ecdsa_any_curve(header("ES256", "ec1"), good_payload(now), p384.private_pem);
  CHECK(refusal(token) == invalid("signature does not verify"));
  key_set keys;
  const auto e = keys.add_public_pem("p384", p384.public_pem);
  REQUIRE(e);
  CHECK(e->code == "invalid_key");
  CHECK(e->message == "kid 'p384': EC key on curve 'secp384r1': only P-256 (ES256) is allowed");
}

TEST_CASE("a signature by another key of the same type fails", "[auth][verifier]") {
  const auto other_ec = test::make_ec_pem("P-256");
  CHECK(refusal(test::sign_with_pem(header("ES256", "ec1"), good_payload(now), other_ec.private_pem)) ==
        invalid("signature does not verify"));
  CHECK(refusal(test::sign_with_secret(header("HS256", "hs1"), good_payload(now),
                                       "another-secret-of-at-least-32-bytes!!")) ==
        invalid("signature does not verify"));
}

TEST_CASE("truncated and altered signatures fail", "[auth][verifier]") {
  const std::string payload = good_payload(now);
  for (const std::string& token :
       {es256(payload), test::sign_with_pem(header("RS256", "rsa1"), payload, rsa_key().private_pem),
        test::sign_with_secret(header("HS256", "hs1"), payload, hs_secret)}) {
    const std::size_t sig = token.rfind('.') + 1;
    const std::string signature = *base64url_decode(token.substr(sig));
    const auto with_signature = [&](std::string_view bytes) {
      return token.substr(0, sig) + base64url_encode(bytes);
    };
    // One byte short; only R of an ES256 signature, or half of anything else; one byte more.
    CHECK(refusal(with_signature(signature.substr(0, signature.size() - 1))) ==
          invalid("signature does not verify"));
    CHECK(refusal(with_signature(signature.substr(0, signature.size() / 2))) ==
          invalid("signature does not verify"));
    CHECK(refusal(with_signature(signature + "x")) == invalid("signature does not verify"));
    // Cut at a character boundary that leaves non-zero spare bits: not canonical base64url.
    CHECK(refusal(token.substr(0, token.size() - 1)).code == "invalid_token");
    std::string flipped = token;
    flipped[sig + 2] = flipped[sig + 2] == 'A' ? 'B' : 'A';
    CHECK(refusal(flipped) == invalid("signature does not verify"));
    CHECK(refusal(token.substr(0, sig)) == invalid("signature segment is empty"));
    CHECK(refusal(token.substr(0, sig) + "a+b/") == invalid("signature is not base64url"));
  }
}

TEST_CASE("a tampered payload fails", "[auth][verifier]") {
  const auto token = es256(good_payload(now));
  const std::size_t first = token.find('.');
  const std::size_t second = token.find('.', first + 1);
  std::string tampered_payload = good_payload(now);
  tampered_payload.replace(tampered_payload.find("svc-1"), 5, "admin");
  const std::string tampered = token.substr(0, first + 1) + base64url_encode(tampered_payload) +
                               token.substr(second);
  CHECK(refusal(tampered) == invalid("signature does not verify"));
  // The same for the header: a kid swap or an alg swap breaks the signature.
  const std::string swapped_header =
      base64url_encode(R"({"alg":"ES256","typ":"JWT","kid":"ec1" })") + token.substr(first);
  CHECK(refusal(swapped_header) == invalid("signature does not verify"));
}

TEST_CASE("exp is checked with the leeway and reported as token_expired", "[auth][verifier]") {
  const auto token = es256(good_payload(now - 1000));  // exp = now - 100
  CHECK(refusal(token) == error{"token_expired", "token expired at " + std::to_string(now - 100) + " (exp)"});
  const auto v = make_verifier();
  CHECK(v.verify(token, now - 71).ok());   // 29 s after exp: inside the 30 s leeway
  CHECK(refusal(token, now - 70).code == "token_expired");  // exactly exp + leeway
}

TEST_CASE("nbf and iat in the future are refused beyond the leeway", "[auth][verifier]") {
  const auto v = make_verifier();
  const auto nbf_soon = es256(good_payload(now, R"("nbf":)" + std::to_string(now + 30)));
  CHECK(v.verify(nbf_soon, now).ok());
  const auto nbf_later = es256(good_payload(now, R"("nbf":)" + std::to_string(now + 31)));
  CHECK(refusal(nbf_later) ==
        invalid("token is not valid before " + std::to_string(now + 31) + " (nbf)"));

  const auto iat_soon = es256(good_payload(now + 30));
  CHECK(v.verify(iat_soon, now).ok());
  const auto iat_later = es256(good_payload(now + 31));
  CHECK(refusal(iat_later) == invalid("iat is in the future"));
}

TEST_CASE("exp must come after iat", "[auth][verifier]") {
  std::string payload = good_payload(now);
  payload.replace(payload.find(R"("exp":)"), 6 + 10, R"("exp":)" + std::to_string(now));
  CHECK(refusal(es256(payload)) == invalid("exp is not after iat"));
}

TEST_CASE("iss and aud must match the configuration", "[auth][verifier]") {
  std::string wrong_iss = good_payload(now);
  wrong_iss.replace(wrong_iss.find("https://auth.test"), 17, "https://evil.test");
  CHECK(refusal(es256(wrong_iss)) == invalid("iss 'https://evil.test' is not the expected issuer"));

  std::string wrong_aud = good_payload(now);
  wrong_aud.replace(wrong_aud.find(R"("globemeet-events")"), 18, R"("globemeet-admin")");
  CHECK(refusal(es256(wrong_aud)) == invalid("aud does not include 'globemeet-events'"));

  std::string aud_array = good_payload(now);
  aud_array.replace(aud_array.find(R"("globemeet-events")"), 18, R"(["a","b"])");
  CHECK(refusal(es256(aud_array)) == invalid("aud does not include 'globemeet-events'"));
}

TEST_CASE("kid must be present and known", "[auth][verifier]") {
  CHECK(refusal(test::sign_with_pem(header("ES256", "nope"), good_payload(now), ec_key().private_pem)) ==
        invalid("kid 'nope' is unknown"));
  CHECK(refusal(test::sign_with_pem(R"({"alg":"ES256"})", good_payload(now), ec_key().private_pem)) ==
        invalid("header has no 'kid'"));
  CHECK(refusal(test::sign_with_pem(R"({"alg":"ES256","kid":7})", good_payload(now), ec_key().private_pem)) ==
        invalid("header 'kid' must be a string"));
  // A hostile kid is quoted short and printable.
  const std::string long_kid(200, 'k');
  const auto e = refusal(test::sign_with_pem(header("ES256", long_kid + "\\n"), good_payload(now),
                                             ec_key().private_pem));
  CHECK(e.message == "kid '" + std::string(64, 'k') + "...' is unknown");
}

TEST_CASE("duplicate member names in header or payload are refused", "[auth][verifier]") {
  CHECK(refusal(test::sign_with_pem(R"({"alg":"ES256","kid":"ec1","kid":"ec1"})", good_payload(now),
                                    ec_key().private_pem)) ==
        invalid("header: duplicate member name 'kid' in the top-level object"));
  CHECK(refusal(test::sign_with_pem(R"({"alg":"ES256","alg":"none","kid":"ec1"})", good_payload(now),
                                    ec_key().private_pem)) ==
        invalid("header: duplicate member name 'alg' in the top-level object"));
  CHECK(refusal(es256(good_payload(now, R"("sub":"admin")"))) ==
        invalid("payload: duplicate member name 'sub' in the top-level object"));
  CHECK(refusal(es256(good_payload(now, R"("x":{"a":1,"a":2})"))) ==
        invalid("payload: duplicate member name 'a' in member 'x'"));
}

TEST_CASE("crit extensions are refused", "[auth][verifier]") {
  CHECK(refusal(test::sign_with_pem(R"({"alg":"ES256","kid":"ec1","crit":["b64"],"b64":false})",
                                    good_payload(now), ec_key().private_pem)) ==
        invalid("header 'crit' names extensions this server does not support"));
}

TEST_CASE("malformed tokens are refused precisely", "[auth][verifier]") {
  const auto good = es256(good_payload(now));
  const std::size_t first = good.find('.');
  CHECK(refusal("") == invalid("token is empty"));
  CHECK(refusal("abc") == invalid("token has 1 segments; a signed JWT has 3"));
  CHECK(refusal(good.substr(0, good.rfind('.'))) == invalid("token has 2 segments; a signed JWT has 3"));
  CHECK(refusal(good + ".x") == invalid("token has 4 segments; a signed JWT has 3"));
  CHECK(refusal("a.b.c.d.e") == invalid("token has 5 segments; a signed JWT has 3"));
  CHECK(refusal(good.substr(first)) == invalid("header segment is empty"));
  CHECK(refusal("e30..c2ln") == invalid("payload segment is empty"));
  CHECK(refusal("e30=" + good.substr(first)) == invalid("header is not base64url"));
  CHECK(refusal(base64url_encode("not json") + good.substr(first)).message.rfind("header: ", 0) == 0);
  CHECK(refusal(base64url_encode("[1]") + good.substr(first)) == invalid("header: expected a JSON object at the top level, got array"));
  CHECK(refusal(base64url_encode(R"({"alg":"ES256","kid":"ec1"} x)") + good.substr(first)).message.rfind("header: ", 0) == 0);
  CHECK(refusal(" " + good) == invalid("header is not base64url"));

  CHECK(refusal(es256("[]")) == invalid("payload: expected a JSON object at the top level, got array"));
  CHECK(refusal(es256("{\"sub\":\"\xff\"}")).message.rfind("payload: invalid UTF-8", 0) == 0);
  CHECK(refusal(es256(good_payload(now, R"("big":1e999)"))) == invalid("payload: member 'big': number out of range (not finite)"));
  // A payload segment that is not base64url, correctly signed over what is written.
  auto hs = detail::key::from_hmac_secret(hs_secret);
  REQUIRE(hs.ok());
  const std::string input = base64url_encode(header("HS256", "hs1")) + ".e30=";
  const auto mac = hs.value()->sign(input);
  REQUIRE(mac);
  CHECK(refusal(input + "." + base64url_encode(*mac)) == invalid("payload is not base64url"));
  CHECK(refusal(test::sign_with_secret(header("HS256", "hs1"), "{}", hs_secret)) ==
        invalid("claim 'sub' is missing"));
}

TEST_CASE("a token over 16 KiB is refused before any parsing", "[auth][verifier]") {
  const std::string padding(16'384, 'a');
  const auto big = es256(good_payload(now, R"("pad":")" + padding + R"(")"));
  REQUIRE(big.size() > max_token_bytes);
  CHECK(refusal(big) == invalid("token is larger than 16384 bytes"));
  CHECK(refusal(std::string(max_token_bytes + 1, 'a')) == invalid("token is larger than 16384 bytes"));
  // Just under the limit still verifies.
  const std::string base = es256(good_payload(now, R"("pad":"")"));
  const std::size_t room = (max_token_bytes - base.size()) * 3 / 4 - 4;
  const auto fits = es256(good_payload(now, R"("pad":")" + std::string(room, 'a') + R"(")"));
  REQUIRE(fits.size() <= max_token_bytes);
  CHECK(make_verifier().verify(fits, now).ok());
}

TEST_CASE("every required claim must be present", "[auth][verifier]") {
  const std::string full = good_payload(now);
  for (std::string_view name : {"sub", "tenant", "perms", "exp", "iat", "iss", "aud"}) {
    // Rename the claim so the JSON stays well-formed.
    std::string payload = full;
    const std::string quoted = "\"" + std::string(name) + "\":";
    payload.replace(payload.find(quoted), quoted.size(), "\"x" + std::string(name) + "\":");
    CHECK(refusal(es256(payload)) == invalid("claim '" + std::string(name) + "' is missing"));
  }
}

TEST_CASE("claims of the wrong type or value are refused", "[auth][verifier]") {
  const auto with = [](std::string_view name, std::string_view json_value) {
    std::string payload = good_payload(now);
    const std::string quoted = "\"" + std::string(name) + "\":";
    const std::size_t at = payload.find(quoted);
    std::size_t end = at + quoted.size();
    int depth = 0;
    bool in_string = false;
    for (; end < payload.size(); ++end) {  // the end of the claim's value
      const char c = payload[end];
      if (in_string) { in_string = c != '"'; continue; }
      if (c == '"') in_string = true;
      else if (c == '[' || c == '{') ++depth;
      else if (c == ']' || c == '}') { if (depth == 0) break; --depth; }
      else if (c == ',' && depth == 0) break;
    }
    payload.replace(at + quoted.size(), end - at - quoted.size(), json_value);
    return es256(payload);
  };
  const std::string date_rule = " must be a non-negative integer number of seconds";
  CHECK(refusal(with("exp", R"("1800000900")")) == invalid("claim 'exp'" + date_rule));
  CHECK(refusal(with("exp", "1800000900.5")) == invalid("claim 'exp'" + date_rule));
  CHECK(refusal(with("exp", "-5")) == invalid("claim 'exp'" + date_rule));
  CHECK(refusal(with("exp", "18446744073709551615")) == invalid("claim 'exp'" + date_rule));
  CHECK(refusal(with("iat", "null")) == invalid("claim 'iat'" + date_rule));
  CHECK(make_verifier().verify(with("exp", "1.8000009e9"), now).ok());  // integral double is fine
  CHECK(refusal(es256(good_payload(now, R"("nbf":"soon")"))) == invalid("claim 'nbf'" + date_rule));
  CHECK(refusal(with("sub", "42")) == invalid("claim 'sub' must be a string"));
  CHECK(refusal(with("sub", R"("")")) == invalid("claim 'sub' is empty"));
  CHECK(refusal(with("iss", "true")) == invalid("claim 'iss' must be a string"));
  CHECK(refusal(with("tenant", R"("acme/evil")")) ==
        invalid("claim 'tenant' must be 1 to 64 characters of A-Z a-z 0-9 _ -"));
  CHECK(refusal(with("tenant", R"("")")).message.find("claim 'tenant'") == 0);
  CHECK(refusal(with("perms", R"("queue.>")")) == invalid("claim 'perms' must be an array of topic patterns"));
  CHECK(refusal(with("perms", R"(["queue.>",7])")) == invalid("claim 'perms'[1] must be a string"));
  CHECK(refusal(with("perms", R"(["queue.>","queue..x"])")).message.rfind("claim 'perms'[1]: ", 0) == 0);
  CHECK(refusal(with("perms", R"(["q>"])")).message.rfind("claim 'perms'[0]: ", 0) == 0);
  CHECK(refusal(es256(good_payload(now, R"("pub":"yes")"))) == invalid("claim 'pub' must be a boolean"));
  CHECK(refusal(with("aud", "[]")) == invalid("claim 'aud' must be a string or a non-empty array of strings"));
  CHECK(refusal(with("aud", "7")) == invalid("claim 'aud' must be a string or a non-empty array of strings"));
  CHECK(refusal(with("aud", R"(["globemeet-events",1])")) ==
        invalid("claim 'aud' must be a string or an array of strings"));
  // An empty perms array is a valid token (the network layer closes 4403 for it).
  CHECK(make_verifier().verify(with("perms", "[]"), now).ok());
  // A perm that obeys the grammar but can match no name is kept and grants nothing: a token that
  // verified before the rule was added still does (docs/protocol.md section 4).
  const auto dead = make_verifier().verify(with("perms", R"(["queue.support","a.b.c.>","queue.>"])"), now);
  REQUIRE(dead.ok());
  CHECK(dead.value().perms == std::vector<std::string>{"queue.support", "a.b.c.>", "queue.>"});
}

TEST_CASE("claims are checked only after the signature", "[auth][verifier]") {
  // A forged token with garbage claims reports the signature, not the claims.
  const auto other = test::make_ec_pem("P-256");
  CHECK(refusal(test::sign_with_pem(header("ES256", "ec1"), R"({"exp":"x"})", other.private_pem)) ==
        invalid("signature does not verify"));
}

TEST_CASE("one verifier serves many threads at once", "[auth][verifier]") {
  // Behaviour, not timing: every thread gets the same verdicts while sharing keys and OpenSSL
  // state (a failed verification must not leave errors behind for the next call).
  const auto v = make_verifier();
  const std::string good_es = es256(good_payload(now));
  const std::string good_rs =
      test::sign_with_pem(header("RS256", "rsa1"), good_payload(now), rsa_key().private_pem);
  std::string bad = good_es;
  bad[bad.size() - 3] = bad[bad.size() - 3] == 'A' ? 'B' : 'A';
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (!v.verify(good_es, now).ok() || !v.verify(good_rs, now).ok()) ++wrong;
        const auto r = v.verify(bad, now);
        if (r.ok() || r.err().message != "signature does not verify") ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(wrong == 0);
}
