/**
 * The SSE parser against the WHATWG event-stream rules: any chunking gives the same events, the
 * three line endings (a CRLF may straddle two chunks), UTF-8 split inside a character, field
 * parsing (BOM, comments, no space, no colon) and dispatch (no data, no trailing blank line).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseParser, sseEvents, sseFrame, type SseEvent } from './sse-parser.js';

/** Feeds the chunks to a fresh parser and returns every event, end() included. */
function parse(...chunks: Array<Uint8Array | string>): SseEvent[] {
  const p = new SseParser();
  const out = chunks.flatMap((c) => p.push(c));
  return [...out, ...p.end()];
}

const msg = (data: string, event = 'message', id?: string): SseEvent => ({ event, data, id });
const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/** A stream using every line ending, multi-line data, names, ids, comments and multi-byte text. */
const STREAM =
  ': ping\n' +
  'event: delta\r\ndata: {"t":"a — b"}\r\n\r\n' +
  'data: one\rdata: two\r\r' +
  'id: 7\ndata:😀 emoji\n\n' +
  'event: done\ndata: [DONE]\n\n';
const EXPECTED = [msg('{"t":"a — b"}', 'delta'), msg('one\ntwo'), msg('😀 emoji', 'message', '7'), msg('[DONE]', 'done', '7')];

describe('SseParser', () => {
  it('parses a whole stream in one chunk', () => {
    assert.deepEqual(parse(utf8(STREAM)), EXPECTED);
  });

  it('gives the same events when fed one byte at a time', () => {
    const bytes = utf8(STREAM);
    const chunks = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    assert.deepEqual(parse(...chunks), EXPECTED);
  });

  it('gives the same events for every split into two chunks', () => {
    const bytes = utf8(STREAM);
    for (let i = 0; i <= bytes.length; i++) {
      assert.deepEqual(parse(bytes.subarray(0, i), bytes.subarray(i)), EXPECTED, `split at byte ${i}`);
    }
  });

  it('accepts LF, CR and CRLF line endings alike', () => {
    for (const nl of ['\n', '\r', '\r\n']) {
      assert.deepEqual(parse(`event: e${nl}data: x${nl}${nl}data: y${nl}${nl}`), [msg('x', 'e'), msg('y')], JSON.stringify(nl));
    }
  });

  it('treats a CR ending one chunk and a LF starting the next as one line end', () => {
    const p = new SseParser();
    assert.deepEqual(p.push('data: a\r'), []);
    assert.deepEqual(p.push('\ndata: b\r'), []);
    assert.deepEqual(p.push('\n\r'), [msg('a\nb')]);
    assert.deepEqual(p.push('\n'), []);
    assert.deepEqual(p.end(), []);
  });

  it('keeps a pending CR across an empty chunk', () => {
    assert.deepEqual(parse('data: a\r', new Uint8Array(0), '\ndata: b\n\n'), [msg('a\nb')]);
  });

  it('joins a multi-byte UTF-8 character split across chunks', () => {
    for (const ch of ['—', '😀']) {
      const bytes = utf8(`data: x${ch}y\n\n`);
      const at = bytes.indexOf(utf8(ch)[0]!);
      for (let cut = at + 1; cut < at + utf8(ch).length; cut++) {
        assert.deepEqual(parse(bytes.subarray(0, cut), bytes.subarray(cut)), [msg(`x${ch}y`)], `${ch} cut at ${cut}`);
      }
    }
  });

  it('joins multi-line data with "\\n", keeping empty data lines', () => {
    assert.deepEqual(parse('data: a\ndata:\ndata: b\n\n'), [msg('a\n\nb')]);
    assert.deepEqual(parse('data\n\n'), [msg('')]);
  });

  it('uses the event name for one event only', () => {
    assert.deepEqual(parse('event: content_block_delta\ndata: 1\n\ndata: 2\n\n'), [msg('1', 'content_block_delta'), msg('2')]);
  });

  it('ignores comments, unknown fields and retry', () => {
    assert.deepEqual(parse(': ping\n:\nretry: 1000\nfoo: bar\ndata: x\n: inside\n\n'), [msg('x')]);
  });

  it('strips a BOM at the start of the stream, as bytes or as text', () => {
    assert.deepEqual(parse(utf8('\uFEFFdata: x\n\n')), [msg('x')]);
    assert.deepEqual(parse(new Uint8Array([0xef]), new Uint8Array([0xbb, 0xbf]), utf8('data: x\n\n')), [msg('x')]);
    assert.deepEqual(parse('\uFEFFdata: x\n\n'), [msg('x')]);
  });

  it('strips only one BOM: a second one is part of the first field name', () => {
    assert.deepEqual(parse(utf8('\uFEFF\uFEFFdata: x\n\ndata: y\n\n')), [msg('y')]);
  });

  it('removes only one space after the colon', () => {
    assert.deepEqual(parse('data:x\n\n'), [msg('x')]);
    assert.deepEqual(parse('data:  x \n\n'), [msg(' x ')]);
    assert.deepEqual(parse('data: a:b\n\n'), [msg('a:b')]);
  });

  it('reads a line without a colon as a field with an empty value', () => {
    assert.deepEqual(parse('data\ndata\n\n'), [msg('\n')]);
    assert.deepEqual(parse('event\ndata: x\n\n'), [msg('x')]);
  });

  it('does not dispatch an event without data, and forgets its event name', () => {
    assert.deepEqual(parse('event: ping\n\ndata: x\n\n'), [msg('x')]);
    assert.deepEqual(parse('id: 1\n\n'), []);
  });

  it('keeps the last event id for later events and ignores an id holding NUL', () => {
    assert.deepEqual(parse('id: 1\ndata: a\n\ndata: b\n\nid: 2\0\ndata: c\n\n'), [msg('a', 'message', '1'), msg('b', 'message', '1'), msg('c', 'message', '1')]);
  });

  it('delivers a final event without a trailing blank line at end()', () => {
    const p = new SseParser();
    assert.deepEqual(p.push('data: a\n\ndata: b'), [msg('a')]);
    assert.deepEqual(p.end(), [msg('b')]);
    assert.deepEqual(parse('data: c\n'), [msg('c')]);
  });

  it('returns several events from one chunk', () => {
    const p = new SseParser();
    assert.deepEqual(p.push('data: 1\n\ndata: 2\n\ndata: 3\n\n'), [msg('1'), msg('2'), msg('3')]);
  });
});

describe('sseEvents', () => {
  it('yields the events of a byte stream in order, the last one without a blank line', async () => {
    async function* body(): AsyncGenerator<Uint8Array> {
      const bytes = utf8('data: a — 1\r');
      yield bytes.subarray(0, 9);
      yield bytes.subarray(9);
      yield utf8('\n\r\nevent: end\ndata: 2');
    }
    const out: SseEvent[] = [];
    for await (const e of sseEvents(body())) out.push(e);
    assert.deepEqual(out, [msg('a — 1'), msg('2', 'end')]);
  });

  it('throws a failure of the byte stream as mapError makes it, after the events before it', async () => {
    async function* body(): AsyncGenerator<Uint8Array> {
      yield utf8('data: 1\n\n');
      throw new Error('reset');
    }
    const out: SseEvent[] = [];
    await assert.rejects(
      (async () => {
        for await (const e of sseEvents(body(), (err) => new Error(`mapped: ${(err as Error).message}`))) out.push(e);
      })(),
      /mapped: reset/,
    );
    assert.deepEqual(out, [msg('1')]);
  });

  it('finds lines in a large read with CRs only in places', () => {
    const text = 'data: x\n\n'.repeat(2000) + 'data: y\r\n\r' + '\ndata: z\n\n'.repeat(3);
    const events = new SseParser().push(text);
    assert.equal(events.length, 2004);
    assert.deepEqual(events.slice(1999), [msg('x'), msg('y'), msg('z'), msg('z'), msg('z')]);
  });
});

describe('sseFrame', () => {
  it('frames data, with an event line only for a named event', () => {
    assert.equal(sseFrame('{"a":1}'), 'data: {"a":1}\n\n');
    assert.equal(sseFrame('x', 'message_stop'), 'event: message_stop\ndata: x\n\n');
  });

  it('round-trips through the parser', () => {
    assert.deepEqual(parse(sseFrame('1') + sseFrame('2', 'ping')), [msg('1'), msg('2', 'ping')]);
  });
});
