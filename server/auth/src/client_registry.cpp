#include "globemeet/server/auth/client_registry.hpp"

#include <boost/json/array.hpp>

#include "globemeet/core/topic.hpp"
#include "globemeet/server/auth/secret_hash.hpp"
#include "quoted.hpp"
#include "strict_json.hpp"

namespace globemeet::server::auth {
namespace {

namespace json = boost::json;

constexpr std::size_t max_registry_bytes = 4'194'304;
constexpr std::size_t max_client_id_bytes = 256;

core::error invalid_config(std::string message) { return {"invalid_config", std::move(message)}; }

core::result<std::string> string_member(const json::object& entry, std::string_view name) {
  const json::value* v = entry.if_contains(name);
  if (v == nullptr || !v->is_string())
    return invalid_config("member '" + std::string(name) + "' must be a string");
  return std::string(v->get_string());
}

core::result<client> client_from_json(const json::object& entry) {
  client c;
  auto id = string_member(entry, "client_id");
  if (!id) return id.err();
  c.client_id = std::move(id.value());
  auto hash = string_member(entry, "secret_hash");
  if (!hash) return hash.err();
  c.secret_hash = std::move(hash.value());
  auto tenant = string_member(entry, "tenant");
  if (!tenant) return tenant.err();
  c.tenant = std::move(tenant.value());
  const json::value* perms = entry.if_contains("perms");
  if (perms == nullptr || !perms->is_array())
    return invalid_config("member 'perms' must be an array of topic patterns");
  for (const json::value& p : perms->get_array()) {
    if (!p.is_string()) return invalid_config("member 'perms' must be an array of topic patterns");
    c.perms.emplace_back(p.get_string());
  }
  if (const json::value* publish = entry.if_contains("publish")) {
    if (!publish->is_bool()) return invalid_config("member 'publish' must be a boolean");
    c.publish = publish->get_bool();
  }
  return c;
}

}  // namespace

core::result<client_registry> client_registry::from_json(std::string_view text) {
  auto document = detail::parse_strict_object(text, max_registry_bytes);
  if (!document) return invalid_config("clients: " + document.err().message);
  const json::value* clients = document->if_contains("clients");
  if (clients == nullptr || !clients->is_array())
    return invalid_config("clients: member 'clients' must be an array");
  client_registry registry;
  const json::array& entries = clients->get_array();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string where = "clients[" + std::to_string(i) + "]";
    if (!entries[i].is_object()) return invalid_config(where + ": not an object");
    auto c = client_from_json(entries[i].get_object());
    if (!c) return invalid_config(where + ": " + c.err().message);
    if (auto bad = registry.add(std::move(c.value()))) return invalid_config(where + ": " + bad->message);
  }
  return registry;
}

std::optional<core::error> client_registry::add(client c) {
  if (c.client_id.empty() || c.client_id.size() > max_client_id_bytes)
    return invalid_config("client_id must be 1 to " + std::to_string(max_client_id_bytes) + " bytes");
  for (const char ch : c.client_id) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F)
      return invalid_config("client_id contains a control character");
  }
  const std::string who = "client " + detail::quoted(c.client_id);
  if (clients_.count(c.client_id) != 0) return invalid_config(who + " appears twice");
  if (auto bad = check_secret_hash(c.secret_hash))
    return invalid_config(who + ": secret_hash: " + bad->message);
  if (!is_valid_tenant(c.tenant))
    return invalid_config(who + ": tenant must be 1 to 64 characters of A-Z a-z 0-9 _ -");
  for (const auto& pattern : c.perms) {
    if (auto bad = core::topic::validate_pattern(pattern))
      return invalid_config(who + ": perms " + detail::quoted(pattern) + ": " + bad->message);
  }
  max_iterations_ = std::max(max_iterations_, secret_hash_iterations(c.secret_hash).value_or(0));
  std::string id = c.client_id;
  clients_.emplace(std::move(id), std::move(c));
  return std::nullopt;
}

const client* client_registry::find(std::string_view client_id) const {
  const auto it = clients_.find(client_id);
  return it == clients_.end() ? nullptr : &it->second;
}

}  // namespace globemeet::server::auth
