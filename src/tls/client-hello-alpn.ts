/**
 * Reads the ALPN protocol list from the first bytes of a TLS connection: a TLS record holding a
 * ClientHello (RFC 8446 §4.1.2; extension 16, RFC 7301). Returns undefined when the bytes are not a
 * complete ClientHello in one record, or carry no ALPN extension. Never throws.
 */
export function clientHelloAlpn(buf: Buffer): string[] | undefined {
  try {
    if (buf.length < 5 || buf[0] !== 0x16) return undefined;
    const recordEnd = 5 + buf.readUInt16BE(3);
    if (buf.length < recordEnd || buf[5] !== 0x01) return undefined;
    let at = 5 + 4 + 2 + 32; // handshake header, client_version, random
    at += 1 + buf[at]!; // session_id
    at += 2 + buf.readUInt16BE(at); // cipher_suites
    at += 1 + buf[at]!; // compression_methods
    if (at + 2 > recordEnd) return undefined;
    const extEnd = Math.min(recordEnd, at + 2 + buf.readUInt16BE(at));
    at += 2;
    while (at + 4 <= extEnd) {
      const type = buf.readUInt16BE(at);
      const len = buf.readUInt16BE(at + 2);
      at += 4;
      if (type === 16) {
        const out: string[] = [];
        const end = Math.min(at + 2 + buf.readUInt16BE(at), at + len);
        let p = at + 2;
        while (p < end) {
          const n = buf[p]!;
          out.push(buf.toString('latin1', p + 1, p + 1 + n));
          p += 1 + n;
        }
        return out;
      }
      at += len;
    }
    return undefined;
  } catch {
    return undefined;
  }
}
