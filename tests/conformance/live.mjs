// The live part of the conformance suite: one driver against the real globemeet-server (durable
// log), the seed's flow. Subscribe to a queue's depth and a session event, receive both, restart
// the server (SIGTERM: `closing`, 1001), publish while the client is away and after it is back;
// the client resumes by itself and receives every event once, in order, with no reset.
import net from 'node:net';
import path from 'node:path';
import { rmSync } from 'node:fs';
import { depthEvent, makeTempDir, publish, startServer, until } from '../js/helpers/server.mjs';
import { DriverProcess } from './driver_process.mjs';

const DEPTH = 'queue.support.depth-changed';
const CONNECTED = 'session.support.connected';
const connected = (n) => ({ type: 'session.connected', subject: 'support', data: { session_id: `s-${n}`, queue_id: 'support', agent_id: `a-${n}` } });
const other = (n) => ({ type: 'agent.online', subject: `a-${n}`, data: { agent_id: `a-${n}` } });

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function subscriptions(server) {
  const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
  return Number(text.split('\n').find((l) => l.startsWith('globemeet_subscriptions '))?.split(' ')[1]);
}

// Runs the flow for `driverSpec`; resolves with {pass, error, ms, observations}.
export async function runLive(driverSpec) {
  const started = performance.now();
  const dir = makeTempDir();
  const port = await freePort();
  const start = (secret) => startServer({
    dir, secret, args: ['--listen', `127.0.0.1:${port}`, '--data-dir', path.join(dir, 'data'), '--reconnect-after-ms', '100'],
  });
  let server = await start();
  const secret = server.secret;
  const driver = new DriverProcess(driverSpec);
  const obs = () => driver.observations.all.map((o) => o.value);
  const ids = (sub) => obs().filter((o) => o.obs === 'event' && o.sub === sub).map((o) => o.id);
  let error = null;
  try {
    const reader = await server.mint({ sub: 'conformance-live', perms: ['queue.>', 'session.>'] });
    const publisher = await server.mint({ sub: 'conformance-publisher', pub: true });
    const send = async (events) => {
      const res = await publish(server, publisher, { events });
      if (res.status !== 200) throw new Error(`publish: ${res.status} ${res.text}`);
      return res.body.ids;
    };
    await driver.start();
    driver.send({
      cmd: 'connect', endpoint: server.wsUrl, token: reader,
      subscribe: [{ sub: 'depth', pattern: DEPTH }, { sub: 'connected', pattern: CONNECTED }],
      options: { backoff_base_ms: 50, backoff_max_ms: 400 },
    });
    await until(async () => (await subscriptions(server)) === 2, 'both subscriptions on the server');
    const expected = { depth: [], connected: [] };
    const round = async (n) => {
      const got = await send([depthEvent('support', n), other(n), connected(n), depthEvent('sales', n)]);
      expected.depth.push(got[0]);
      expected.connected.push(got[2]);
    };
    await round(1);
    await until(() => ids('depth').length === 1 && ids('connected').length === 1, 'the first events');

    const exit = await server.kill('SIGTERM');
    if (exit.code !== 0) throw new Error(`server exit ${JSON.stringify(exit)}: ${server.stderr}`);
    await until(() => obs().some((o) => o.obs === 'state' && o.to === 'reconnecting' && o.code === 1001), 'close 1001 seen');
    server = await start(secret);
    await round(2);  // most likely before the client is back: it comes as replay
    await until(() => obs().some((o) => o.obs === 'reconnect'), 'the reconnect');
    await until(async () => (await subscriptions(server)) === 2, 'both subscriptions again');
    await round(3);  // live
    await until(() => ids('depth').length >= 3 && ids('connected').length >= 3, 'every event');
    await new Promise((r) => setTimeout(r, 200));  // a duplicate would come now
    for (const sub of ['depth', 'connected']) {
      if (JSON.stringify(ids(sub)) !== JSON.stringify(expected[sub])) {
        throw new Error(`${sub}: got ${JSON.stringify(ids(sub))}, expected ${JSON.stringify(expected[sub])}`);
      }
    }
    const bad = obs().find((o) => o.obs === 'reset' || o.obs === 'driver_error' || (o.obs === 'error' && o.code === 'closed'));
    if (bad) throw new Error(`unexpected ${JSON.stringify(bad)}`);
    driver.send({ cmd: 'close' });
    await driver.observations.next((o) => o.value.obs === 'closed', 5000, { what: 'closed' });
  } catch (e) {
    error = e;
  } finally {
    await driver.stop().catch(() => {});
    await server.kill('SIGKILL').catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    scenario: 'live_restart_resume', driver: driverSpec.name, pass: error === null, ms: Math.round(performance.now() - started),
    error: error === null ? null : String(error.message ?? error), observations: obs(), stderr: driver.stderr,
  };
}

export const liveScenario = {
  id: 'live_restart_resume',
  title: 'real globemeet-server: a queue depth and a session event, server restart (SIGTERM), resume; every event once, in order, no reset',
  protocol: '5.1, 8 (1001), 9',
};
