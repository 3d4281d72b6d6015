// `globemeet pub`: POST /v1/events, one event from flags or one per stdin line; prints ids.
#include <cstdio>
#include <iostream>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "cli_common.hpp"
#include "http_client.hpp"

namespace globemeet::cli {
namespace {

namespace json = boost::json;

constexpr const char* pub_usage =
    "usage: globemeet pub --type TYPE --subject SUBJECT [--data JSON] [options]\n"
    "       globemeet pub [options] < events.jsonl\n"
    "\n"
    "Publishes one event given by flags, or, without --type, one event per line of stdin (each a\n"
    "JSON object {\"type\",\"subject\",\"data\"}; blank lines are skipped). Prints each event id on\n"
    "its own line as soon as the server has stored the event. The token needs `pub: true`.\n"
    "\n"
    "  --type TYPE           event type, e.g. queue.depth-changed\n"
    "  --subject SUBJECT     the key segment (queue name or agent id)\n"
    "  --data JSON           the data object (default {})\n"
    "\n";

std::string describe_refusal(const http_response& res) {
  json::error_code ec;
  const auto v = json::parse(res.body, ec);
  std::string text = "HTTP " + std::to_string(res.status);
  if (!ec && v.is_object()) {
    const auto& o = v.get_object();
    if (const auto* e = o.if_contains("error"); e && e->is_string()) text += " " + std::string(e->get_string());
    if (const auto* m = o.if_contains("message"); m && m->is_string()) text += ": " + std::string(m->get_string());
  } else if (!res.body.empty()) {
    text += ": " + res.body.substr(0, 200);
  }
  return text;
}

// Posts one event object and prints the ids the server assigned.
void publish(const connection_settings& settings, const std::string& token, const std::string& body) {
  http_request req;
  req.method = "POST";
  std::string base = settings.server.target;
  while (!base.empty() && base.back() == '/') base.pop_back();
  req.target = base + "/v1/events";
  req.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
  req.body = body;
  http_response res;
  try {
    res = send_http(settings.server, req, settings.ca_file, settings.timeout);
  } catch (const std::exception& e) {
    throw runtime_failure(std::string("publish failed: ") + e.what());
  }
  if (res.status != 200) throw runtime_failure("publish refused (" + describe_refusal(res) + ")");
  json::error_code ec;
  const auto v = json::parse(res.body, ec);
  const json::value* ids = (!ec && v.is_object()) ? v.get_object().if_contains("ids") : nullptr;
  if (!ids || !ids->is_array()) throw runtime_failure("publish answer has no ids: " + res.body.substr(0, 200));
  for (const auto& id : ids->get_array())
    if (id.is_string()) std::printf("%s\n", std::string(id.get_string()).c_str());
  std::fflush(stdout);
}

}  // namespace

int run_pub(std::vector<std::string> args) {
  connection_settings settings;
  std::string type, subject, data;
  argument_scanner scanner(std::move(args));
  while (auto arg = scanner.next()) {
    if (*arg == "--help" || *arg == "-h") {
      std::printf("%s%s", pub_usage, common_flags_help);
      return exit_ok;
    }
    if (*arg == "--type") type = scanner.value();
    else if (*arg == "--subject") subject = scanner.value();
    else if (*arg == "--data") data = scanner.value();
    else if (!take_common_flag(scanner, *arg, settings)) throw usage_error("pub: unknown argument '" + *arg + "'");
  }
  finish_settings(settings);

  if (!type.empty() || !subject.empty() || !data.empty()) {
    if (type.empty() || subject.empty()) throw usage_error("pub: --type and --subject go together");
    json::object event{{"type", type}, {"subject", subject}};
    if (data.empty()) {
      event["data"] = json::object();
    } else {
      json::error_code ec;
      json::value parsed = json::parse(data, ec);
      if (ec || !parsed.is_object()) throw usage_error("pub: --data must be a JSON object, got '" + data + "'");
      event["data"] = std::move(parsed);
    }
    const std::string token = obtain_token(settings);
    publish(settings, token, json::serialize(event));
    return exit_ok;
  }

  const std::string token = obtain_token(settings);
  std::string line;
  long long line_number = 0;
  while (std::getline(std::cin, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json::error_code ec;
    const json::value parsed = json::parse(line, ec);
    if (ec || !parsed.is_object())
      throw runtime_failure("stdin line " + std::to_string(line_number) + " is not a JSON object");
    publish(settings, token, line);
  }
  return exit_ok;
}

}  // namespace globemeet::cli
