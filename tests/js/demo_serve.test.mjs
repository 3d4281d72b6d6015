// web-demo/serve.mjs: serves the page and the SDK, keeps its own source and anything outside
// its two directories private, and exchanges the OAuth client credentials for the page.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer } from './helpers/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function serve(args) {
  const child = spawn(process.execPath, [path.join(root, 'web-demo/serve.mjs'), '--port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  cleanups.push(async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exited; } });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) resolve(JSON.parse(line).port);
    });
    exited.then((code) => reject(new Error(`serve.mjs exited ${code}`)));
  });
  return `http://127.0.0.1:${port}`;
}

const server = await startServer();
cleanups.push(() => server.stop());
const creds = server.logs.find((l) => l.msg === 'dev_credentials');

test('serves the page, the SDK and the endpoint; nothing else', async () => {
  const base = await serve(['--server', server.httpUrl, '--client-id', creds.client_id, `--client-secret=${creds.client_secret}`]);
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /text\/html/);
  assert.match(await page.text(), /<script type="module" src="\/app.js">/);
  for (const file of ['/app.js', '/dashboard.js', '/view.js', '/chart.js', '/style.css']) {
    assert.equal((await fetch(`${base}${file}`)).status, 200, file);
  }
  const sdk = await fetch(`${base}/sdk/index.js`);
  assert.equal(sdk.status, 200);
  assert.match(sdk.headers.get('content-type'), /javascript/);
  assert.match(await sdk.text(), /GlobeMeetWS/);
  assert.deepEqual(await (await fetch(`${base}/config`)).json(), { endpoint: server.wsUrl });
  for (const hidden of ['/serve.mjs', '/sdk/../../package.json', '/%2e%2e/package.json', '/sdk/%2e%2e/build.mjs', '/nope.js']) {
    assert.equal((await fetch(`${base}${hidden}`)).status, 404, hidden);
  }
  assert.equal((await fetch(`${base}/%E0%A4%A`)).status, 400);
  assert.equal((await fetch(`${base}/token`, { method: 'POST' })).status, 405);
});

test('GET /token hands out a fresh server token; wrong credentials give 502', async () => {
  const base = await serve(['--server', server.httpUrl, '--client-id', creds.client_id, `--client-secret=${creds.client_secret}`]);
  const res = await fetch(`${base}/token`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const body = await res.json();
  const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url'));
  assert.equal(claims.sub, creds.client_id);
  assert.equal(claims.tenant, creds.tenant);
  assert.ok(body.expires_in > 0);
  assert.equal(JSON.stringify(body).includes(creds.client_secret), false);

  const wrong = await serve(['--server', server.httpUrl, '--client-id', creds.client_id, '--client-secret', 'wrong']);
  const refused = await fetch(`${wrong}/token`);
  assert.equal(refused.status, 502);
  assert.equal((await refused.json()).error, 'token_exchange_failed');
});
