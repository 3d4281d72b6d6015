// A command-line face of the auth library for cross-checks against other JOSE implementations
// (tests/js/jwt_interop.test.mjs runs it against the npm package `jose`).
//
//   jwt_tool verify --iss ISS --aud AUD --now UNIX_S [--leeway S] [--jwks FILE] [--allow-oct]
//                   [--pem KID=FILE]... [--hs256 KID=SECRET_FILE]...      < token
//       prints the verified claims as JSON (exit 0) or {"error":{"code","message"}} (exit 1)
//   jwt_tool sign (--key-pem FILE | --hs256-secret-file FILE | --generate-es256) --kid KID
//                 [--jwks-out FILE] --iss ISS --aud AUD --sub SUB --tenant T [--perm P]...
//                 [--pub] --iat UNIX_S --exp UNIX_S [--nbf UNIX_S]
//       prints the compact JWT; with --jwks-out also writes the public JWKS document
// Exit 2 on usage errors.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "globemeet/server/auth/signer.hpp"
#include "globemeet/server/auth/verifier.hpp"

namespace {

namespace auth = globemeet::server::auth;
namespace json = boost::json;

struct usage_error {
  std::string what;
};

// Options: each "--name value" pair, and flags without a value.
struct arguments {
  std::multimap<std::string, std::string> values;
  std::vector<std::string> flags;

  bool has_flag(const std::string& name) const {
    return std::find(flags.begin(), flags.end(), name) != flags.end();
  }
  bool has(const std::string& name) const { return values.count(name) != 0; }
  std::string one(const std::string& name) const {
    const auto it = values.find(name);
    if (it == values.end()) throw usage_error{"missing --" + name};
    return it->second;
  }
  std::vector<std::string> all(const std::string& name) const {
    std::vector<std::string> out;
    for (auto [it, end] = values.equal_range(name); it != end; ++it) out.push_back(it->second);
    return out;
  }
  std::int64_t number(const std::string& name) const {
    const std::string text = one(name);
    std::size_t used = 0;
    const long long n = std::stoll(text, &used);
    if (used != text.size()) throw usage_error{"--" + name + " is not a number"};
    return n;
  }
};

arguments parse(int argc, char** argv, const std::vector<std::string>& flag_names) {
  arguments args;
  for (int i = 2; i < argc; ++i) {
    std::string name = argv[i];
    if (name.rfind("--", 0) != 0) throw usage_error{"unexpected argument " + name};
    name = name.substr(2);
    if (std::find(flag_names.begin(), flag_names.end(), name) != flag_names.end()) {
      args.flags.push_back(name);
    } else {
      if (i + 1 >= argc) throw usage_error{"--" + name + " needs a value"};
      args.values.emplace(name, argv[++i]);
    }
  }
  return args;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw usage_error{"cannot read " + path};
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::pair<std::string, std::string> kid_and_path(const std::string& spec) {
  const std::size_t equals = spec.find('=');
  if (equals == std::string::npos) throw usage_error{"expected KID=FILE, got " + spec};
  return {spec.substr(0, equals), spec.substr(equals + 1)};
}

int fail(const globemeet::core::error& e) {
  json::object body{{"error", json::object{{"code", e.code}, {"message", e.message}}}};
  std::cout << json::serialize(body) << "\n";
  return 1;
}

json::object claims_json(const auth::claims& c) {
  json::object out;
  out["sub"] = c.sub;
  out["tenant"] = c.tenant;
  json::array perms;
  for (const auto& p : c.perms) perms.emplace_back(p);
  out["perms"] = std::move(perms);
  out["pub"] = c.pub;
  out["exp"] = c.exp;
  out["iat"] = c.iat;
  if (c.nbf) out["nbf"] = *c.nbf;
  out["iss"] = c.iss;
  json::array aud;
  for (const auto& a : c.aud) aud.emplace_back(a);
  out["aud"] = std::move(aud);
  return out;
}

int verify(int argc, char** argv) {
  // The token first, whole: a refusal below (a bad key set, a usage error) must not exit before
  // the caller has written its standard input, or that write fails with EPIPE.
  std::string token(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>{});
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  const arguments args = parse(argc, argv, {"allow-oct"});
  auth::key_set keys;
  if (args.has("jwks")) {
    if (auto e = keys.add_jwks(read_file(args.one("jwks")), auth::jwks_options{args.has_flag("allow-oct")}))
      return fail(*e);
  }
  for (const auto& spec : args.all("pem")) {
    const auto [kid, path] = kid_and_path(spec);
    if (auto e = keys.add_public_pem(kid, read_file(path))) return fail(*e);
  }
  for (const auto& spec : args.all("hs256")) {
    const auto [kid, path] = kid_and_path(spec);
    if (auto e = keys.add_hmac_secret(kid, read_file(path))) return fail(*e);
  }
  auth::verifier_options options{args.one("iss"), args.one("aud"), 30};
  if (args.has("leeway")) options.leeway_s = args.number("leeway");
  const auto r = auth::verifier(std::move(keys), options).verify(token, args.number("now"));
  if (!r) return fail(r.err());
  std::cout << json::serialize(claims_json(r.value())) << "\n";
  return 0;
}

int sign(int argc, char** argv) {
  const arguments args = parse(argc, argv, {"generate-es256", "pub"});
  const std::string kid = args.one("kid");
  auto s = args.has("key-pem")              ? auth::signer::from_private_pem(kid, read_file(args.one("key-pem")))
           : args.has("hs256-secret-file")  ? auth::signer::from_hmac_secret(kid, read_file(args.one("hs256-secret-file")))
           : args.has_flag("generate-es256") ? auth::signer::generate_es256(kid)
                                            : throw usage_error{"need --key-pem, --hs256-secret-file or --generate-es256"};
  if (!s) return fail(s.err());
  auth::claims c;
  c.iss = args.one("iss");
  c.aud = args.all("aud");
  if (c.aud.empty()) throw usage_error{"missing --aud"};
  c.sub = args.one("sub");
  c.tenant = args.one("tenant");
  c.perms = args.all("perm");
  c.pub = args.has_flag("pub");
  c.iat = args.number("iat");
  c.exp = args.number("exp");
  if (args.has("nbf")) c.nbf = args.number("nbf");
  auto token = s->sign(c);
  if (!token) return fail(token.err());
  if (args.has("jwks-out")) {
    std::ofstream out(args.one("jwks-out"), std::ios::binary | std::ios::trunc);
    out << s->public_jwks();
    if (!out) throw usage_error{"cannot write " + args.one("jwks-out")};
  }
  std::cout << token.value() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "verify") return verify(argc, argv);
    if (command == "sign") return sign(argc, argv);
    throw usage_error{"usage: jwt_tool verify|sign [options] (see the source's header comment)"};
  } catch (const usage_error& e) {
    std::cerr << "jwt_tool: " << e.what << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "jwt_tool: " << e.what() << "\n";
    return 2;
  }
}
