/**
 * Framing for AWS event-stream bodies (`application/vnd.amazon.eventstream`), as Bedrock's
 * ConverseStream sends them. A message is a 12-byte prelude (total length and headers length, both
 * big-endian uint32, then the prelude CRC), typed headers, a payload and a message CRC. Network
 * chunks split messages anywhere, so bytes are buffered until a whole message is there; each whole
 * message is then decoded (and its CRCs checked) by Smithy's {@link EventStreamCodec}.
 *
 * Reference: https://docs.aws.amazon.com/AmazonS3/latest/API/RESTSelectObjectAppendix.html
 * (the same encoding every AWS event stream uses).
 */

import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { protocolFailure } from '../provider-http.js';
import { ProviderError } from '../provider.js';

export type { Message as EventStreamMessage } from '@smithy/eventstream-codec';

/** Prelude (12 bytes) plus the message CRC (4 bytes): the smallest valid message. */
const MIN_MESSAGE_BYTES = 16;
/** AWS caps one event-stream message at 16 MiB; a larger length means a corrupt stream. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

function decodeMessage(codec: EventStreamCodec, bytes: Uint8Array): Message {
  try {
    return codec.decode(bytes);
  } catch (err) {
    throw new ProviderError('protocol', 502, 'api_error', 'The provider sent a corrupt event-stream message', { cause: err });
  }
}

/**
 * Yields the messages of an event-stream body, in order, whatever the chunk boundaries. Throws a
 * protocol {@link ProviderError} (502) for a corrupt message (bad length or CRC) or a body that ends
 * inside a message; errors of the body itself (reset, timeout) propagate unchanged. Breaking out of
 * the iteration stops reading the body.
 */
export async function* eventStreamMessages(body: AsyncIterable<Uint8Array>): AsyncGenerator<Message> {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  let parts: Uint8Array[] = [];
  let size = 0;
  // Bytes needed (from the start of the buffered data) before the next message can be read.
  let needed = 4;
  for await (const chunk of body) {
    if (chunk.length === 0) continue;
    parts.push(chunk);
    size += chunk.length;
    if (size < needed) continue;
    const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let at = 0;
    for (;;) {
      if (buf.length - at < 4) {
        needed = 4;
        break;
      }
      const total = view.getUint32(at);
      if (total < MIN_MESSAGE_BYTES || total > MAX_MESSAGE_BYTES) throw protocolFailure(`The provider sent an event-stream message of invalid length ${total}`);
      if (buf.length - at < total) {
        needed = total;
        break;
      }
      yield decodeMessage(codec, buf.subarray(at, at + total));
      at += total;
    }
    const rest = buf.subarray(at);
    parts = rest.length > 0 ? [rest] : [];
    size = rest.length;
  }
  if (size > 0) throw protocolFailure('The provider stream ended inside an event-stream message');
}

/** A string header's value (`:event-type`, `:message-type`…), or undefined when absent or not a string. */
export function stringHeader(message: Message, name: string): string | undefined {
  const h = message.headers[name];
  return h?.type === 'string' ? h.value : undefined;
}
