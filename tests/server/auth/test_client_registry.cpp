#include <catch2/catch.hpp>

#include "globemeet/server/auth/client_registry.hpp"
#include "globemeet/server/auth/secret_hash.hpp"

using namespace globemeet::server::auth;

namespace {

const std::string& a_hash() {
  static const std::string hash = hash_secret("secret", 1000).value();
  return hash;
}

std::string registry_error(const std::string& json) {
  auto r = client_registry::from_json(json);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == "invalid_config");
  return r.err().message;
}

std::string one_client(std::string_view members) {
  return R"({"clients":[{"client_id":"c1","secret_hash":")" + a_hash() + R"(",)" + std::string(members) + "}]}";
}

}  // namespace

TEST_CASE("clients load from JSON", "[auth][clients]") {
  auto r = client_registry::from_json(one_client(R"("tenant":"acme","perms":["queue.>"],"publish":true)"));
  REQUIRE(r.ok());
  CHECK(r->size() == 1);
  CHECK(r->max_iterations() == 1000);
  const client* c = r->find("c1");
  REQUIRE(c != nullptr);
  CHECK(c->tenant == "acme");
  CHECK(c->perms == std::vector<std::string>{"queue.>"});
  CHECK(c->publish);
  CHECK(r->find("c2") == nullptr);
  auto no_publish = client_registry::from_json(one_client(R"("tenant":"acme","perms":[])"));
  REQUIRE(no_publish.ok());
  CHECK_FALSE(no_publish->find("c1")->publish);
}

TEST_CASE("bad client entries are refused with their position", "[auth][clients]") {
  CHECK(registry_error("{}") == "clients: member 'clients' must be an array");
  CHECK(registry_error(R"({"clients":[],"clients":[]})") == "clients: duplicate member name 'clients' in the top-level object");
  CHECK(registry_error(R"({"clients":[7]})") == "clients[0]: not an object");
  CHECK(registry_error(one_client(R"("perms":[])")) == "clients[0]: member 'tenant' must be a string");
  CHECK(registry_error(one_client(R"("tenant":"acme")")) ==
        "clients[0]: member 'perms' must be an array of topic patterns");
  CHECK(registry_error(one_client(R"("tenant":"acme","perms":[],"publish":1)")) ==
        "clients[0]: member 'publish' must be a boolean");
  CHECK(registry_error(one_client(R"("tenant":"a/b","perms":[])")) ==
        "clients[0]: client 'c1': tenant must be 1 to 64 characters of A-Z a-z 0-9 _ -");
  CHECK(registry_error(one_client(R"("tenant":"acme","perms":["queue.>.x"])"))
            .rfind("clients[0]: client 'c1': perms 'queue.>.x': ", 0) == 0);
  // The server issues these perms: one that can match no name is a mistake to fix at start.
  CHECK(registry_error(one_client(R"("tenant":"acme","perms":["queue.>","queue.support"])")) ==
        "clients[0]: client 'c1': perms 'queue.support': a topic pattern can never match a topic name: names have "
        "exactly 3 segments {stream}.{key}.{event} (the pattern has 2)");
  CHECK(registry_error(R"({"clients":[{"client_id":"c1","secret_hash":"plain","tenant":"acme","perms":[]}]})") ==
        "clients[0]: client 'c1': secret_hash: expected pbkdf2-sha256$<iterations>$<salt>$<hash>");
  const std::string entry = R"({"client_id":"c1","secret_hash":")" + a_hash() + R"(","tenant":"acme","perms":[]})";
  CHECK(registry_error(R"({"clients":[)" + entry + "," + entry + "]}") == "clients[1]: client 'c1' appears twice");
}

TEST_CASE("client ids must be printable and bounded", "[auth][clients]") {
  client_registry r;
  CHECK(r.add({"", a_hash(), "acme", {}, false})->message == "client_id must be 1 to 256 bytes");
  CHECK(r.add({std::string(257, 'c'), a_hash(), "acme", {}, false})->message == "client_id must be 1 to 256 bytes");
  CHECK(r.add({"c\n1", a_hash(), "acme", {}, false})->message == "client_id contains a control character");
  CHECK_FALSE(r.add({"c:1 é", a_hash(), "acme", {}, false}));
  CHECK(r.size() == 1);
}
