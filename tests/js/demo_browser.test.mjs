// The live demo in headless Chromium (Debian's): the real server (dev mode, a durable log in a
// data directory, the demo's origin allowed), the contact-center simulator publishing into it,
// web-demo/serve.mjs serving the page and its tokens. In one sequence, sharing the processes:
//
//  1. a late joiner: the simulator runs a while and is stopped; the page opened afterwards shows
//     every queue with its depth and every agent with its status exactly as the simulator left
//     them. No live event can have brought that: it is the snapshot;
//  2. the simulator starts again: live events flow and the measured latency is on screen;
//  3. a server restart on the same data directory: the page shows the reconnect, resumes
//     without a reset and keeps its view;
//  4. at phone width (390 px) nothing runs off the edge, the connection indicator included.
//
// Screenshots: GLOBEMEET_DEMO_SCREENSHOTS=docs writes demo.png and demo-phone.png there.
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
const screenshots = process.env.GLOBEMEET_DEMO_SCREENSHOTS ? path.resolve(root, process.env.GLOBEMEET_DEMO_SCREENSHOTS) : null;
const patience = 30_000;  // generous: a loaded 2-core machine builds and tests at the same time

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

function tempDir(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// Spawns a Node script; `lines` collects its stdout lines as parsed JSON, `line(predicate)`
// waits for one, `stop()` sends SIGTERM and waits for the exit.
function spawnNode(script, args) {
  const child = spawn(process.execPath, [path.join(root, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [], waiters = [];
  let stderr = '', buffered = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.on('data', (d) => {
    buffered += d;
    const complete = buffered.split('\n');
    buffered = complete.pop();
    for (const text of complete) {
      let parsed;
      try { parsed = JSON.parse(text); } catch { parsed = { text }; }
      lines.push(parsed);
      for (const w of [...waiters]) if (w.predicate(parsed)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(parsed); }
    }
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  exited.then((code) => { for (const w of waiters) w.reject(new Error(`${script} exited ${code}: ${stderr}`)); });
  cleanups.push(async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exited; } });
  return {
    lines,
    line(predicate) {
      const found = lines.find(predicate);
      return found ? Promise.resolve(found) : new Promise((resolve, reject) => waiters.push({ predicate, resolve, reject }));
    },
    async stop() { child.kill('SIGTERM'); await exited; },
  };
}

// An OAuth client in a file, so that the restarted server knows the credentials serve.mjs holds.
function oauthClient(dir) {
  const secret = randomBytes(24).toString('base64url');
  const hashed = spawnSyncWithInput(serverBinary(), ['hash-secret'], secret, { encoding: 'utf8' });
  assert.equal(hashed.status, 0, `hash-secret: ${hashed.error ?? hashed.stderr}`);
  const clientsPath = path.join(dir, 'clients.json');
  writeFileSync(clientsPath, JSON.stringify({ clients: [
    { client_id: 'wallboard', secret_hash: hashed.stdout.trim(), tenant: 'acme', perms: ['>'], publish: true },
  ] }));
  return { args: ['--clients', clientsPath], clientId: 'wallboard', secret };
}

async function eventsAccepted(server) {
  const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
  return Number(/^globemeet_events_in_total (\d+)/m.exec(text)?.[1] ?? 0);
}

// What the page shows: agent id -> status, queue -> {depth, free}.
const shown = (page) => page.evaluate(() => ({
  agents: Object.fromEntries([...document.querySelectorAll('#agents li[data-agent]')].map((t) => [t.dataset.agent, t.dataset.status])),
  queues: Object.fromEntries([...document.querySelectorAll('#queues tbody tr[data-queue]')].map((r) => [r.dataset.queue,
    { depth: r.querySelector('.depth').textContent, free: r.querySelector('.free').textContent }])),
}));

test('the demo: a late joiner sees the snapshot, the latency is shown, a restart keeps the view, a phone fits', async () => {
  const dir = tempDir('globemeet-demo-');
  const dataDir = path.join(dir, 'data');
  const demoPort = await freePort();
  const origin = `http://127.0.0.1:${demoPort}`;
  const identity = oauthClient(dir);
  const serverArgs = ['--allowed-origins', origin, '--data-dir', dataDir, ...identity.args];
  let server = await startServer({ args: serverArgs });
  cleanups.push(() => server.stop());
  const clientArgs = ['--server', server.httpUrl, '--client-id', identity.clientId, `--client-secret=${identity.secret}`];
  const serve = spawnNode('web-demo/serve.mjs', ['--port', String(demoPort), ...clientArgs]);
  await serve.line((l) => l.msg === 'listening');

  // 1. The simulator runs a while (five simulated seconds per real one), then stops and says
  // what it left: every agent's status and every queue's last gauge.
  const first = spawnNode('server/simulator/simulate.mjs', [...clientArgs, '--speed', '5', '--seed', '7']);
  for (const deadline = Date.now() + 60_000; (await eventsAccepted(server)) < 250;) {
    assert.ok(Date.now() < deadline, 'the simulator published 250 events within a minute');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await first.stop();
  const left = await first.line((l) => l.msg === 'stopped');
  assert.equal(left.pending, 0, 'the simulator published everything before it stopped');
  const expected = {
    agents: left.agents,
    queues: Object.fromEntries(Object.entries(left.queues).map(([q, g]) => [q, { depth: String(g.depth), free: String(g.agents_available) }])),
  };
  assert.equal(Object.keys(expected.agents).length, 12);

  const browser = await chromium.launchPersistentContext(tempDir('globemeet-chromium-'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 1000 },
  });
  cleanups.push(() => browser.close());
  const page = browser.pages()[0] ?? await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const wait = (fn, arg) => page.waitForFunction(fn, arg, { timeout: patience });

  await page.goto(`${origin}/`);
  await page.waitForSelector('#connection[data-state="live"]', { timeout: patience });
  // The snapshot may take a few frames to apply: wait until the page matches, then compare
  // (so that a mismatch fails with the difference, not with a timeout).
  await page.waitForFunction(({ agents, queues }) => {
    const tiles = document.querySelectorAll('#agents li[data-agent]');
    const rows = document.querySelectorAll('#queues tbody tr[data-queue]');
    return tiles.length === Object.keys(agents).length && rows.length === Object.keys(queues).length
      && [...tiles].every((t) => agents[t.dataset.agent] === t.dataset.status)
      && [...rows].every((r) => queues[r.dataset.queue]?.depth === r.querySelector('.depth').textContent
        && queues[r.dataset.queue]?.free === r.querySelector('.free').textContent);
  }, expected, { timeout: patience }).catch(() => {});
  assert.deepEqual(await shown(page), expected, 'the page shows the state the simulator left');
  assert.match(await page.textContent('#snapshot-count'), /^\d+ topics/);
  assert.equal(await page.textContent('#last-event-id'), 'none', 'no live event came: all of it is the snapshot');
  assert.equal(await page.$$eval('#feed li', (items) => items.length), 0);

  // 2. Live traffic again: the latency the SDK measures is on screen (a figure, no threshold).
  const second = spawnNode('server/simulator/simulate.mjs', [...clientArgs, '--speed', '5', '--seed', '8']);
  await wait(() => /^\d+(\.\d)? ms$/.test(document.getElementById('latency-p99').textContent));
  assert.match(await page.textContent('#latency-p50'), /^\d+(\.\d)? ms$/);
  await wait(() => document.querySelectorAll('#feed li').length > 0);
  await wait(() => document.querySelectorAll('#depth-chart svg path.series').length === 3);
  assert.match(await page.textContent('#last-event-id'), /^[0-9a-f]{1,16}-\d+$/);
  if (screenshots) {
    await page.waitForTimeout(90_000);  // some history for the chart: only for the picture
    await page.screenshot({ path: path.join(screenshots, 'demo.png') });
  }

  // 3. A restart on the same data directory: same epoch, same signing key. The page reconnects,
  // resumes (no reset) and keeps every queue and agent on screen meanwhile.
  const eventsBefore = Number(await page.textContent('#event-count'));
  const { port, secret } = server;
  server.proc.kill('SIGTERM');
  await server.exited;
  await page.waitForSelector('#connection:not([data-state="live"])', { timeout: patience });
  const during = await shown(page);
  assert.equal(Object.keys(during.agents).length, 12);
  assert.equal(Object.keys(during.queues).length, 3);
  await server.stop();
  server = await startServer({ secret, args: [...serverArgs, '--listen', `127.0.0.1:${port}`] });
  await wait(() => document.getElementById('reconnects').textContent === '1');
  await page.waitForSelector('#connection[data-state="live"]', { timeout: patience });
  await wait((before) => Number(document.getElementById('event-count').textContent) > before, eventsBefore);
  assert.equal(await page.textContent('#resets'), '0');
  assert.equal(await page.isHidden('#notice'), true);
  const kept = await shown(page);
  assert.equal(Object.keys(kept.agents).length, 12);
  assert.equal(Object.keys(kept.queues).length, 3);

  // 4. Phone width.
  await page.setViewportSize({ width: 390, height: 844 });
  await wait(() => window.innerWidth === 390);
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  const fit = await page.evaluate(() => {
    const box = document.getElementById('connection').getBoundingClientRect();
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, left: box.left, right: box.right };
  });
  assert.ok(fit.scrollWidth <= fit.innerWidth, `the page is ${fit.scrollWidth} px wide at ${fit.innerWidth}`);
  assert.ok(fit.left >= 0 && fit.right <= fit.innerWidth, `the indicator spans ${fit.left}..${fit.right} of ${fit.innerWidth}`);
  if (screenshots) await page.screenshot({ path: path.join(screenshots, 'demo-phone.png'), fullPage: true });

  await second.stop();
  assert.deepEqual(pageErrors, []);
});
