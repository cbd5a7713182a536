/**
 * The one Server-Sent Events parser (WHATWG HTML §9.2 "event stream interpretation") every provider
 * adapter reads streams with. Bytes go in as they arrive; complete events come out. A network chunk
 * may end anywhere: inside a line, between CR and LF, or inside a UTF-8 character.
 */

export interface SseEvent {
  /** The `event:` field; "message" when absent. */
  event: string;
  /** `data:` lines joined with "\n". */
  data: string;
  id: string | undefined;
}

export class SseParser {
  /** `ignoreBOM`: the parser strips exactly one BOM itself, for bytes and strings alike. */
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined = undefined;
  /** The previous chunk ended with CR: a LF starting the next one belongs to that line end. */
  private pendingCr = false;
  private first = true;

  /** Feeds bytes; returns the events they completed (often none, sometimes several). */
  push(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    // Nothing decoded (an empty chunk, or only part of a character): a pending CR stays pending.
    if (text.length === 0) return [];
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const out: SseEvent[] = [];
    let start = 0;
    const buf = this.buffer;
    // The next CR at or after `start`, searched again only once passed: streams rarely have any,
    // and searching the rest of the buffer for one per line would scan a large read once per line.
    let cr = buf.indexOf('\r');
    for (;;) {
      const lf = buf.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = buf.indexOf('\r', start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 === buf.length) {
          // CR at the very end: the line is complete, a LF may follow in the next chunk.
          this.pendingCr = true;
          next = cr + 1;
        } else next = buf.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else break;
      this.line(buf.slice(start, end), out);
      start = next;
    }
    this.buffer = start === 0 ? buf : buf.slice(start);
    return out;
  }

  /** Ends the stream: a final event not followed by a blank line is still delivered (providers omit it). */
  end(): SseEvent[] {
    const rest = this.decoder.decode();
    const out = rest ? this.push(rest) : [];
    if (this.buffer.length > 0) {
      this.line(this.buffer, out);
      this.buffer = '';
    }
    this.dispatch(out);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line.length === 0) {
      this.dispatch(out);
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      default:
      // "retry" and unknown fields are ignored.
    }
  }

  private dispatch(out: SseEvent[]): void {
    if (this.data.length === 0) {
      this.event = '';
      return;
    }
    out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
    this.event = '';
    this.data = [];
  }
}

/**
 * Reads a byte stream as SSE events, event by event as they complete. A failure reading `body` is
 * thrown as `mapError` makes it (default: as it is) — in the same generator, as every event of a
 * stream passes through each generator layered on it.
 */
export async function* sseEvents(body: AsyncIterable<Uint8Array>, mapError: (err: unknown) => unknown = (err) => err): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  try {
    for await (const chunk of body) {
      for (const e of parser.push(chunk)) yield e;
    }
  } catch (err) {
    throw mapError(err);
  }
  for (const e of parser.end()) yield e;
}

/** Frames one SSE event. `event` is omitted for the default "message" type (as OpenAI sends). */
export function sseFrame(data: string, event?: string): string {
  return event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
}
