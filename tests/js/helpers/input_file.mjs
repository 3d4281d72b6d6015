// Runs a process to its end with some standard input, read from a file instead of written into
// a pipe. With spawnSync's `input` option Node writes the input into a pipe, and a process
// that exits before reading all of it (refusing early is what many tests check) makes that
// write fail with EPIPE, so the run fails or not depending on which side is faster. A file
// cannot fail that way: the process reads what it wants and the rest is never written anywhere.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// spawnSync(command, args, options) with `input` (a string or a Buffer) as standard input.
// Stdout and stderr are piped as spawnSync pipes them; options.stdio is not taken.
export function spawnSyncWithInput(command, args, input, options = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'globemeet-stdin-'));
  try {
    const file = path.join(dir, 'stdin');
    writeFileSync(file, input);
    const fd = openSync(file, 'r');
    try {
      return spawnSync(command, args, { ...options, stdio: [fd, 'pipe', 'pipe'] });
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
