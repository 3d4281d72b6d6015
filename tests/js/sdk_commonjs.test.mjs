// The package from CommonJS (issue 11): `require('@globemeet/sdk')` in Node resolves to the
// `require` entry (dist/cjs) and receives an event from the real server; a TypeScript project
// with `module: commonjs` type-checks the README snippet against the CommonJS types, and its
// compiled output runs. Also: the `exports` map (types first, import, require, default), and
// that no file of the package awaits at top level.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { depthEvent, publish, startServer } from './helpers/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
if (!existsSync(path.join(root, 'js/dist/cjs/index.js'))) throw new Error('js/dist is missing: run `node js/build.mjs` first');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

// A CommonJS project with the package installed as npm would (and `ws`, for Node 20).
function sandbox() {
  const dir = mkdtempSync(path.join(tmpdir(), 'globemeet-cjs-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const pkg = path.join(dir, 'node_modules/@globemeet/sdk');
  mkdirSync(pkg, { recursive: true });
  cpSync(path.join(root, 'js/package.json'), path.join(pkg, 'package.json'));
  cpSync(path.join(root, 'js/dist'), path.join(pkg, 'dist'), { recursive: true });
  symlinkSync(path.join(root, 'node_modules/ws'), path.join(dir, 'node_modules/ws'), 'dir');
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'cjs-app', private: true, type: 'commonjs' }));
  return dir;
}

async function subscribed(srv) {
  const start = Date.now();
  for (;;) {
    const text = await (await fetch(`${srv.httpUrl}/metrics`)).text();
    if (/^globemeet_subscriptions [1-9]/m.test(text)) return;
    if (Date.now() - start > 15000) throw new Error('the client never subscribed');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function receivesEvent(dir, file) {
  const srv = await startServer();
  cleanups.push(() => srv.stop());
  const token = await srv.mint({});
  writeFileSync(path.join(dir, 'server.json'), JSON.stringify({ endpoint: srv.wsUrl, token }));
  const child = spawn(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => child.kill('SIGKILL'));
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const until = async (check, what) => {
    const start = Date.now();
    while (!check()) {
      if (err || child.exitCode !== null) throw new Error(`${file} failed (${child.exitCode}): ${err}`);
      if (Date.now() - start > 15000) throw new Error(`timed out waiting for ${what}: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await until(() => out.includes('[live]'), 'the client to be live');
  await subscribed(srv);
  const event = depthEvent('support', 7);
  event.data.longest_wait_seconds = 42;
  const res = await publish(srv, await srv.mint({ pub: true }), event);
  assert.equal(res.status, 200, res.text);
  await until(() => out.includes('7 42\n'), 'the event');
  assert.deepEqual(out.trim().split('\n'), ['[live]', '7 42']);
  assert.equal(err, '');
}

const snippet = (load) => `${load}
const { endpoint, token } = JSON.parse(require('node:fs').readFileSync('server.json', 'utf8'));
const ws = new GlobeMeetWS({ endpoint, token });
ws.subscribe('queue.support.depth-changed', (event) => console.log(event.data.depth, event.data.longest_wait_seconds));
ws.on('reconnect', () => {});
ws.on('state', ({ to }) => { if (to === 'live') console.log('[live]'); });
`;

test('require() loads the CommonJS entry and receives an event', async () => {
  const dir = sandbox();
  const resolved = execFileSync(process.execPath, ['-p', "require.resolve('@globemeet/sdk')"], { cwd: dir, encoding: 'utf8' }).trim();
  assert.equal(path.relative(dir, resolved), path.normalize('node_modules/@globemeet/sdk/dist/cjs/index.js'));
  writeFileSync(path.join(dir, 'app.js'), snippet("const { GlobeMeetWS } = require('@globemeet/sdk');"));
  await receivesEvent(dir, 'app.js');
});

test('a TypeScript project with module commonjs type-checks the seed example and its output runs', async () => {
  for (const [module, moduleResolution] of [['commonjs', 'node10'], ['node16', 'node16']]) {
    const dir = sandbox();
    writeFileSync(path.join(dir, 'app.ts'), `declare const require: (name: string) => any;
${snippet("import { GlobeMeetWS } from '@globemeet/sdk';")}
// The seed example of issue 11, as written:
const seed = new GlobeMeetWS({ endpoint: 'wss://host/v1/events', token: 'jwt' });
seed.subscribe('queue.support.depth-changed', (event) => console.log(event.data.depth, event.data.longest_wait_seconds));
seed.on('reconnect', () => {});
seed.close();
`);
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, target: 'ES2022', module, moduleResolution, lib: ['ES2022', 'DOM'], types: [],
        skipLibCheck: false, outDir: 'out' },
      files: ['app.ts'],
    }));
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      assert.fail(`tsc (${module}): ${e.stdout}${e.stderr}`);
    }
    assert.match(readFileSync(path.join(dir, 'out/app.js'), 'utf8'), /require\("@globemeet\/sdk"\)/);
    await receivesEvent(dir, 'out/app.js');
  }
});

test('exports: types first, then import, require, default; and no top-level await anywhere', async () => {
  const esbuild = await import('esbuild');
  const pkg = JSON.parse(readFileSync(path.join(root, 'js/package.json'), 'utf8'));
  assert.deepEqual(Object.keys(pkg.exports['.']), ['types', 'import', 'require', 'default']);
  for (const target of [pkg.exports['.'].import, pkg.exports['.'].require, ...Object.values(pkg.exports['.'].types)]) {
    assert.ok(existsSync(path.join(root, 'js', target)), target);
  }
  // What users saw: esbuild with target es2020 refused the package ("Top-level await is not
  // available in the configured target environment").
  for (const [dir, format] of [['js/dist', 'esm'], ['js/dist/cjs', 'cjs']]) {
    for (const file of readdirSync(path.join(root, dir)).filter((f) => f.endsWith('.js'))) {
      const source = readFileSync(path.join(root, dir, file), 'utf8');
      assert.doesNotThrow(() => esbuild.transformSync(source, { format, target: 'es2020', loader: 'js' }), `${dir}/${file}`);
    }
  }
});
