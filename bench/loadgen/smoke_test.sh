#!/usr/bin/env bash
# bench.loadgen_smoke: the load generator against a real globemeet-server, 20 subscribers,
# 2 short steps. Asserts correctness (every event reaches every subscriber, JSON per step),
# never a speed.
set -euo pipefail
loadgen=$1
server=$2
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > "$dir/secret"
"$server" --dev --listen 127.0.0.1:0 --hs256-secret-file "$dir/secret" --issuer bench > "$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q '"listening"' "$dir/server.log" && break; sleep 0.1; done
port=$(grep -o '"port":[0-9]*' "$dir/server.log" | head -1 | cut -d: -f2)
[ -n "$port" ] || { echo "server did not start"; cat "$dir/server.log"; exit 1; }
# HS256 tokens made here with openssl (no Node needed in ctest).
b64() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
mint() {
  local now; now=$(date +%s)
  local header payload sig
  header=$(printf '{"alg":"HS256","kid":"dev","typ":"JWT"}' | b64)
  payload=$(printf '{"sub":"%s","tenant":"bench","perms":[">"],"iss":"bench","aud":"globemeet-events","iat":%d,"exp":%d%s}' \
    "$1" "$now" "$((now + 900))" "$2" | b64)
  sig=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$(cat "$dir/secret")" -binary | b64)
  printf '%s.%s.%s' "$header" "$payload" "$sig"
}
mint sub "" > "$dir/sub.jwt"
mint pub ',"pub":true' > "$dir/pub.jwt"
out=$("$loadgen" --target globemeet --port "$port" --server-pid "$pid" --connections 20 --topics 3 --wildcard \
  --rates 50,100 --warmup 0.2 --step 0.5 --drain 2 --token-file "$dir/sub.jwt" --publish-token-file "$dir/pub.jwt" \
  --label smoke) || true
echo "$out"
[ "$(echo "$out" | wc -l)" -eq 2 ] || { echo "expected one JSON line per step"; exit 1; }
echo "$out" | grep -q '"subscribed":20,' || { echo "not every subscriber subscribed"; exit 1; }
if echo "$out" | grep -q '"delivered_fraction":1,' && ! echo "$out" | grep -vq '"delivered_fraction":1,'; then
  echo "smoke ok"
else
  echo "some step lost deliveries"; exit 1
fi
