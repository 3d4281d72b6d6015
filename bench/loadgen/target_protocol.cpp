#include "target_protocol.hpp"

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace bench {

std::optional<Target> parse_target(std::string_view name) {
  if (name == "globemeet") return Target::globemeet;
  if (name == "nats") return Target::nats;
  if (name == "bun") return Target::bun;
  if (name == "ws") return Target::ws;
  return std::nullopt;
}

const char* target_name(Target target) {
  switch (target) {
    case Target::globemeet: return "globemeet";
    case Target::nats: return "nats";
    case Target::bun: return "bun";
    case Target::ws: return "ws";
  }
  return "?";
}

std::string topic_name(int k) { return "queue.q" + std::to_string(k) + ".depth-changed"; }

// The send time goes last, so the generator finds it by searching back from the end of the
// message: the same few bytes for every target and payload size (a forward search would cross
// GlobeMeet's whole envelope, ~330 bytes, before reaching the data, and skew the comparison).
std::string event_data(int topic, std::uint64_t send_ns, int payload_bytes) {
  const std::string ts = std::to_string(send_ns);
  std::string data;
  data.reserve(static_cast<std::size_t>(payload_bytes) + 16);
  data.append("{\"queue_id\":\"q").append(std::to_string(topic));
  data.append("\",\"depth\":1,\"longest_wait_seconds\":0,\"pad\":\"");
  const std::size_t closing = 7 + ts.size() + 1;  // ","ts": + digits + }
  const auto target = static_cast<std::size_t>(payload_bytes);
  if (data.size() + closing < target) data.append(target - data.size() - closing, 'x');
  data.append("\",\"ts\":").append(ts).append("}");
  return data;
}

std::uint64_t find_send_ns(std::string_view message) {
  static constexpr std::string_view key = "\"ts\":";
  const std::size_t at = message.rfind(key);
  if (at == std::string_view::npos) return 0;
  const char* p = message.data() + at + key.size();
  std::uint64_t value = 0;
  std::from_chars(p, message.data() + message.size(), value);
  return value;
}

bool SubscriptionLayout::receives(int connection, int topic) const {
  if (wildcard && connection % 10 == 0) return true;
  return connection % topics == topic;
}

std::vector<std::string> SubscriptionLayout::subscriptions(Target target, int connection) const {
  const int own = connection % topics;
  const bool everything = wildcard && connection % 10 == 0;
  std::vector<std::string> subs;
  switch (target) {
    case Target::globemeet:
      subs.push_back(topic_name(own));
      if (wildcard) {
        subs.push_back("queue.q" + std::to_string(own) + ".>");
        if (everything) subs.push_back("queue.*.depth-changed");
      }
      break;
    case Target::nats:
      // NATS delivers once per matching subscription, so overlapping ones would duplicate:
      // the wildcard holders take only the wildcard.
      subs.push_back(everything ? std::string("queue.*.depth-changed") : topic_name(own));
      break;
    case Target::bun:
    case Target::ws:
      if (everything) {
        for (int k = 0; k < topics; ++k) subs.push_back(topic_name(k));
      } else {
        subs.push_back(topic_name(own));
      }
      break;
  }
  return subs;
}

std::vector<std::string> SubscriptionLayout::every_topic(Target target) const {
  if (target == Target::globemeet || target == Target::nats) return {"queue.*.depth-changed"};
  std::vector<std::string> subs;
  for (int k = 0; k < topics; ++k) subs.push_back(topic_name(k));
  return subs;
}

std::string_view websocket_path(Target target) { return target == Target::globemeet ? "/v1/events" : "/"; }

std::string handshake_headers(Target target, std::string_view token) {
  std::string h;
  if (target == Target::globemeet) {
    h.append("Sec-WebSocket-Protocol: globemeet-events.v1\r\n");
    if (!token.empty()) h.append("Authorization: Bearer ").append(token).append("\r\n");
  }
  return h;
}

std::string subscribe_payload(Target target, const std::vector<std::string>& subscriptions, std::string_view from) {
  std::string p;
  switch (target) {
    case Target::globemeet:
      p.append("{\"op\":\"subscribe\",\"req\":\"s\",\"topics\":[");
      for (std::size_t i = 0; i < subscriptions.size(); ++i) {
        if (i > 0) p.push_back(',');
        p.append("\"").append(subscriptions[i]).append("\"");
      }
      p.append("]");
      if (!from.empty()) p.append(",\"from\":\"").append(from).append("\"");
      p.append("}");
      break;
    case Target::nats:
      p.append("CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1}\r\n");
      for (std::size_t i = 0; i < subscriptions.size(); ++i) {
        p.append("SUB ").append(subscriptions[i]).append(" ").append(std::to_string(i + 1)).append("\r\n");
      }
      p.append("PING\r\n");  // the PONG says every SUB before it was applied
      break;
    case Target::bun:
    case Target::ws:
      p.append("S ");
      for (std::size_t i = 0; i < subscriptions.size(); ++i) {
        if (i > 0) p.push_back(',');
        p.append(subscriptions[i]);
      }
      break;
  }
  return p;
}

std::string publisher_hello(Target target) {
  if (target == Target::nats) return "CONNECT {\"verbose\":false,\"pedantic\":false,\"protocol\":1}\r\nPING\r\n";
  return {};
}

void append_nats_publish(std::string& stream, std::string_view topic, std::string_view data) {
  stream.append("PUB ").append(topic).append(" ").append(std::to_string(data.size())).append("\r\n");
  stream.append(data).append("\r\n");
}

std::string peer_publish_message(std::string_view topic, std::string_view data) {
  std::string m;
  m.reserve(topic.size() + data.size() + 3);
  m.append("P ").append(topic).append(" ").append(data);
  return m;
}

std::string globemeet_publish_request(std::string_view host, std::string_view token, std::string_view body) {
  std::string r;
  r.reserve(body.size() + 256 + token.size());
  r.append("POST /v1/events HTTP/1.1\r\nHost: ").append(host);
  r.append("\r\nAuthorization: Bearer ").append(token);
  r.append("\r\nContent-Type: application/json\r\nContent-Length: ").append(std::to_string(body.size()));
  r.append("\r\n\r\n").append(body);
  return r;
}

void append_globemeet_event(std::string& body, int topic, std::string_view data) {
  body.append("{\"type\":\"queue.depth-changed\",\"subject\":\"q").append(std::to_string(topic));
  body.append("\",\"data\":").append(data).append("}");
}

MessageKind classify_message(Target target, std::string_view message) {
  if (target == Target::bun || target == Target::ws) {
    if (message == "OK") return MessageKind::subscribed;
    return message.rfind("\"ts\":") != std::string_view::npos ? MessageKind::delivery : MessageKind::other;
  }
  // GlobeMeet frames start with {"op":"<kind>" (the server writes op first); fall back to a search.
  auto op_is = [&](std::string_view op) {
    std::string needle = "\"op\":\"" + std::string(op) + "\"";
    if (message.size() > needle.size() + 1 && message.substr(1, needle.size()) == needle) return true;
    return message.find(needle) != std::string_view::npos;
  };
  if (message.size() > 12 && message.substr(1, 12) == "\"op\":\"event\"") return MessageKind::delivery;
  if (op_is("event")) return MessageKind::delivery;
  if (op_is("subscribed")) return MessageKind::subscribed;
  if (op_is("replayed")) return MessageKind::replayed;
  if (op_is("overflow")) return MessageKind::overflow;
  if (op_is("error")) return MessageKind::error;
  return MessageKind::other;
}

void NatsStream::feed(std::string_view bytes, const Handlers& handlers) {
  buffer_.append(bytes);
  std::size_t pos = 0;
  while (true) {
    const std::size_t eol = buffer_.find("\r\n", pos);
    if (eol == std::string::npos) break;
    std::string_view line(buffer_.data() + pos, eol - pos);
    if (line.starts_with("MSG ")) {
      // MSG <subject> <sid> [reply-to] <#bytes>
      const std::size_t space = line.rfind(' ');
      std::size_t size = 0;
      std::from_chars(line.data() + space + 1, line.data() + line.size(), size);
      const std::size_t payload_at = eol + 2;
      if (buffer_.size() < payload_at + size + 2) break;  // wait for the rest
      if (handlers.on_msg) handlers.on_msg(std::string_view(buffer_.data() + payload_at, size));
      pos = payload_at + size + 2;
      continue;
    }
    if (line == "PING") { if (handlers.on_ping) handlers.on_ping(); }
    else if (line == "PONG") { if (handlers.on_pong) handlers.on_pong(); }
    else if (line.starts_with("-ERR")) { if (handlers.on_error) handlers.on_error(line); }
    // INFO and +OK need nothing.
    pos = eol + 2;
  }
  buffer_.erase(0, pos);
}

}  // namespace bench
