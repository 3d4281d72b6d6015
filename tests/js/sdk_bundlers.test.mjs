// The package as every mainstream toolchain consumes it, unchanged (issue 11): a small
// dashboard app importing '@globemeet/sdk' is built with Vite (its default browser target,
// es2020/chrome87/safari14), webpack 5 (production) and esbuild (--target=es2020), each build
// is served by a tiny static server, and run in Chromium against the real globemeet-server:
// an event published with POST /v1/events must reach the page. The wasm must arrive as its
// own file, served as application/wasm (so the browser compiles it while it streams in), and
// what each bundle pulls in (JavaScript and wasm) must stay within 100 KB gzipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

import { depthEvent, publish, startServer } from './helpers/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
if (!existsSync(path.join(root, 'js/dist/globemeet_core.wasm'))) throw new Error('js/dist is missing: run `node js/build.mjs` first');

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

// The dashboard: one client, one subscription; it shows its state and every event it gets.
const appSource = `import { GlobeMeetWS } from '@globemeet/sdk';
const params = new URLSearchParams(location.search);
const ws = new GlobeMeetWS({ endpoint: params.get('endpoint'), token: params.get('token') });
ws.subscribe('queue.support.depth-changed', (event) => {
  const item = document.createElement('li');
  item.textContent = event.data.depth + ' ' + event.data.longest_wait_seconds;
  document.getElementById('events').append(item);
});
ws.on('state', ({ to }) => { document.body.dataset.state = to; });
ws.on('error', (e) => { document.body.dataset.error = e.code + ': ' + e.message; });
`;
const page = (script) => `<!doctype html><html><head><meta charset="utf-8"><title>dashboard</title></head>
<body data-state="none"><ul id="events"></ul>${script}</body></html>
`;

// A project directory with the package installed as npm would: package.json and dist/ copied.
function project(name) {
  const dir = path.join(work, name);
  const pkg = path.join(dir, 'node_modules/@globemeet/sdk');
  mkdirSync(pkg, { recursive: true });
  cpSync(path.join(root, 'js/package.json'), path.join(pkg, 'package.json'));
  cpSync(path.join(root, 'js/dist'), path.join(pkg, 'dist'), { recursive: true });
  mkdirSync(path.join(dir, 'src'));
  writeFileSync(path.join(dir, 'src/main.js'), appSource);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `dashboard-${name}`, private: true, type: 'module' }));
  return dir;
}

const builders = {
  // Vite with its defaults (build.target 'modules': es2020, edge88, firefox78, chrome87, safari14).
  async vite(dir) {
    writeFileSync(path.join(dir, 'index.html'), page('<script type="module" src="/src/main.js"></script>'));
    const { build } = await import('vite');
    await build({ root: dir, configFile: false, logLevel: 'silent' });
    return path.join(dir, 'dist');
  },
  // webpack 5, production mode: `new URL('./globemeet_core.wasm', import.meta.url)` becomes an asset.
  async webpack(dir) {
    const { default: webpack } = await import('webpack');
    const out = path.join(dir, 'dist');
    const stats = await new Promise((resolve, reject) => webpack({
      mode: 'production', context: dir, entry: './src/main.js', output: { path: out, filename: 'main.js' },
    }, (err, result) => (err ? reject(err) : resolve(result))));
    assert.equal(stats.hasErrors(), false, stats.toString({ all: false, errors: true }));
    assert.equal(stats.hasWarnings(), false, stats.toString({ all: false, warnings: true }));
    writeFileSync(path.join(out, 'index.html'), page('<script src="main.js"></script>'));
    return out;
  },
  // esbuild --bundle --format=esm --target=es2020 --minify. esbuild does not copy assets named
  // by `new URL(..., import.meta.url)`: the wasm goes beside the bundle (js/README.md says so).
  async esbuild(dir) {
    const esbuild = await import('esbuild');
    const out = path.join(dir, 'dist');
    const result = await esbuild.build({
      absWorkingDir: dir, entryPoints: ['src/main.js'], bundle: true, format: 'esm', target: 'es2020', minify: true,
      outfile: path.join(out, 'main.js'), logLevel: 'silent',
    });
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.warnings, []);
    cpSync(path.join(dir, 'node_modules/@globemeet/sdk/dist/globemeet_core.wasm'), path.join(out, 'globemeet_core.wasm'));
    writeFileSync(path.join(out, 'index.html'), page('<script type="module" src="main.js"></script>'));
    return out;
  },
};

const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
function serve(dir) {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      const file = path.join(dir, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
      if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    });
    server.listen(0, '127.0.0.1', () => {
      cleanups.push(() => new Promise((r) => server.close(r)));
      resolve(`http://127.0.0.1:${server.address().port}`);
    });
  });
}

// What the page loads: every file of the build but the page itself, raw and gzipped (level 9).
function sizes(out) {
  const total = { js: 0, jsGzip: 0, wasm: 0, wasmGzip: 0 };
  for (const entry of readdirSync(out, { recursive: true })) {
    const file = path.join(out, entry);
    if (!statSync(file).isFile() || file.endsWith('.html')) continue;
    const bytes = readFileSync(file);
    const kind = file.endsWith('.wasm') ? 'wasm' : 'js';
    total[kind] += bytes.length;
    total[`${kind}Gzip`] += gzipSync(bytes, { level: 9 }).length;
  }
  return total;
}

// Vite's dev server pre-bundles dependencies into node_modules/.vite/deps, where
// `new URL('./globemeet_core.wasm', import.meta.url)` finds no wasm: with the one setting
// js/README.md names (optimizeDeps.exclude), the page loads the package's own files.
async function viteDevServer(dir) {
  writeFileSync(path.join(dir, 'index.html'), page('<script type="module" src="/src/main.js"></script>'));
  const { createServer: createViteServer } = await import('vite');
  const dev = await createViteServer({
    root: dir, configFile: false, logLevel: 'silent', optimizeDeps: { exclude: ['@globemeet/sdk'] },
    server: { host: '127.0.0.1', port: 0 },
  });
  await dev.listen();
  cleanups.push(() => dev.close());
  return new URL(dev.resolvedUrls.local[0]).origin;
}

let work, builds, server, browser;
before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'globemeet-bundlers-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  builds = {};
  for (const [name, build] of Object.entries(builders)) {
    const out = await build(project(name));
    builds[name] = { out, origin: await serve(out) };
  }
  builds['vite dev server'] = { origin: await viteDevServer(project('vite-dev')) };
  server = await startServer({ args: ['--allowed-origins', Object.values(builds).map((b) => b.origin).join(',')] });
  cleanups.push(() => server.stop());
  const profile = mkdtempSync(path.join(tmpdir(), 'globemeet-chromium-'));
  cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  cleanups.push(() => browser.close());
});

for (const name of [...Object.keys(builders), 'vite dev server']) {
  test(`a dashboard ${name === 'vite dev server' ? 'on' : 'built with'} ${name} receives a published event in Chromium`, async () => {
    const { out, origin } = builds[name];
    if (out !== undefined) {
      const size = sizes(out);
      const kb = (n) => (n / 1024).toFixed(1);
      console.log(`# ${name}: JavaScript ${kb(size.js)} KB (${kb(size.jsGzip)} KB gzipped), ` +
        `wasm ${kb(size.wasm)} KB (${kb(size.wasmGzip)} KB gzipped), total ${kb(size.jsGzip + size.wasmGzip)} KB gzipped`);
      assert.ok(size.wasm > 0, 'the wasm is a file of its own');
      assert.ok(size.jsGzip + size.wasmGzip <= 100 * 1024, `over 100 KB gzipped: ${JSON.stringify(size)}`);
    }

    const tab = await browser.newPage();
    try {
      const errors = [];
      tab.on('pageerror', (e) => errors.push(e.message));
      const wasmResponses = [];
      tab.on('response', (r) => { if (new URL(r.url()).pathname.endsWith('.wasm')) wasmResponses.push(r); });
      const token = await server.mint({});
      const query = new URLSearchParams({ endpoint: server.wsUrl, token });
      await tab.goto(`${origin}/?${query}`);
      await tab.waitForSelector('body[data-state="live"]', { state: 'attached', timeout: 20000 });
      assert.equal(wasmResponses.length, 1, 'the wasm is fetched once, as a file');
      assert.equal(wasmResponses[0].headers()['content-type'], 'application/wasm');

      // Wait until the server holds the page's subscription, then publish.
      const start = Date.now();
      for (;;) {
        const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
        if (/^globemeet_subscriptions [1-9]/m.test(metrics)) break;
        if (Date.now() - start > 15000) throw new Error('the page never subscribed');
        await new Promise((r) => setTimeout(r, 20));
      }
      const publisher = await server.mint({ pub: true });
      const event = depthEvent('support', 7);
      event.data.longest_wait_seconds = 42;
      const res = await publish(server, publisher, event);
      assert.equal(res.status, 200, res.text);
      await tab.waitForFunction(() => [...document.querySelectorAll('#events li')].some((li) => li.textContent === '7 42'),
        null, { timeout: 15000 });
      assert.equal(await tab.getAttribute('body', 'data-error'), null);
      assert.deepEqual(errors, []);
    } finally {
      await tab.close();
    }
  });
}
