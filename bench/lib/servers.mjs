// Starts each server under test pinned to one core (taskset), on a free loopback port, with
// stdout and stderr going to a log file in the run's directory; stop() kills exactly that pid.
// Also runs the generator.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const BUN = path.join(ROOT, 'node_modules/@oven/bun-linux-x64/bin/bun');
export const ISSUER = 'bench';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitForLog(logFile, pattern, proc, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`server exited ${proc.exitCode}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    const m = text.match(pattern);
    if (m) return m;
    await sleep(50);
  }
  throw new Error(`server did not start: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
}

async function waitForPort(port, proc, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`server exited ${proc.exitCode}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`port ${port} never opened`);
}

// Scheduling priority of the servers and the generator (BENCH_NICE, default -10 when root):
// on a shared machine it keeps other jobs from preempting the measured processes.
export const NICE = process.env.BENCH_NICE ?? (process.getuid?.() === 0 ? '-10' : '0');

function launch(cmd, args, logFile, cpu) {
  const fd = openSync(logFile, 'a');
  // nice and taskset exec the command, so the child's pid is the server's pid (sampled by the generator).
  const proc = spawn('nice', ['-n', NICE, 'taskset', '-c', String(cpu), cmd, ...args], { stdio: ['ignore', fd, fd], cwd: ROOT });
  closeSync(fd);
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  return { proc, exited };
}

function stopper(proc, exited) {
  return async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  };
}

async function mint(secret, claims) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'bench', tenant: 'bench', perms: ['>'], iss: ISSUER, aud: 'globemeet-events', iat: now, exp: now + 900, ...claims })
    .setProtectedHeader({ alg: 'HS256', kid: 'dev', typ: 'JWT' })
    .sign(new TextEncoder().encode(secret));
}

// `name`: globemeet | nats | bun | ws. Returns { name, pid, port, loadgenArgs, stop() }.
// `extraArgs` go to globemeet-server after the defaults (a later flag wins), e.g. a data directory.
export async function startServer(name, { dir, cpu = 0, serverBinary, tag, extraArgs = [] }) {
  const logFile = path.join(dir, `${tag}.${name}.log`);
  if (name === 'globemeet') {
    const secret = randomBytes(32).toString('base64url');
    const secretFile = path.join(dir, 'hs256.secret');
    writeFileSync(secretFile, secret);
    const { proc, exited } = launch(serverBinary, [
      '--dev', '--listen', '127.0.0.1:0', '--threads', '1', '--issuer', ISSUER, '--hs256-secret-file', secretFile,
      '--max-connections-per-tenant', '100000', '--max-connections-per-address', '100000',
      '--retention-events', '200000', ...extraArgs,
    ], logFile, cpu);
    const m = await waitForLog(logFile, /"msg":"listening".*?"port":(\d+)/, proc);
    const tokenFile = path.join(dir, 'sub.jwt');
    const pubTokenFile = path.join(dir, 'pub.jwt');
    writeFileSync(tokenFile, await mint(secret, { sub: 'bench-subscriber' }));
    writeFileSync(pubTokenFile, await mint(secret, { sub: 'bench-publisher', pub: true }));
    return { name, pid: proc.pid, port: Number(m[1]), stop: stopper(proc, exited), proc, exited, logFile,
      loadgenArgs: ['--token-file', tokenFile, '--publish-token-file', pubTokenFile], secret };
  }
  if (name === 'nats') {
    const clientPort = await freePort();
    const wsPort = await freePort();
    const template = readFileSync(path.join(ROOT, 'bench/peers/nats.conf.template'), 'utf8');
    const conf = path.join(dir, 'nats.conf');
    writeFileSync(conf, template.replace('@CLIENT_PORT@', clientPort).replace('@WS_PORT@', wsPort));
    const { proc, exited } = launch('nats-server', ['-c', conf], logFile, cpu);
    await waitForPort(wsPort, proc);
    return { name, pid: proc.pid, port: wsPort, stop: stopper(proc, exited), loadgenArgs: [] };
  }
  if (name === 'bun' || name === 'ws') {
    const cmd = name === 'bun' ? BUN : process.execPath;
    const script = path.join(ROOT, name === 'bun' ? 'bench/peers/bun_server.js' : 'bench/peers/ws_server.mjs');
    const { proc, exited } = launch(cmd, [script, '0'], logFile, cpu);
    const m = await waitForLog(logFile, /"msg":"listening","port":(\d+)/, proc);
    return { name, pid: proc.pid, port: Number(m[1]), stop: stopper(proc, exited), loadgenArgs: [] };
  }
  throw new Error(`unknown server ${name}`);
}

// Runs the generator (`loadgen`, at the benchmark's nice) with `argv`; resolves with its JSON
// lines once it exits, or is killed after `timeoutMs`.
export function runLoadgen(loadgen, argv, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn('nice', ['-n', NICE, loadgen, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const lines = out.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter(Boolean);
      resolve({ lines, code, signal, stderr: err });
    });
  });
}

export async function serverVersion(name, serverBinary) {
  const { execFileSync } = await import('node:child_process');
  try {
    if (name === 'nats') return execFileSync('nats-server', ['--version']).toString().trim();
    if (name === 'bun') return `bun ${execFileSync(BUN, ['--version']).toString().trim()}`;
    if (name === 'ws') {
      const pkg = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/ws/package.json'), 'utf8'));
      return `ws ${pkg.version} on node ${process.version}`;
    }
    if (name === 'globemeet') {
      const rev = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']).toString().trim();
      return `globemeet-server @ ${rev} (--threads 1)`;
    }
  } catch { /* version unknown */ }
  return name;
}
