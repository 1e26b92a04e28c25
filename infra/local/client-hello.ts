// The server name a TLS client asks for (SNI, RFC 6066), read from its ClientHello before
// any TLS library sees it. The router needs it first: Node applies protocol versions and
// ciphers per server, not per SecureContext (a context from SNICallback only changes the
// certificate), so the name has to choose the server before the handshake starts.

const RECORD_HEADER_BYTES = 5;
const HANDSHAKE_RECORD = 0x16;
const CLIENT_HELLO = 0x01;
const SERVER_NAME_EXTENSION = 0x0000;
const HOST_NAME = 0x00;

/**
 * How many bytes to hold before deciding: the whole first record (a ClientHello fits in one:
 * records carry up to 16 KiB). Undefined until its header is in; what is not a TLS handshake
 * needs nothing more.
 */
export function clientHelloBytes(buffered: Buffer): number | undefined {
  if (buffered.length === 0) return undefined;
  if (buffered[0] !== HANDSHAKE_RECORD) return buffered.length;
  if (buffered.length < RECORD_HEADER_BYTES) return undefined;
  return RECORD_HEADER_BYTES + buffered.readUInt16BE(3);
}

/** The host_name of the server_name extension, lower case; undefined when there is none or the bytes are not a ClientHello. */
export function serverNameOf(record: Buffer): string | undefined {
  let at = RECORD_HEADER_BYTES;
  const has = (bytes: number) => at + bytes <= record.length;
  const skip = (lengthBytes: 1 | 2) => {
    if (!has(lengthBytes)) return false;
    at += lengthBytes + (lengthBytes === 1 ? record[at]! : record.readUInt16BE(at));
    return has(0);
  };
  if (record[0] !== HANDSHAKE_RECORD || !has(4) || record[at] !== CLIENT_HELLO) return undefined;
  at += 4; // handshake type and length
  at += 2 + 32; // client_version, random
  if (!skip(1) || !skip(2) || !skip(1) || !has(2)) return undefined; // session_id, cipher_suites, compression_methods
  const extensionsEnd = Math.min(record.length, at + 2 + record.readUInt16BE(at));
  at += 2;
  while (at + 4 <= extensionsEnd) {
    const type = record.readUInt16BE(at);
    const length = record.readUInt16BE(at + 2);
    at += 4;
    if (type === SERVER_NAME_EXTENSION) return hostNameIn(record.subarray(at, Math.min(at + length, extensionsEnd)));
    at += length;
  }
  return undefined;
}

function hostNameIn(extension: Buffer): string | undefined {
  // server_name_list: its length, then entries of (type, length, name).
  let at = 2;
  while (at + 3 <= extension.length) {
    const type = extension[at]!;
    const length = extension.readUInt16BE(at + 1);
    at += 3;
    if (at + length > extension.length) return undefined;
    if (type === HOST_NAME) return extension.toString('ascii', at, at + length).toLowerCase();
    at += length;
  }
  return undefined;
}
