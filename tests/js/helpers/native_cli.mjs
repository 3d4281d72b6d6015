// Runs the native `globemeet` CLI (platform/native/cli) for integration tests: collects its
// stdout lines (event frames for `sub`, ids for `pub`), its stderr status lines and its exit.
// Also a TCP proxy that can cut every connection, to drop clients on a live server, and that
// counts the connections it passed.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export function cliBinary() {
  const dir = process.env.GLOBEMEET_BUILD_DIR || 'build/native';
  return path.resolve(dir, 'platform/native/cli/globemeet');
}

// Environment without any GLOBEMEET_* variable of the developer's shell.
function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GLOBEMEET_')) env[k] = v;
  return { ...env, ...extra };
}

export class CliProcess {
  // `input`: all of stdin at once. `openStdin`: stdin stays open for write() until endInput(),
  // to act as an interactive user or a slow producer.
  constructor(args, { env = {}, input, openStdin = false } = {}) {
    this.proc = spawn(cliBinary(), args, { env: cleanEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    this.lines = [];
    this.stderr = '';
    this.waiters = [];
    let buffered = '';
    this.proc.stdout.on('data', (d) => {
      buffered += d;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        this.lines.push(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
      this.pump();
    });
    this.proc.stderr.on('data', (d) => { this.stderr += d; this.pump(); });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.pump();
      resolve(this.exit);
    }));
    // A CLI that refuses early exits without reading its input; the write then fails with
    // EPIPE, which must not crash the test run: the exit code and stderr say what happened.
    this.proc.stdin.on('error', (err) => { if (err.code !== 'EPIPE') throw err; });
    if (input !== undefined) this.proc.stdin.end(input);
    else if (!openStdin) this.proc.stdin.end();
  }

  write(text) { this.proc.stdin.write(text); }
  endInput() { this.proc.stdin.end(); }

  // The parsed JSON of every stdout line so far.
  get events() { return this.lines.map((l) => JSON.parse(l)); }

  pump() {
    for (const w of this.waiters.splice(0)) {
      if (w.check()) { clearTimeout(w.timer); w.resolve(); } else this.waiters.push(w);
    }
  }

  // Resolves once `check()` holds; rejects after `timeoutMs` with what the process said.
  until(check, what, timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
      if (check()) return resolve();
      const w = { check, resolve };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timeout waiting for ${what}; exit ${JSON.stringify(this.exit)}; ` +
          `${this.lines.length} stdout lines; stderr: ${this.stderr.slice(-1500)}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  untilLines(n, timeoutMs) { return this.until(() => this.lines.length >= n, `${n} stdout lines`, timeoutMs); }
  untilStderr(text, timeoutMs) { return this.until(() => this.stderr.includes(text), `stderr '${text}'`, timeoutMs); }

  // Resolves with the exit; kills the process and rejects when it does not end in time.
  async finished(timeoutMs = 15000) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => {
        this.proc.kill('SIGKILL');
        reject(new Error(`the CLI did not exit; stderr: ${this.stderr.slice(-1500)}`));
      }, timeoutMs);
    });
    try { return await Promise.race([this.exited, timeout]); } finally { clearTimeout(timer); }
  }

  async kill() {
    if (this.exit === undefined) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

export function runCli(args, options) { return new CliProcess(args, options); }

// Runs the CLI to completion: {code, stdout, stderr}.
export async function cli(args, options = {}) {
  const p = new CliProcess(args, options);
  const { code } = await p.finished(options.timeoutMs ?? 20000);
  return { code, stdout: p.lines, stderr: p.stderr };
}

// A TCP proxy to `port` on 127.0.0.1. cutAll() destroys every open connection (the client sees
// a network failure, the server a vanished peer); new connections keep working. cutAndHold()
// does the same and also resets every new connection until release(), so a test can act while
// the client is certainly away.
export async function startProxy(port) {
  const pairs = new Set();
  let holding = false;
  let accepted = 0;
  const server = net.createServer((client) => {
    if (holding) { client.resetAndDestroy(); return; }
    accepted += 1;
    const upstream = net.connect(port, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => { client.destroy(); upstream.destroy(); pairs.delete(pair); };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    url: `http://127.0.0.1:${server.address().port}`,
    get open() { return pairs.size; },
    // Connections passed through so far (a keep-alive check).
    get accepted() { return accepted; },
    cutAll() {
      const n = pairs.size;
      for (const { client, upstream } of [...pairs]) { client.resetAndDestroy(); upstream.destroy(); }
      pairs.clear();
      return n;
    },
    cutAndHold() {
      holding = true;
      return this.cutAll();
    },
    release() { holding = false; },
    close() {
      for (const { client, upstream } of pairs) { client.destroy(); upstream.destroy(); }
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
