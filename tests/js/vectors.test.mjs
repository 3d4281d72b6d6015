// The language-neutral vectors of tests/vectors/*.json, run against the wasm core. The native
// runner (tests/core/test_vectors.cpp) runs the same files with the same rules, so a vector that
// passes in both proves the two runtimes agree. An unknown file, section or member fails: a
// vector must never be added where it silently does not run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadCore } from './wasm_loader.mjs';

const vectorsDir = process.env.GLOBEMEET_VECTORS_DIR
  ? path.resolve(process.env.GLOBEMEET_VECTORS_DIR)
  : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../vectors');
const core = await loadCore();

// The limit check_strict_json vectors run with, unless an entry names its own `max_bytes`.
const defaultStrictJsonMaxBytes = 65536;

// Members every entry may carry for people, not for the check.
const descriptive = ['name', 'comment'];

function inputOf(entry) {
  if ('input_base64' in entry) return new Uint8Array(Buffer.from(entry.input_base64, 'base64'));
  return entry.input;
}

function label(entry) {
  const text = entry.name ?? entry.input ?? entry.pattern ?? entry.outer ?? JSON.stringify(entry);
  return String(text).slice(0, 80);
}

// A valid/invalid answer from a validator: {valid} or {valid:false, code, message}.
function checkValidity(entry, actual, errorCode) {
  assert.equal(actual.valid, entry.valid, actual.message);
  if (!entry.valid) {
    assert.equal(actual.code, errorCode);
    if ('message_contains' in entry) assert.ok(actual.message.includes(entry.message_contains), actual.message);
  }
}

function checkFrame(decode, entry) {
  const actual = decode(inputOf(entry));
  if (entry.ok) {
    assert.equal(actual.ok, true, actual.message);
    assert.equal(actual.canonical, entry.canonical, 'encode(decode(input))');
    const again = decode(entry.canonical);
    assert.equal(again.ok, true, again.message);
    assert.equal(again.canonical, entry.canonical, 'encode(decode(canonical))');
  } else {
    assert.equal(actual.ok, false, `decoded to ${actual.canonical}`);
    assert.equal(actual.code, entry.code);
    if ('message_contains' in entry) assert.ok(actual.message.includes(entry.message_contains), actual.message);
  }
}

// file -> section -> {required, optional members, check(entry)}
const runners = {
  'topics.json': {
    validate_name: {
      required: ['input', 'valid'], optional: ['message_contains'],
      check: (e) => checkValidity(e, core.topic.validateName(e.input), 'invalid_topic'),
    },
    validate_pattern: {
      required: ['input', 'valid'], optional: ['message_contains'],
      check: (e) => checkValidity(e, core.topic.validatePattern(e.input), 'invalid_topic'),
    },
    matches: {
      required: ['pattern', 'name', 'expected'], optional: [],
      check: (e) => assert.equal(core.topic.matches(e.pattern, e.name), e.expected),
    },
    contains: {
      required: ['outer', 'inner', 'expected'], optional: [],
      check: (e) => assert.equal(core.topic.contains(e.outer, e.inner), e.expected),
    },
  },
  'event_ids.json': {
    parse: {
      // `valid`: a position (`from`, `head`); `event`: also the id of an event (seq 0 is not).
      required: ['input', 'valid'], optional: ['epoch', 'seq', 'event'],
      check: (e) => {
        const actual = core.eventId.parse(e.input);
        assert.equal(actual.valid, e.valid);
        if (e.valid) {
          assert.equal(actual.epoch, e.epoch);
          assert.equal(actual.seq, e.seq);
          assert.equal(actual.event, e.event);
        }
      },
    },
  },
  'backoff.json': {
    delay: {
      required: ['policy', 'attempt', 'random', 'expected_ms'], optional: [],
      check: (e) => assert.equal(core.backoff.delay(e.policy, e.attempt, e.random), e.expected_ms),
    },
  },
  'frames.json': {
    client: {
      required: ['ok'], optional: ['input', 'input_base64', 'canonical', 'code', 'message_contains'],
      // Not in the shipped module (platform/wasm/README.md): tests/core/test_vectors.cpp runs these.
      check: (e) => { if (core.codec.decodeClient) checkFrame(core.codec.decodeClient, e); },
    },
    server: {
      required: ['ok'], optional: ['input', 'input_base64', 'canonical', 'code', 'message_contains'],
      check: (e) => checkFrame(core.codec.decodeServer, e),
    },
    strict_json: {
      required: ['ok'], optional: ['input', 'input_base64', 'code', 'message_contains', 'max_bytes'],
      check: (e) => {
        const actual = core.codec.checkStrictJson(inputOf(e), e.max_bytes ?? defaultStrictJsonMaxBytes);
        assert.equal(actual.ok, e.ok, actual.message);
        if (!e.ok) {
          assert.equal(actual.code, e.code ?? 'bad_json');
          if ('message_contains' in e) assert.ok(actual.message.includes(e.message_contains), actual.message);
        }
      },
    },
  },
};

// An entry's members must all be understood, or part of it would silently not be checked.
function checkShape(section, entry) {
  const known = new Set([...section.required, ...section.optional, ...descriptive]);
  const unknown = Object.keys(entry).filter((k) => !known.has(k));
  assert.deepEqual(unknown, [], 'members this runner does not check');
  const missing = section.required.filter((k) => !(k in entry));
  assert.deepEqual(missing, [], 'required members');
  if (section.optional.includes('input')) {
    assert.ok(('input' in entry) !== ('input_base64' in entry), 'exactly one of input and input_base64');
  }
  if (section.optional.includes('canonical') && entry.ok) assert.ok('canonical' in entry, 'canonical for an ok frame');
  if (section.optional.includes('canonical') && !entry.ok) assert.ok('code' in entry, 'code for a refused frame');
}

const files = readdirSync(vectorsDir).filter((f) => f.endsWith('.json')).sort();

test('the vectors directory holds vector files', () => {
  assert.ok(files.length > 0, `no *.json in ${vectorsDir}`);
});

// The files the runners were written for must stay: losing one would silently shrink the suite.
test('the known vector files are present', () => {
  assert.deepEqual(Object.keys(runners).filter((f) => !files.includes(f)), []);
});

for (const file of files) {
  test(file, async (t) => {
    const sections = runners[file];
    assert.ok(sections, `${file} has no runner: add one here and in tests/core/test_vectors.cpp`);
    const vectors = JSON.parse(readFileSync(path.join(vectorsDir, file), 'utf8'));
    for (const [name, entries] of Object.entries(vectors)) {
      await t.test(name, async (st) => {
        const section = sections[name];
        assert.ok(section, `section '${name}' of ${file} has no runner`);
        assert.ok(Array.isArray(entries) && entries.length > 0, `section '${name}' must be a non-empty array`);
        for (const [i, entry] of entries.entries()) {
          await st.test(`[${i}] ${label(entry)}`, () => {
            checkShape(section, entry);
            section.check(entry);
          });
        }
      });
    }
  });
}
