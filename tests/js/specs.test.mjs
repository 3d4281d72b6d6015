// The machine-readable specs: docs/asyncapi.yaml (the socket) and docs/openapi.yaml (HTTP) must
// be valid, and must not drift from docs/protocol.md, the contract. The drift checks read the
// doc's own tables, so a new op, error code, close code or event type added to the doc fails
// here until the YAML has it too (and the YAML may not invent ones the doc lacks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { Parser } from '@asyncapi/parser';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (relative) => readFileSync(path.join(root, relative), 'utf8');

// ---- docs/protocol.md tables ------------------------------------------------------------------

const protocol = read('docs/protocol.md');

// The first table after the heading that starts with `heading`, as objects keyed by its header.
function tableAfter(heading) {
  const lines = protocol.split('\n');
  let at = lines.findIndex((line) => /^#+ /.test(line) && line.replace(/^#+ /, '').startsWith(heading));
  assert.notEqual(at, -1, `docs/protocol.md has no heading "${heading}"`);
  while (at < lines.length && !lines[at].startsWith('|')) at += 1;
  const cells = (line) => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((cell) => cell.trim());
  const header = cells(lines[at]);
  const rows = [];
  for (at += 2; at < lines.length && lines[at].startsWith('|'); at += 1) {
    const values = cells(lines[at]);
    rows.push(Object.fromEntries(header.map((name, i) => [name, values[i] ?? ''])));
  }
  assert.ok(rows.length > 0, `the table after "${heading}" is empty`);
  return rows;
}

// `name` → name; the doc writes identifiers in backticks.
const unquote = (cell) => cell.replace(/^`|`$/g, '');
// The backticked identifiers of a cell, ignoring parenthesised remarks ("`head` (or `null`)").
const identifiers = (cell) =>
  [...cell.replace(/\([^)]*\)/g, '').matchAll(/`([a-z_]+)`/g)].map((match) => match[1]);

const clientOps = tableAfter('2.1 Client to server');
const serverOps = tableAfter('2.2 Server to client');
const errorCodes = tableAfter('2.3 Error codes').map((row) => unquote(row.code));
const catalogue = tableAfter('3.1 Catalogue').map((row) => ({
  type: unquote(row.type),
  required: identifiers(row['data (required)']),
  optional: identifiers(row.optional),
}));
const resetReasons = tableAfter('5.2 When resume is impossible').map((row) => unquote(row.reason));
const closeCodes = tableAfter('8. Close codes').map((row) => ({
  code: Number(row.code),
  name: row.name,
  class: row.class,
}));

// ---- docs/asyncapi.yaml ---------------------------------------------------------------------

const asyncapi = await new Parser().parse(read('docs/asyncapi.yaml'));
const spec = asyncapi.document?.json();

// Every `op` constant a payload schema can take, through allOf / oneOf / anyOf.
function opConstants(schema) {
  if (!schema || typeof schema !== 'object') return [];
  const own = schema.properties?.op?.const !== undefined ? [schema.properties.op.const] : [];
  const nested = ['allOf', 'oneOf', 'anyOf'].flatMap((key) => (schema[key] ?? []).flatMap(opConstants));
  return [...new Set([...own, ...nested])];
}

// Every property name a payload schema defines, through allOf / oneOf / anyOf.
function propertyNames(schema) {
  if (!schema || typeof schema !== 'object') return [];
  const own = Object.keys(schema.properties ?? {});
  const nested = ['allOf', 'oneOf', 'anyOf'].flatMap((key) => (schema[key] ?? []).flatMap(propertyNames));
  return [...new Set([...own, ...nested])];
}

// op → payload schema, for the messages of every operation with `action`.
function messagesByOp(action) {
  const found = new Map();
  for (const operation of Object.values(spec.operations)) {
    if (operation.action !== action) continue;
    for (const message of operation.messages) {
      const ops = opConstants(message.payload);
      assert.equal(ops.length, 1, `a message of ${action} operations has ${ops.length} op constants`);
      found.set(ops[0], message.payload);
    }
  }
  return found;
}

test('docs/asyncapi.yaml is valid AsyncAPI 3.0', () => {
  const errors = asyncapi.diagnostics.filter((diagnostic) => diagnostic.severity === 0);
  assert.deepEqual(
    errors.map((diagnostic) => `${diagnostic.code} at ${JSON.stringify(diagnostic.path)}: ${diagnostic.message}`),
    [],
  );
  assert.ok(asyncapi.document, 'the parser returned no document');
  assert.equal(spec.asyncapi, '3.0.0');
});

test('the socket channel is /v1/events with the globemeet-events.v1 subprotocol', () => {
  const channel = spec.channels.events;
  assert.equal(channel.address, '/v1/events');
  assert.equal(channel['x-subprotocol'], 'globemeet-events.v1');
  assert.match(channel.description, /globemeet-events\.v1/);
  assert.equal(channel['x-max-client-frame-bytes'], 65536);
});

test('every client op of section 2.1 is received, and no other', () => {
  const received = messagesByOp('receive');
  assert.deepEqual([...received.keys()].sort(), clientOps.map((row) => unquote(row.op)).sort());
  for (const row of clientOps) {
    const op = unquote(row.op);
    const properties = propertyNames(received.get(op));
    for (const member of identifiers(row.members)) {
      assert.ok(properties.includes(member), `client op ${op}: member ${member} missing from asyncapi.yaml`);
    }
  }
});

test('every server op of section 2.2 is sent, and no other', () => {
  const sent = messagesByOp('send');
  assert.deepEqual([...sent.keys()].sort(), serverOps.map((row) => unquote(row.op)).sort());
  for (const row of serverOps) {
    const op = unquote(row.op);
    const properties = propertyNames(sent.get(op));
    for (const member of identifiers(row.members)) {
      assert.ok(properties.includes(member), `server op ${op}: member ${member} missing from asyncapi.yaml`);
    }
  }
});

test('the error frame lists exactly the error codes of section 2.3', () => {
  assert.deepEqual([...spec.components.schemas.ErrorFrame.properties.code.enum].sort(), [...errorCodes].sort());
});

test('the reset frame lists exactly the reasons of section 5.2', () => {
  assert.deepEqual([...spec.components.schemas.ResetFrame.properties.reason.enum].sort(), [...resetReasons].sort());
});

test('every close code of section 8 is documented with its name and class, and no other', () => {
  const documented = spec.channels.events['x-close-codes'].map(({ code, name, class: kind }) => ({
    code,
    name,
    class: kind,
  }));
  assert.deepEqual(
    documented.sort((a, b) => a.code - b.code),
    [...closeCodes].sort((a, b) => a.code - b.code),
  );
});

test('the event message covers the 20 event types with their data fields', () => {
  assert.equal(catalogue.length, 20);
  const variants = spec.components.schemas.Event.oneOf;
  const byType = new Map(
    variants.map((variant) => {
      const pinned = variant.allOf.find((part) => part.properties?.type?.const);
      return [pinned.properties.type.const, pinned.properties.data];
    }),
  );
  assert.deepEqual([...byType.keys()].sort(), catalogue.map((entry) => entry.type).sort());
  for (const entry of catalogue) {
    const data = byType.get(entry.type);
    assert.deepEqual([...data.required].sort(), [...entry.required].sort(), `${entry.type}: required fields`);
    assert.deepEqual(
      Object.keys(data.properties).sort(),
      [...entry.required, ...entry.optional].sort(),
      `${entry.type}: documented fields`,
    );
  }
  const envelope = spec.components.schemas.EventEnvelope;
  assert.equal(envelope.properties.specversion.const, '1.0');
  for (const attribute of tableAfter('3. The event envelope').map((row) => unquote(row.attribute))) {
    assert.ok(envelope.required.includes(attribute), `envelope attribute ${attribute} not required`);
  }
});

// ---- examples against the schemas ------------------------------------------------------------

// A JSON Schema checker for exactly the keywords docs/asyncapi.yaml uses. An unknown keyword
// throws, so a schema can never pass here because a rule of it was silently skipped.
const annotations = new Set(['description', 'title', 'format', 'examples']);
function schemaErrors(schema, value, at = '$') {
  const errors = [];
  const typeOf = (v) =>
    v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;
  for (const [keyword, rule] of Object.entries(schema)) {
    if (annotations.has(keyword) || keyword.startsWith('x-')) continue;
    switch (keyword) {
      case 'type': {
        const actual = typeOf(value);
        const allowed = [rule].flat();
        if (!allowed.includes(actual) && !(actual === 'integer' && allowed.includes('number'))) {
          errors.push(`${at}: expected ${allowed.join('|')}, got ${actual}`);
        }
        break;
      }
      case 'const':
        if (JSON.stringify(value) !== JSON.stringify(rule)) errors.push(`${at}: expected ${JSON.stringify(rule)}`);
        break;
      case 'enum':
        if (!rule.includes(value)) errors.push(`${at}: ${JSON.stringify(value)} not in ${rule.join(', ')}`);
        break;
      case 'required':
        if (typeOf(value) === 'object') {
          for (const name of rule) if (!(name in value)) errors.push(`${at}: ${name} is required`);
        }
        break;
      case 'properties':
        if (typeOf(value) === 'object') {
          for (const [name, child] of Object.entries(rule)) {
            if (name in value) errors.push(...schemaErrors(child, value[name], `${at}.${name}`));
          }
        }
        break;
      case 'additionalProperties':
        assert.equal(rule, true, 'only additionalProperties: true is supported here');
        break;
      case 'items':
        if (Array.isArray(value)) value.forEach((item, i) => errors.push(...schemaErrors(rule, item, `${at}[${i}]`)));
        break;
      case 'minItems':
        if (Array.isArray(value) && value.length < rule) errors.push(`${at}: fewer than ${rule} items`);
        break;
      case 'maxItems':
        if (Array.isArray(value) && value.length > rule) errors.push(`${at}: more than ${rule} items`);
        break;
      case 'minLength':
        if (typeof value === 'string' && [...value].length < rule) errors.push(`${at}: shorter than ${rule}`);
        break;
      case 'maxLength':
        if (typeof value === 'string' && [...value].length > rule) errors.push(`${at}: longer than ${rule}`);
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(rule, 'u').test(value)) errors.push(`${at}: does not match ${rule}`);
        break;
      case 'minimum':
        if (typeof value === 'number' && value < rule) errors.push(`${at}: below ${rule}`);
        break;
      case 'allOf':
        rule.forEach((part) => errors.push(...schemaErrors(part, value, at)));
        break;
      case 'oneOf': {
        const matching = rule.filter((part) => schemaErrors(part, value, at).length === 0).length;
        if (matching !== 1) errors.push(`${at}: matches ${matching} of the oneOf schemas, not exactly one`);
        break;
      }
      default:
        throw new Error(`schemaErrors: unsupported keyword ${keyword} at ${at}`);
    }
  }
  return errors;
}

const payloadOf = (op) => {
  const message = Object.values(spec.channels.events.messages).find((m) => opConstants(m.payload).includes(op));
  assert.ok(message, `no message for op ${op}`);
  return message.payload;
};

test('the schema checker refuses what it should', () => {
  const ready = payloadOf('ready');
  const good = { op: 'ready', sub: 'wallboard', tenant: 'acme', exp: 1, heartbeat_ms: 20000, head: '6f1c2a9e-0' };
  assert.deepEqual(schemaErrors(ready, good), []);
  assert.deepEqual(schemaErrors(ready, { ...good, head: '6f1c2a9e-1042' }), []);
  assert.notDeepEqual(schemaErrors(ready, { ...good, head: null }), []);
  assert.notDeepEqual(schemaErrors(ready, { ...good, head: '6f1c2a9e-00' }), []);
  assert.notDeepEqual(schemaErrors(ready, { ...good, head: 'not-an-id' }), []);
  const event = payloadOf('event');
  const example = Object.values(spec.channels.events.messages).find((m) => m.payload === event).examples[0].payload;
  assert.deepEqual(schemaErrors(event, example), []);
  assert.notDeepEqual(schemaErrors(event, { ...example, id: '6f1c2a9e-0' }), [], 'no event carries seq 0');
  assert.notDeepEqual(schemaErrors(ready, { ...good, heartbeat_ms: 'soon' }), []);
  const { sub, ...withoutSub } = good;
  assert.equal(sub, 'wallboard');
  assert.notDeepEqual(schemaErrors(ready, withoutSub), []);
  const subscribe = payloadOf('subscribe');
  assert.notDeepEqual(schemaErrors(subscribe, { op: 'subscribe', topics: ['queue..depth'] }), []);
  assert.notDeepEqual(schemaErrors(subscribe, { op: 'subscribe', topics: ['q>'] }), []);
  assert.notDeepEqual(schemaErrors(subscribe, { op: 'subscribe', topics: ['>.queue'] }), []);
  assert.deepEqual(schemaErrors(subscribe, { op: 'subscribe', topics: ['*.support.*', 'queue.>', '>'] }), []);
});

test('every message example of asyncapi.yaml fits its payload schema', () => {
  let checked = 0;
  for (const [key, message] of Object.entries(spec.channels.events.messages)) {
    assert.ok(message.examples?.length, `message ${key} has no example`);
    for (const example of message.examples) {
      assert.deepEqual(schemaErrors(message.payload, example.payload), [], `example of ${key}`);
      checked += 1;
    }
  }
  assert.ok(checked >= 17);
});

test('the examples of docs/protocol.md fit the schemas', () => {
  const blocks = [...protocol.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]);
  assert.ok(blocks.length >= 2, 'protocol.md has its json examples');
  // The doc abbreviates tokens as "eyJ...": stand in a well-formed compact JWS for them.
  const wellFormedToken = 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ3YWxsYm9hcmQifQ.c2ln';
  const frames = [];
  for (const block of blocks) {
    const text = block.replace(/"eyJ[^"]*\.\.\."/g, JSON.stringify(wellFormedToken));
    // One frame per line, or one frame over several lines.
    const lines = text.trim().split('\n');
    if (lines.every((line) => line.trim().endsWith('}'))) frames.push(...lines.map((line) => JSON.parse(line)));
    else frames.push(JSON.parse(text));
  }
  const ops = frames.map((frame) => frame.op);
  for (const op of ['auth', 'subscribe', 'unsubscribe', 'refresh', 'ping', 'event']) {
    assert.ok(ops.includes(op), `protocol.md has an example of ${op}`);
  }
  for (const frame of frames) {
    assert.deepEqual(schemaErrors(payloadOf(frame.op), frame), [], `protocol.md example of ${frame.op}`);
  }
});

// ---- docs/openapi.yaml ----------------------------------------------------------------------

const redocly = path.join(root, 'node_modules/@redocly/cli/bin/cli.js');

// Runs the Redocly CLI offline and quietly; resolves with its stdout, or fails the test.
async function runRedocly(args) {
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [redocly, ...args], {
      cwd: root,
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (failure) {
    assert.fail(`redocly ${args[0]} failed:\n${failure.stdout ?? ''}\n${failure.stderr ?? ''}`);
  }
}

const jsonIn = (text) => JSON.parse(text.slice(text.indexOf('{')));

test('docs/openapi.yaml passes redocly lint (recommended-strict, see redocly.yaml)', async () => {
  const report = jsonIn(await runRedocly(['lint', 'docs/openapi.yaml', '--format=json']));
  const problems = report.problems.map((problem) => `${problem.ruleId}: ${problem.message}`);
  assert.equal(report.totals.errors, 0, problems.join('\n'));
});

test('openapi.yaml has every route with the documented statuses and error bodies', async () => {
  const openapi = jsonIn(await runRedocly(['bundle', 'docs/openapi.yaml', '--dereferenced', '--ext', 'json']));
  const operation = (route, method) => {
    const found = openapi.paths[route]?.[method];
    assert.ok(found, `openapi.yaml lacks ${method.toUpperCase()} ${route}`);
    return found;
  };
  const statuses = (found) => Object.keys(found.responses).sort();
  const jsonSchema = (response) => response.content?.['application/json']?.schema;
  const requireErrorBodies = (found, codes, required) => {
    for (const code of codes) {
      const schema = jsonSchema(found.responses[code]);
      assert.ok(schema, `${found.operationId} ${code}: no JSON body`);
      assert.deepEqual([...schema.required].sort(), required, `${found.operationId} ${code}: error body shape`);
    }
  };

  const upgrade = operation('/v1/events', 'get');
  assert.deepEqual(statuses(upgrade), ['101', '400', '401', '403', '426', '429', '431']);
  requireErrorBodies(upgrade, ['400', '401', '403', '426', '429', '431'], ['error', 'message']);
  assert.equal(upgrade.responses['101'].headers['Sec-WebSocket-Protocol'].schema.const, 'globemeet-events.v1');
  assert.ok(upgrade.responses['426'].headers['Sec-WebSocket-Version'], '426 names the WebSocket version');
  assert.ok(upgrade.responses['429'].headers['Retry-After'], '429 carries Retry-After');
  // The exact refusal body of docs/protocol.md section 1.
  const refusal = JSON.parse(protocol.match(/\{"error":"subprotocol_required","message":"[^"]*"\}/)[0]);
  assert.deepEqual(upgrade.responses['400'].content['application/json'].examples.subprotocolRequired.value, refusal);

  const publish = operation('/v1/events', 'post');
  for (const code of ['200', '400', '401', '403', '413', '415']) {
    assert.ok(publish.responses[code], `POST /v1/events lacks ${code}`);
  }
  requireErrorBodies(publish, ['400', '401', '403', '413', '415'], ['error', 'message']);
  const [single, batch] = publish.requestBody.content['application/json'].schema.oneOf;
  assert.deepEqual([...single.properties.type.enum].sort(), catalogue.map((entry) => entry.type).sort());
  assert.equal(batch.properties.events.maxItems, 1000);

  const token = operation('/oauth/token', 'post');
  const form = token.requestBody.content['application/x-www-form-urlencoded'].schema;
  assert.equal(form.properties.grant_type.const, 'client_credentials');
  assert.deepEqual(Object.keys(token.security.find((entry) => Object.keys(entry).length) ?? {}), ['clientBasic']);
  assert.equal(openapi.components.securitySchemes.clientBasic.scheme, 'basic');
  for (const code of ['400', '401']) {
    assert.deepEqual(Object.keys(jsonSchema(token.responses[code]).properties).sort(), ['error', 'error_description']);
  }
  assert.ok(jsonSchema(token.responses['200']).required.includes('access_token'));

  operation('/v1/topics', 'get');
  operation('/.well-known/jwks.json', 'get');
  operation('/healthz', 'get');
  assert.deepEqual(statuses(operation('/readyz', 'get')).filter((code) => code !== '405'), ['200', '503']);
  assert.ok(operation('/metrics', 'get').responses['200'].content['text/plain'], '/metrics is text/plain');
});
