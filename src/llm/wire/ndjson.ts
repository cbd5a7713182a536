/**
 * Newline-delimited JSON framing (one JSON text a line, LF or CRLF ends a line), as Ollama streams it.
 * Bytes go in as they arrive; complete lines come out. A network chunk may end anywhere: inside a
 * line, between CR and LF, or inside a UTF-8 character. Lines are returned as text; parsing them is
 * the caller's, so that it can report a malformed line in its own terms.
 */

export class NdjsonSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  /** The current line's text so far (no line end seen yet). */
  private partial = '';

  /** Feeds bytes; returns the non-blank lines they completed (often none, sometimes several), line ends removed. */
  push(chunk: Uint8Array | string): string[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    let lf = text.indexOf('\n');
    if (lf === -1) {
      this.partial += text;
      return [];
    }
    const out: string[] = [];
    let line = this.partial + text.slice(0, lf);
    let start = lf + 1;
    for (;;) {
      pushLine(line, out);
      lf = text.indexOf('\n', start);
      if (lf === -1) break;
      line = text.slice(start, lf);
      start = lf + 1;
    }
    this.partial = text.slice(start);
    return out;
  }

  /** Ends the stream: a last line without a line end is still delivered. */
  end(): string[] {
    const out: string[] = [];
    pushLine(this.partial + this.decoder.decode(), out);
    this.partial = '';
    return out;
  }
}

function pushLine(line: string, out: string[]): void {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.trim() !== '') out.push(text);
}

/** Reads a byte stream as NDJSON lines, line by line as they complete. */
export async function* ndjsonLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const splitter = new NdjsonSplitter();
  for await (const chunk of body) {
    for (const line of splitter.push(chunk)) yield line;
  }
  for (const line of splitter.end()) yield line;
}
