// The package's types (js/dist/*.d.ts): the README snippet compiles under `strict`, handlers
// of exact topics and wildcards see the catalogue's data types, and misuse fails to compile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
if (!existsSync(path.join(root, 'js/dist/index.d.ts'))) throw new Error('js/dist is missing: run `node js/build.mjs` first');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');

// Type-checks `source` as a consumer of '@globemeet/sdk' would; returns tsc's diagnostics.
function typeCheck(source) {
  const dir = mkdtempSync(path.join(tmpdir(), 'globemeet-types-'));
  try {
    mkdirSync(path.join(dir, 'node_modules/@globemeet'), { recursive: true });
    symlinkSync(path.join(root, 'js'), path.join(dir, 'node_modules/@globemeet/sdk'), 'dir');
    writeFileSync(path.join(dir, 'app.ts'), source);
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext',
        lib: ['ES2022', 'DOM'], types: [], skipLibCheck: false,
      },
      files: ['app.ts'],
    }));
    writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', stdio: 'pipe' });
      return '';
    } catch (e) {
      return `${e.stdout}${e.stderr}`;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the README snippet and typed handlers compile under strict', () => {
  const diagnostics = typeCheck(`
import { GlobeMeetWS, GlobeMeetError, GlobeMeetCloseError } from '@globemeet/sdk';
import type { ConnectionState, GlobeMeetEvent, StateChange } from '@globemeet/sdk';
const ws = new GlobeMeetWS({ endpoint: 'wss://host/v1/events', token: 'jwt-from-oauth-exchange' });
ws.subscribe('queue.support.depth-changed', (event) => console.log(event.data.depth, event.data.longest_wait_seconds));
ws.subscribe('session.support.connected', (event) => console.log(event.data.agent_id));
ws.on('reconnect', () => console.log('reconnected, resuming'));

const depth: number = 0 as number;
ws.subscribe('queue.*.depth-changed', (event) => { const d: number = event.data.depth + depth; void d; });
ws.subscribe('agent.a-17.*', (event) => {
  if (event.type === 'agent.status-changed') { const s: string = event.data.previous_status; void s; }
  if (event.type === 'agent.online') { const q: string[] | undefined = event.data.queues; void q; }
});
ws.subscribe('recording.>', (event) => { const id: string = event.data.recording_id; void id; });
ws.subscribe('>', (event: GlobeMeetEvent) => { const t: string = event.type; void t; });
const stop: () => void = ws.subscribe('qa.*.score-updated', (event) => { const n: number = event.data.previous_score; void n; });
stop();
ws.on('state', (change: StateChange) => { const s: ConnectionState = change.to; const c: number = change.code; void s; void c; });
ws.on('error', (e: GlobeMeetError) => console.log(e.code, e.message));
ws.on('error', (e) => {
  if (e instanceof GlobeMeetCloseError) { const c: number = e.closeCode; const r: string = e.reason; const k: 'closed' = e.code; void c; void r; void k; }
});
ws.on('reset', ({ reason }) => console.log(reason));
ws.on('subscription_failed', ({ pattern, code }) => console.log(pattern, code));
const cancelOnce: () => void = ws.once('overflow', ({ lastId }) => { const l: string = lastId; void l; });
cancelOnce();
void ws.once('reset').then((r) => { const reason: string = r.reason; void reason; });
const providerClient = new GlobeMeetWS({
  endpoint: 'wss://host/v1/events', getToken: async () => 'jwt', lastEventId: '6f1c2a9e-1042',
  backoff: { min_ms: 250, max_ms: 10000, factor: 2 }, debug: (line: string) => console.debug(line),
});
const last: string | null = providerClient.lastEventId;
void last;
providerClient.close();
`);
  assert.equal(diagnostics, '');
});

test('subscriptions, disconnect/connect, token reasons and the Node helpers are typed', () => {
  const diagnostics = typeCheck(`
import { GlobeMeetWS } from '@globemeet/sdk';
import type { Subscription, SubscriptionState, TokenReason } from '@globemeet/sdk';
import { clientCredentials, fetchToken, publish, GlobeMeetHttpError } from '@globemeet/sdk/node';
const ws = new GlobeMeetWS({
  endpoint: 'wss://host/v1/events', autoConnect: false,
  getToken: (reason: TokenReason) => (reason === 'refused' ? 'fresh' : 'cached'),
});
const sub: Subscription = ws.subscribe('queue.>', (event) => { const d: number = event.data.queue_id.length; void d; });
const state: SubscriptionState = sub.state;
const pattern: string = sub.pattern;
void state; void pattern;
void sub.ready().then(() => sub.unsubscribe());
ws.on('subscribed', ({ pattern }) => console.log(pattern));
ws.connect();
ws.disconnect();
const getToken = clientCredentials({ server: 'https://host', clientId: 'id', clientSecret: 's', scope: 'queue.>' });
const other = new GlobeMeetWS({ endpoint: 'wss://host/v1/events', getToken });
other.close();
void fetchToken({ server: 'https://host', clientId: 'id', clientSecret: 's' }).then((t) => { const n: number = t.expiresIn; void n; });
void publish({ server: 'https://host', token: getToken, idempotencyKey: 'k1' }, [
  { type: 'queue.depth-changed', subject: 'support', data: { queue_id: 'support', depth: 3, longest_wait_seconds: 12 } },
  { type: 'agent.online', subject: 'a-17', data: { agent_id: 'a-17' } },
]).then((ids: string[]) => ids, (e: unknown) => { if (e instanceof GlobeMeetHttpError) { const s: number = e.status; void s; } });
`);
  assert.equal(diagnostics, '');
});

test('the snapshot option, the delivery meta, conflate and latency() are typed (issue 17)', () => {
  const diagnostics = typeCheck(`
import { GlobeMeetWS } from '@globemeet/sdk';
import type { DeliveryMeta, LatencyStats, SubscribeOptions } from '@globemeet/sdk';
const ws = new GlobeMeetWS({ endpoint: 'wss://host/v1/events', token: 't', conflate: true });
const options: SubscribeOptions = { snapshot: true };
const sub = ws.subscribe('queue.*.depth-changed', (event, meta: DeliveryMeta) => {
  const current: boolean = meta.snapshot || event.snapshot === true;
  const delay: number | null = meta.delayMs;
  const depth: number = event.data.depth;
  void current; void delay; void depth;
}, options);
void sub.snapshotted().then((count) => { const n: number = count; void n; });
ws.subscribe('agent.>', (event) => { const t: string = event.type; void t; });
ws.on('snapshot', ({ pattern, count }) => { const p: string = pattern; const n: number = count; void p; void n; });
const l: LatencyStats = ws.latency();
const figures: number[] = [l.count, l.p50Ms, l.p99Ms, l.clockOffsetMs];
void figures;
`);
  assert.equal(diagnostics, '');
});

test('misuse does not compile', () => {
  for (const [source, error] of [
    ["ws.subscribe('queue.support.depth-changed', (event) => event.data.nonexistent);", /nonexistent/],
    ["ws.once('overflow', ({ reason }) => reason);", /reason/],
    ["new GlobeMeetWS({ endpoint: 'wss://h/v1/events', token: 't', debug: true });", /'\(line: string\) => void'/],
    ["ws.subscribe('queue.*.depth-changed', (event) => event.data.agent_id);", /agent_id/],
    ["ws.subscribe('session.support.connected', (event) => { const n: number = event.data.agent_id; void n; });", /not assignable/],
    ["ws.on('reconnected', () => {});", /reconnected/],
    ["ws.on('state', (s) => { const n: number = s.to; void n; });", /not assignable/],
    ["new GlobeMeetWS({ token: 't' });", /endpoint/],
    ["const s: 'done' = ws.subscribe('queue.>', () => {}).state;", /not assignable/],
    ["new GlobeMeetWS({ endpoint: 'wss://h/v1/events', getToken: (r: number) => String(r) });", /not assignable/],
    ["ws.subscribe('queue.>', () => {}, { snapshot: 'yes' });", /not assignable/],
    ["ws.subscribe('queue.>', (e, meta) => { const d: number = meta.delayMs; void d; });", /not assignable/],
    ["const p: number = ws.latency().p50;", /p50/],
  ]) {
    const diagnostics = typeCheck(`import { GlobeMeetWS } from '@globemeet/sdk';
const ws = new GlobeMeetWS({ endpoint: 'wss://host/v1/events', token: 't' });
${source}
`);
    assert.match(diagnostics, error, source);
  }
});
