import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeMessage, encodeMessage, decodePayload, messageToJSON, codecOf } from '../../src/protocol/registry.js';
import { Command, COMMAND_COUNT, COMMAND_NAMES, type CommandName } from '../../src/protocol/constants.js';
import { WireError, Status } from '../../src/protocol/errors.js';
import { Reader } from '../../src/protocol/reader.js';
import { fromHex, toHex } from '../../src/protocol/hex.js';
import { fixtureJSON } from '../helpers.js';

interface Vector {
  name: string;
  command: CommandName;
  payloadHex: string;
  fields: Record<string, unknown>;
}
const vectors = fixtureJSON<Vector[]>('messages/messages.json');

/** True when every key of `want` is in `got` with an equal value (recursively; extra keys in `got` allowed). */
function subset(want: unknown, got: unknown, path: string, diffs: string[]): void {
  if (want === null || typeof want !== 'object') {
    if (String(want) !== String(got)) diffs.push(`${path}: want ${JSON.stringify(want)} got ${JSON.stringify(got)}`);
    return;
  }
  if (got === null || typeof got !== 'object') {
    diffs.push(`${path}: want an object, got ${JSON.stringify(got)}`);
    return;
  }
  for (const [k, v] of Object.entries(want as Record<string, unknown>)) subset(v, (got as Record<string, unknown>)[k], `${path}.${k}`, diffs);
}

test('has a codec for every known command id', () => {
  for (let id = 1; id < COMMAND_COUNT; id++) assert.ok(codecOf(id), COMMAND_NAMES[id]);
});

test('decodes every message vector to the fields its origin states', () => {
  const failures: string[] = [];
  for (const v of vectors) {
    const msg = decodeMessage(v.command, fromHex(v.payloadHex));
    const json = messageToJSON(v.command, msg);
    assert.is(json.command, v.command);
    subset(v.fields, json, v.name, failures);
  }
  assert.equal(failures, []);
});

test('re-encodes every message vector to its exact payload bytes', () => {
  for (const v of vectors) {
    const msg = decodeMessage(v.command, fromHex(v.payloadHex));
    assert.is(toHex(encodeMessage(v.command, msg)), v.payloadHex, v.name);
  }
});

test('gives a coded error, never an exception, for every vector truncated at every offset', () => {
  const r = new Reader();
  let cases = 0;
  for (const v of vectors) {
    const payload = fromHex(v.payloadHex);
    const id = Command[v.command];
    // Large payloads are sampled every 97 bytes (their structure repeats); small ones at every offset.
    const step = payload.length > 4000 ? 97 : 1;
    for (let cut = 0; cut < payload.length; cut += step) {
      // version's relay byte is optional (BIP37): without it the payload is a complete pre-70001 version.
      if (v.command === 'version' && 'relay' in v.fields && cut === payload.length - 1) continue;
      // reject keeps whatever follows its reason as raw data (BIP61's data is optional and free-form).
      if (v.command === 'reject' && cut >= payload.length - (v.fields.dataHex as string).length / 2) continue;
      const msg = decodePayload(id, payload, 0, cut, r);
      assert.is(msg, undefined, `${v.name} cut at ${cut}`);
      assert.ok(r.err !== 0, `${v.name} cut at ${cut}`);
      cases++;
    }
  }
  assert.ok(cases > 5000);
});

test('reports trailing bytes after a complete payload', () => {
  for (const v of vectors) {
    // One more byte after a version without relay is its relay flag, not trailing bytes.
    if (v.command === 'version' && !('relay' in v.fields)) continue;
    if (v.command === 'reject') continue; // extra bytes are part of its free-form data
    const payload = fromHex(v.payloadHex + '00');
    assert.throws(
      () => decodeMessage(v.command, payload),
      (e: unknown) => e instanceof WireError && (e.status === Status.TRAILING_BYTES || e.status === Status.BAD_VALUE || e.status === Status.TRUNCATED),
      v.name,
    );
  }
});

test('throws a WireError naming the decoder and the offset', () => {
  try {
    decodeMessage('inv', fromHex('02'));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, WireError);
    assert.is((e as WireError).code, 'ERR_WIRE_TRUNCATED');
    assert.match((e as WireError).message, /decode inv/);
  }
});

test('prints an unknown command as a raw value', () => {
  const json = messageToJSON('bogus', { command: 'bogus', payload: fromHex('0102') });
  assert.equal(json, { command: 'bogus', unknown: true, payloadHex: '0102' });
});

test.run();
