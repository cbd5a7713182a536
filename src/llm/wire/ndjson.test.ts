import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NdjsonSplitter, ndjsonLines } from './ndjson.js';

describe('ndjson splitter', () => {
  it('joins lines split across chunks, inside a line and inside a multi-byte character', () => {
    const bytes = Buffer.from('{"a":"x — y"}\r\n\n{"b":2}\n{"c":', 'utf8');
    const dash = bytes.indexOf(0xe2);
    const s = new NdjsonSplitter();
    const out = [...s.push(bytes.subarray(0, 3)), ...s.push(bytes.subarray(3, dash + 1)), ...s.push(bytes.subarray(dash + 1, dash + 2)), ...s.push(bytes.subarray(dash + 2))];
    assert.deepEqual(out, ['{"a":"x — y"}', '{"b":2}']);
    assert.deepEqual(s.push('3}'), []);
    assert.deepEqual(s.end(), ['{"c":3}']);
  });

  it('splits one chunk holding several lines, a CR at a chunk end, and skips blank lines', () => {
    const s = new NdjsonSplitter();
    assert.deepEqual(s.push('1\n2\n\n  \n3\r'), ['1', '2']);
    assert.deepEqual(s.push('\n4\n'), ['3', '4']);
    assert.deepEqual(s.end(), []);
  });

  it('reads a byte stream line by line, delivering a last line without a line end', async () => {
    async function* body(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('{"a":1}\n{"b"');
      yield Buffer.from(':2}');
    }
    const lines: string[] = [];
    for await (const line of ndjsonLines(body())) lines.push(line);
    assert.deepEqual(lines, ['{"a":1}', '{"b":2}']);
  });
});
