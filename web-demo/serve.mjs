#!/usr/bin/env node
// The live dashboard's small backend: serves the page (web-demo/) and the SDK (js/dist at
// /sdk/), and hands the page tokens. The OAuth client secret stays here: GET /token exchanges
// it at the GlobeMeet server's POST /oauth/token (client-credentials grant) for a short-lived
// token, which is all the browser ever holds.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const usage = `usage: serve.mjs [options]
  --port N              port to listen on (default 8081; 0 picks a free one)
  --host HOST           address to listen on (default 127.0.0.1)
  --server URL          GlobeMeet server base URL (default http://127.0.0.1:8080, env GLOBEMEET_SERVER)
  --endpoint URL        WebSocket endpoint for the page (default: the server's ws(s)://.../v1/events)
  --client-id ID        OAuth client id (env GLOBEMEET_CLIENT_ID)
  --client-secret S     its secret (env GLOBEMEET_CLIENT_SECRET)
The GlobeMeet server must allow this page's origin: --allowed-origins http://HOST:PORT`;

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string', default: '8081' },
      host: { type: 'string', default: '127.0.0.1' },
      server: { type: 'string', default: process.env.GLOBEMEET_SERVER ?? 'http://127.0.0.1:8080' },
      endpoint: { type: 'string' },
      'client-id': { type: 'string', default: process.env.GLOBEMEET_CLIENT_ID },
      'client-secret': { type: 'string', default: process.env.GLOBEMEET_CLIENT_SECRET },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (e) {
  console.error(`serve: ${e.message}\n${usage}`);
  process.exit(2);
}
if (args.help) { console.log(usage); process.exit(0); }
if (!args['client-id'] || !args['client-secret']) {
  console.error(`serve: --client-id and --client-secret are required\n${usage}`);
  process.exit(2);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const sdkDir = path.resolve(here, '../js/dist');
const serverUrl = new URL(args.server);
const endpoint = args.endpoint
  ?? `${serverUrl.protocol === 'https:' ? 'wss' : 'ws'}://${serverUrl.host}/v1/events`;
const basicAuth = `Basic ${Buffer.from(`${encodeURIComponent(args['client-id'])}:${encodeURIComponent(args['client-secret'])}`).toString('base64')}`;

const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.wasm': 'application/wasm',  // the SDK's core: browsers compile it streaming only with this type
};
// URL path prefix to the directory it is served from.
const mounts = [['/sdk/', sdkDir], ['/', here]];
const pageFiles = new Set(['/index.html', '/app.js', '/dashboard.js', '/chart.js', '/view.js', '/style.css']);

function send(res, status, body, type = 'application/json', extra = {}) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...extra });
  res.end(body);
}
const sendJson = (res, status, value) => send(res, status, JSON.stringify(value));

// A fresh token per request: the SDK asks only before expiry and when reconnecting, and a token
// no newer than the one it holds would be refused as a refresh.
async function token(res) {
  try {
    const upstream = await fetch(new URL('/oauth/token', serverUrl), {
      method: 'POST',
      headers: { Authorization: basicAuth, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const body = await upstream.json().catch(() => ({}));
    if (!upstream.ok || typeof body.access_token !== 'string') {
      return sendJson(res, 502, { error: 'token_exchange_failed', status: upstream.status, detail: body.error ?? null });
    }
    return sendJson(res, 200, { access_token: body.access_token, expires_in: body.expires_in });
  } catch (e) {
    return sendJson(res, 502, { error: 'token_exchange_failed', detail: e.message });
  }
}

async function file(res, urlPath) {
  for (const [prefix, dir] of mounts) {
    if (!urlPath.startsWith(prefix)) continue;
    const relative = urlPath.slice(prefix.length) || 'index.html';
    if (prefix === '/' && !pageFiles.has(`/${relative}`)) break;  // serve.mjs itself is not public
    const resolved = path.resolve(dir, relative);
    if (!resolved.startsWith(dir + path.sep)) break;
    try {
      const body = await readFile(resolved);
      return send(res, 200, body, types[path.extname(resolved)] ?? 'application/octet-stream');
    } catch {
      break;
    }
  }
  return sendJson(res, 404, { error: 'not_found' });
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method_not_allowed' });
  if (url.pathname === '/token') return void token(res);
  if (url.pathname === '/config') return sendJson(res, 200, { endpoint });
  let urlPath;
  try {
    urlPath = decodeURIComponent(url.pathname);
  } catch {
    return sendJson(res, 400, { error: 'bad_path' });
  }
  return void file(res, urlPath);
});

server.listen(Number(args.port), args.host, () => {
  const { port } = server.address();
  console.log(JSON.stringify({ msg: 'listening', port, endpoint }));
  console.error(`GlobeMeet live demo: http://${args.host}:${port}/  (the server needs --allowed-origins http://${args.host}:${port})`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
}
