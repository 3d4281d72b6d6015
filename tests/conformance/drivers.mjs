// The clients under test: one entry per driver (README.md). `available()` says whether it is
// built; a driver that is not built is reported as missing, never skipped silently.
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const buildDir = process.env.GLOBEMEET_BUILD_DIR ?? path.join(root, 'build/native');

export const drivers = [
  {
    name: 'cpp',
    title: 'C++ (GlobeMeet::client)',
    command: [process.env.GLOBEMEET_CONFORMANCE_CPP_DRIVER ?? path.join(buildDir, 'tests/conformance/drivers/cpp/conformance_driver_cpp')],
    available() { return existsSync(this.command[0]); },
  },
  {
    name: 'js',
    title: 'npm (@globemeet/sdk)',
    command: [process.execPath, path.join(root, 'tests/conformance/drivers/js/driver.mjs')],
    available: () => existsSync(path.join(root, 'js/dist/index.js')),
  },
  {
    name: 'python',
    title: 'Python (globemeet)',
    command: [path.join(root, 'python/.venv/bin/python'), path.join(root, 'python/conformance_driver.py')],
    available() { return existsSync(this.command[0]); },
  },
  {
    // Built by scripts/build (go build ./cmd/globemeet-conformance-driver in go/).
    name: 'go',
    title: 'Go (globemeet)',
    command: [process.env.GLOBEMEET_CONFORMANCE_GO_DRIVER ?? path.join(root, 'build/go/conformance-driver')],
    available() { return existsSync(this.command[0]); },
  },
];
