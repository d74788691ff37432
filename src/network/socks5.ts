/**
 * The SOCKS5 side of the egress proxy (RFC 1928), pure: the greeting (only "no authentication"
 * is offered: the route itself identifies the server), the CONNECT request with an IPv4, IPv6 or
 * domain-name destination, and the replies. BIND and UDP ASSOCIATE are refused; so is SOCKS4.
 */
import { ipv4From, parseIPv6 } from './address.js';

/** SOCKS5 reply codes. */
export const Socks5Reply = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;

/** The method-selection answer refusing every offered method. */
export const NO_ACCEPTABLE_METHOD = Buffer.from([0x05, 0xff]);
/** The method-selection answer choosing "no authentication". */
export const NO_AUTHENTICATION = Buffer.from([0x05, 0x00]);
/** What a SOCKS4 client gets: "request rejected or failed". */
export const SOCKS4_REJECTED = Buffer.from([0x00, 0x5b, 0, 0, 0, 0, 0, 0]);

/** A parse step: more bytes needed, a protocol error (with the reply to send, if any), or the value and its length. */
export type Step<T> =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly message: string; readonly reply?: number }
  | ({ readonly kind: 'done'; readonly length: number } & T);

/** Parses the greeting `05 NMETHODS METHODS…`: does it offer "no authentication" (0x00)? */
export function parseGreeting(buffer: Buffer): Step<{ readonly noAuth: boolean }> {
  if (buffer.length < 2) return { kind: 'incomplete' };
  if (buffer[0] !== 0x05) return { kind: 'error', message: 'not SOCKS5' };
  const count = buffer[1] as number;
  if (count === 0) return { kind: 'error', message: 'SOCKS5 greeting offers no method' };
  if (buffer.length < 2 + count) return { kind: 'incomplete' };
  return { kind: 'done', length: 2 + count, noAuth: buffer.subarray(2, 2 + count).includes(0x00) };
}

/** Parses the request `05 CMD 00 ATYP ADDR PORT`; only CONNECT (1) is accepted. */
export function parseRequest(buffer: Buffer): Step<{ readonly host: string; readonly port: number }> {
  if (buffer.length < 5) return { kind: 'incomplete' };
  if (buffer[0] !== 0x05 || buffer[2] !== 0x00) return { kind: 'error', message: 'malformed SOCKS5 request', reply: Socks5Reply.GENERAL_FAILURE };
  const command = buffer[1];
  const type = buffer[3];
  let length: number;
  let host: string | undefined;
  if (type === 0x01) {
    length = 4 + 4 + 2;
    if (buffer.length < length) return { kind: 'incomplete' };
    host = ipv4From(BigInt(buffer.readUInt32BE(4))).text;
  } else if (type === 0x04) {
    length = 4 + 16 + 2;
    if (buffer.length < length) return { kind: 'incomplete' };
    const groups = Array.from({ length: 8 }, (_, i) => buffer.readUInt16BE(4 + i * 2).toString(16));
    host = parseIPv6(groups.join(':'))?.text;
  } else if (type === 0x03) {
    const size = buffer[4] as number;
    length = 4 + 1 + size + 2;
    if (size === 0) return { kind: 'error', message: 'empty SOCKS5 domain name', reply: Socks5Reply.HOST_UNREACHABLE };
    if (buffer.length < length) return { kind: 'incomplete' };
    host = buffer.subarray(5, 5 + size).toString('utf8');
  } else {
    return { kind: 'error', message: `SOCKS5 address type ${type} is not supported`, reply: Socks5Reply.ADDRESS_TYPE_NOT_SUPPORTED };
  }
  if (command !== 0x01) return { kind: 'error', message: `SOCKS5 command ${command} is not supported (only CONNECT)`, reply: Socks5Reply.COMMAND_NOT_SUPPORTED };
  const port = buffer.readUInt16BE(length - 2);
  if (host === undefined || port === 0) return { kind: 'error', message: 'malformed SOCKS5 destination', reply: Socks5Reply.GENERAL_FAILURE };
  return { kind: 'done', length, host, port };
}

/** A reply to the request, with an all-zero IPv4 bound address (clients do not need ours). */
export function socks5Reply(code: number): Buffer {
  return Buffer.from([0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
}
