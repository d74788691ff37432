/** The proxy's handshake parsers, pure: HTTP request heads (CONNECT, absolute-form) and SOCKS5. */
import { describe, expect, it } from 'vitest';
import { MAX_HEAD_BYTES, parseProxyRequest } from '../../src/network/httpHead.js';
import { parseGreeting, parseRequest } from '../../src/network/socks5.js';

const head = (text: string) => parseProxyRequest(Buffer.from(text, 'latin1'));

describe('parseProxyRequest', () => {
  it('reads CONNECT host:port (IPv6 bracketed) and keeps bytes sent after the head', () => {
    expect(head('CONNECT api.github.com:443 HTTP/1.1\r\nHost: api.github.com:443\r\n\r\n\x16\x03')).toMatchObject({ kind: 'connect', host: 'api.github.com', port: 443, rest: Buffer.from('\x16\x03', 'latin1') });
    expect(head('CONNECT [::1]:8080 HTTP/1.1\r\n\r\n')).toMatchObject({ kind: 'connect', host: '::1', port: 8080 });
  });

  it('rewrites an absolute-form request for the origin: origin-form target, Host from the URL, proxy headers dropped, one request per connection', () => {
    const parsed = head('POST http://Example.com:8080/a/b?q=1#frag HTTP/1.1\r\nHost: evil.example\r\nProxy-Authorization: Basic x\r\nProxy-Connection: keep-alive\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi');
    expect(parsed).toMatchObject({ kind: 'http', host: 'Example.com', port: 8080, rest: Buffer.from('hi') });
    expect((parsed as { head: string }).head).toBe('POST /a/b?q=1 HTTP/1.1\r\nHost: Example.com:8080\r\nContent-Length: 2\r\nConnection: close\r\n\r\n');
    expect(head('GET http://a.com HTTP/1.0\r\n\r\n')).toMatchObject({ kind: 'http', port: 80, head: 'GET / HTTP/1.1\r\nHost: a.com\r\nConnection: close\r\n\r\n' });
    expect(head('GET http://a.com?x HTTP/1.1\r\n\r\n')).toMatchObject({ head: expect.stringMatching(/^GET \/\?x HTTP/) });
  });

  it.each([
    ['GET http://allowed.com@evil.com/ HTTP/1.1\r\n\r\n', 'credentials in the request URL'],
    ['GET http://user:pw@a.com/ HTTP/1.1\r\n\r\n', 'credentials in the request URL'],
    ['GET https://a.com/ HTTP/1.1\r\n\r\n', 'through a CONNECT tunnel'],
    ['GET / HTTP/1.1\r\nHost: a\r\n\r\n', "mcpgate's egress proxy"],
    ['GET ftp://a.com/ HTTP/1.1\r\n\r\n', "mcpgate's egress proxy"],
    ['CONNECT a.com HTTP/1.1\r\n\r\n', 'CONNECT needs host:port'],
    ['CONNECT a.com:0 HTTP/1.1\r\n\r\n', 'CONNECT needs host:port'],
    ['CONNECT ::1:443 HTTP/1.1\r\n\r\n', 'CONNECT needs host:port'],
    ['CONNECT a.com:443 HTTP/2\r\n\r\n', 'malformed request line'],
    ['get http://a.com/ HTTP/1.1\r\n\r\n', 'malformed request line'],
    ['GET http://a.com/ HTTP/1.1\r\n folded\r\n\r\n', 'malformed header line'],
    ['GET http://a.com/ HTTP/1.1\r\nBad Header: x\r\n\r\n', 'malformed header line'],
    ['GET http://a.com/ HTTP/1.1\r\nX: a\nInjected: b\r\n\r\n', 'malformed header line'],
  ])('refuses %j', (text, message) => {
    expect(head(text)).toMatchObject({ kind: 'error', message: expect.stringContaining(message) });
  });

  it('waits for the end of the head, within a bound', () => {
    expect(head('CONNECT a.com:443 HTTP/1.1\r\n')).toEqual({ kind: 'incomplete' });
    expect(head(`GET http://a/ HTTP/1.1\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`)).toMatchObject({ kind: 'error', status: 431 });
  });
});

describe('SOCKS5', () => {
  it('greeting: needs "no authentication" among the methods', () => {
    expect(parseGreeting(Buffer.from([0x05, 0x02, 0x02, 0x00]))).toEqual({ kind: 'done', length: 4, noAuth: true });
    expect(parseGreeting(Buffer.from([0x05, 0x01, 0x02]))).toEqual({ kind: 'done', length: 3, noAuth: false });
    expect(parseGreeting(Buffer.from([0x05, 0x02, 0x00]))).toEqual({ kind: 'incomplete' });
    expect(parseGreeting(Buffer.from([0x05, 0x00]))).toMatchObject({ kind: 'error' });
  });

  it('request: CONNECT to an IPv4, IPv6 or domain destination; other commands and types refused with their reply code', () => {
    expect(parseRequest(Buffer.from([5, 1, 0, 1, 127, 0, 0, 2, 0x1f, 0x90]))).toEqual({ kind: 'done', length: 10, host: '127.0.0.2', port: 8080 });
    const v6 = Buffer.concat([Buffer.from([5, 1, 0, 4]), Buffer.from('00000000000000000000ffff7f000001', 'hex'), Buffer.from([0, 80])]);
    expect(parseRequest(v6)).toMatchObject({ host: '127.0.0.1', port: 80 });
    const name = Buffer.from('example.com');
    expect(parseRequest(Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, Buffer.from([1, 187])]))).toMatchObject({ host: 'example.com', port: 443 });
    expect(parseRequest(Buffer.from([5, 1, 0, 3, 20, 0x61]))).toEqual({ kind: 'incomplete' });
    expect(parseRequest(Buffer.from([5, 2, 0, 1, 1, 2, 3, 4, 0, 80]))).toMatchObject({ kind: 'error', reply: 0x07 });
    expect(parseRequest(Buffer.from([5, 1, 0, 9, 1, 2, 3, 4, 0, 80]))).toMatchObject({ kind: 'error', reply: 0x08 });
    expect(parseRequest(Buffer.from([5, 1, 0, 3, 0, 0, 80]))).toMatchObject({ kind: 'error' });
    expect(parseRequest(Buffer.from([5, 1, 0, 1, 1, 2, 3, 4, 0, 0]))).toMatchObject({ kind: 'error' });
  });
});
