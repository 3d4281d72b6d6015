// One driver process (README.md, "The driver protocol"): commands go to its stdin as JSON lines,
// observations come from its stdout as JSON lines and are queued, time-stamped on receipt.
import { spawn } from 'node:child_process';
import { Feed } from './scripted_server.mjs';

export class DriverProcess {
  observations = new Feed();   // {t, value}
  stderr = '';
  hello = null;

  constructor(driver) {
    this.driver = driver;
    this.proc = spawn(driver.command[0], driver.command.slice(1), {
      cwd: driver.cwd, env: { ...process.env, ...(driver.env ?? {}) }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stdin.on('error', () => {});  // a driver that died: its exit is reported instead
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    let buffered = '';
    this.proc.stdout.on('data', (d) => {
      buffered += d;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line === '') continue;
        let value;
        try { value = JSON.parse(line); } catch { value = { obs: 'unparsable', line }; }
        this.observations.push({ t: performance.now(), value });
      }
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
  }

  async start(ms = 15000) {
    const { value } = await this.observations.next((o) => o.value.obs === 'hello', ms, { what: 'hello from the driver' });
    this.hello = value;
    return value;
  }

  send(command) {
    if (this.proc.exitCode === null) this.proc.stdin.write(`${JSON.stringify(command)}\n`);
  }

  // Asks the driver to exit; kills it if it has not within `ms`.
  async stop(ms = 5000) {
    this.send({ cmd: 'exit' });
    this.proc.stdin.end();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), ms);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}
