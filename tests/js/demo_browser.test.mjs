// The live demo in headless Chromium: the real server (dev mode, the demo's origin allowed),
// the contact-center simulator publishing into it, web-demo/serve.mjs serving the page and
// its tokens. The page must connect through the SDK and render queues, agents and the feed,
// and show the reconnect and the reset when the server restarts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { spawnSyncWithInput } from './helpers/input_file.mjs';
import { serverBinary, startServer } from './helpers/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
if (!existsSync(path.join(root, 'js/dist/index.js'))) throw new Error('js/dist is missing: run `node js/build.mjs` first');

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// Spawns a Node script and resolves with it once `ready(line)` accepts a stdout line.
function spawnNode(script, args, ready) {
  const child = spawn(process.execPath, [path.join(root, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  cleanups.push(async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exited; } });
  if (!ready) return Promise.resolve(child);
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (d) => {
      buffered += d;
      for (const line of buffered.split('\n').slice(0, -1)) if (ready(line)) resolve(child);
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
    exited.then((code) => reject(new Error(`${script} exited ${code}: ${stderr}`)));
  });
}

// An OAuth client in a file, so that a restarted server knows the credentials serve.mjs holds.
function oauthClient() {
  const dir = mkdtempSync(path.join(tmpdir(), 'globemeet-demo-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const secret = randomBytes(24).toString('base64url');
  const hashed = spawnSyncWithInput(serverBinary(), ['hash-secret'], secret, { encoding: 'utf8' });
  assert.equal(hashed.status, 0, `hash-secret: ${hashed.error ?? hashed.stderr}`);
  const secretHash = hashed.stdout.trim();
  const clientsPath = path.join(dir, 'clients.json');
  writeFileSync(clientsPath, JSON.stringify({ clients: [
    { client_id: 'wallboard', secret_hash: secretHash, tenant: 'acme', perms: ['>'], publish: true },
  ] }));
  return { args: ['--clients', clientsPath], clientId: 'wallboard', secret };
}

test('the demo page renders live queues, agents and activity in Chromium, and shows a restart', async () => {
  const demoPort = await freePort();
  const origin = `http://127.0.0.1:${demoPort}`;
  const identity = oauthClient();
  // Tokens of 30 s: each connection fetches a fresh one from serve.mjs (the SDK refreshes 60 s
  // before expiry), so the page's next token comes from the restarted server, whose signing key
  // is new. While live, the SDK refreshes the token in place.
  const serverArgs = ['--allowed-origins', origin, '--token-ttl-seconds', '30', ...identity.args];
  let server = await startServer({ args: serverArgs });
  cleanups.push(() => server.stop());
  const creds = { client_id: identity.clientId, client_secret: identity.secret };
  const clientArgs = ['--server', server.httpUrl, '--client-id', creds.client_id, '--client-secret', creds.client_secret];

  await spawnNode('web-demo/serve.mjs', ['--port', String(demoPort), ...clientArgs], (line) => line.includes('"listening"'));
  await spawnNode('server/simulator/simulate.mjs', [...clientArgs, '--rate', '5', '--seed', '7']);

  const profile = mkdtempSync(path.join(tmpdir(), 'globemeet-chromium-'));
  cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
  });
  cleanups.push(() => browser.close());
  const page = browser.pages()[0] ?? await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const tokenRequests = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/token') tokenRequests.push(r.url()); });

  await page.goto(`${origin}/`);
  await page.waitForSelector('#connection[data-state="live"]', { timeout: 20000 });
  await page.waitForSelector('#queues tbody tr[data-queue]', { timeout: 20000 });
  await page.waitForSelector('#agents li[data-agent]', { timeout: 20000 });
  await page.waitForSelector('#feed li.kind-session', { timeout: 20000 });

  const queues = await page.$$eval('#queues tbody tr', (rows) => rows.map((r) => r.dataset.queue));
  assert.ok(queues.length > 0 && queues.every((q) => ['support', 'sales', 'billing'].includes(q)), queues.join());
  const agents = await page.$$eval('#agents li', (tiles) => tiles.map((t) => t.dataset.agent));
  assert.ok(agents.every((a) => /^a-\d\d$/.test(a)), agents.join());
  assert.ok(Number(await page.textContent('#event-count')) > 0);
  assert.match(await page.textContent('#last-event-id'), /^[0-9a-f]{1,16}-\d+$/);
  assert.equal(await page.textContent('#connection-state'), 'live');
  assert.ok(tokenRequests.length >= 1, 'the page asked serve.mjs for its token');
  assert.equal((await page.content()).includes(creds.client_secret), false);

  // A restart: drain (1001), a new log epoch. The page reconnects with a fresh token, is told
  // that resume was impossible, and goes on rendering.
  const eventsBefore = Number(await page.textContent('#event-count'));
  const { port, secret } = server;
  server.proc.kill('SIGTERM');
  await server.exited;
  await server.stop();
  server = await startServer({ secret, args: [...serverArgs, '--listen', `127.0.0.1:${port}`] });
  await page.waitForFunction(() => document.getElementById('resets').textContent === '1', null, { timeout: 20000 });
  assert.equal(await page.textContent('#reconnects'), '1');
  await page.waitForSelector('#connection[data-state="live"]', { timeout: 20000 });
  assert.match(await page.textContent('#notice'), /could not resume \(epoch_changed\)/);
  await page.waitForFunction((before) => Number(document.getElementById('event-count').textContent) > before,
    eventsBefore, { timeout: 20000 });
  assert.deepEqual(pageErrors, []);
});
