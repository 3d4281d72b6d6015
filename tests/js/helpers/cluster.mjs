// A real cluster on loopback for the cluster_* tests: N nats-server processes with JetStream
// forming one NATS cluster (free ports, a temp directory each), N globemeet-server nodes on
// --log jetstream sharing one HS256 secret, and a TCP load balancer in front of the nodes (no
// stickiness: each new connection goes to the next node that accepts it). Everything it starts
// is stopped, and every directory removed, by stop().
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, makeTempDir, sleep } from './server.mjs';

// A port nothing listens on right now (the OS picks it; the race until it is used is harmless
// on a test machine, and a clash shows as a clear start failure).
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(check, what, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { if (await check()) return; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}`);
    await sleep(100);
  }
}

class NatsNode {
  constructor(name, dir, ports, routes) {
    this.name = name;
    this.dir = dir;
    this.ports = ports;
    this.url = `nats://127.0.0.1:${ports.client}`;
    this.config = path.join(dir, `${name}.conf`);
    writeFileSync(this.config, [
      `server_name: ${name}`,
      `listen: 127.0.0.1:${ports.client}`,
      `http: 127.0.0.1:${ports.monitor}`,
      'max_payload: 2MB',  // an event's frame may be 1 MiB
      `jetstream { store_dir: "${path.join(dir, name)}" }`,
      `cluster { name: globemeet-test, listen: 127.0.0.1:${ports.cluster}, routes: [${routes.join(', ')}] }`,
      '',
    ].join('\n'));
  }

  start() {
    this.output = '';
    this.proc = spawn('nats-server', ['-c', this.config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d) => { this.output = (this.output + d).slice(-20000); });
    this.proc.stderr.on('data', (d) => { this.output = (this.output + d).slice(-20000); });
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
  }

  get running() { return this.proc && this.proc.exitCode === null && this.proc.signalCode === null; }

  async kill(signal = 'SIGKILL') {
    if (this.running) this.proc.kill(signal);
    await this.exited;
  }

  // Healthy: JetStream is enabled and current with the cluster's meta leader.
  async healthy() {
    const res = await fetch(`http://127.0.0.1:${this.ports.monitor}/healthz`);
    return res.status === 200;
  }

  async jsz() {
    const res = await fetch(`http://127.0.0.1:${this.ports.monitor}/jsz?streams=true`);
    return res.json();
  }
}

export async function startNatsCluster(size = 3) {
  const dir = makeTempDir();
  const ports = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), cluster: await freePort(), monitor: await freePort() });
  const nodes = ports.map((p, i) => new NatsNode(`n${i + 1}`, dir, p,
    ports.filter((_, j) => j !== i).map((q) => `nats-route://127.0.0.1:${q.cluster}`)));
  for (const node of nodes) node.start();
  const cluster = {
    dir,
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    async healthy(timeoutMs = 30000) {
      for (const node of nodes.filter((n) => n.running)) await waitFor(() => node.healthy(), `${node.name} healthy`, timeoutMs);
    },
    // The node leading the stream's replicas, as the monitoring endpoint reports it.
    async streamLeader(stream = 'GLOBEMEET') {
      for (const node of nodes.filter((n) => n.running)) {
        const jsz = await node.jsz().catch(() => null);
        for (const account of jsz?.account_details ?? [])
          for (const s of account.stream_detail ?? [])
            if (s.name === stream && s.cluster?.leader) return nodes.find((n) => n.name === s.cluster.leader);
      }
      return undefined;
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.healthy();
  } catch (err) {
    const said = nodes.map((n) => `${n.name}: ${n.output.slice(-1500)}`).join('\n');
    await cluster.stop();
    throw new Error(`${err.message}\n${said}`);
  }
  return cluster;
}

// Waits until a node answers /readyz 200 (it reached the stream and caught up).
export async function untilReady(server, timeoutMs = 30000) {
  await waitFor(async () => (await fetch(`${server.httpUrl}/readyz`)).status === 200, `node ${server.port} ready`, timeoutMs);
}

// A GlobeMeet node on `cluster`. `secret`: the HS256 secret every node shares.
export async function startNode(cluster, secret, { args = [], dir = makeTempDir(), replicas = 3, ready = true } = {}) {
  const server = await startServer({
    dir, secret, args: ['--log', 'jetstream', '--nats', cluster.urls, '--nats-replicas', String(replicas), ...args],
  });
  if (ready) await untilReady(server);
  return server;
}

// A TCP load balancer on a free port: each connection goes to the next backend (round robin)
// that accepts it, as an L4 balancer with health checks would; no stickiness.
export async function startBalancer(backends) {
  let next = 0;
  const pairs = new Set();
  const server = net.createServer((client) => {
    client.pause();
    const candidates = backends().filter(Boolean);
    const tryAt = (attempt) => {
      if (attempt >= candidates.length) { client.destroy(); return; }
      const port = candidates[(next + attempt) % candidates.length];
      const upstream = net.connect(port, '127.0.0.1');
      upstream.once('error', () => { upstream.destroy(); tryAt(attempt + 1); });
      upstream.once('connect', () => {
        next = (next + attempt + 1) % Math.max(candidates.length, 1);
        upstream.removeAllListeners('error');
        const pair = { client, upstream };
        pairs.add(pair);
        const drop = () => { client.destroy(); upstream.destroy(); pairs.delete(pair); };
        client.on('error', drop);
        upstream.on('error', drop);
        client.on('close', drop);
        upstream.on('close', drop);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryAt(0);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/v1/events`,
    close() {
      for (const { client, upstream } of pairs) { client.destroy(); upstream.destroy(); }
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

export function sharedSecret() { return randomBytes(32).toString('base64url'); }

export { waitFor };
