import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src/errors.js';
import { checkVersion, missingCapability, passesLogLevel, readEnvelope } from '../../src/protocol/envelope.js';
import { hasModernClaim, isModernHeaderVersion } from '../../src/protocol/revisions.js';

const V = 'io.modelcontextprotocol/protocolVersion';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';
const INFO = 'io.modelcontextprotocol/clientInfo';

function refusal(fn: () => unknown): { rpc: number; status: number; message: string; data: unknown } | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    return { rpc: error.rpcCode, status: error.httpStatus, message: error.message, data: error.data };
  }
}

describe('the modern claim', () => {
  it.each([
    [{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { [V]: '2026-07-28' } } }, true],
    [{ method: 'tools/list', params: { _meta: { [V]: 42 } } }, true], // claimed: a malformed version is a modern error, not legacy
    [{ method: 'tools/list', params: { _meta: { [CAPS]: {} } } }, false],
    [{ method: 'initialize', params: { protocolVersion: '2025-11-25' } }, false],
    [{ method: 'tools/list' }, false],
    [[{ method: 'tools/list', params: { _meta: { [V]: '2026-07-28' } } }], false], // a batch is legacy
    [null, false],
    ['text', false],
  ])('%j → %s', (message, expected) => {
    expect(hasModernClaim(message)).toBe(expected);
  });

  it('reads a modern MCP-Protocol-Version header as anything that is not a legacy revision', () => {
    expect(isModernHeaderVersion('2026-07-28')).toBe(true);
    expect(isModernHeaderVersion('2027-01-01')).toBe(true);
    expect(isModernHeaderVersion('2025-11-25')).toBe(false);
    expect(isModernHeaderVersion('2024-11-05')).toBe(false);
    expect(isModernHeaderVersion(undefined)).toBe(false);
  });
});

describe('readEnvelope', () => {
  it('reads version, capabilities, client info, log level and the session id', () => {
    const envelope = readEnvelope({ _meta: { [V]: '2026-07-28', [CAPS]: { elicitation: {} }, [INFO]: { name: 'c', version: '1' }, 'io.modelcontextprotocol/logLevel': 'info', 'dev.mcpgate/session': 'abcdefghijklmnop' } });
    expect(envelope).toEqual({ protocolVersion: '2026-07-28', clientCapabilities: { elicitation: {} }, clientInfo: { name: 'c', version: '1' }, logLevel: 'info', session: 'abcdefghijklmnop' });
  });

  it('serves a request without clientInfo (a SHOULD)', () => {
    expect(readEnvelope({ _meta: { [V]: '2026-07-28', [CAPS]: {} } }).clientInfo).toEqual({});
  });

  it.each([
    ['no params', undefined, /_meta is missing/],
    ['no _meta', {}, /_meta is missing/],
    ['_meta not an object', { _meta: 'x' }, /_meta is missing/],
    ['no protocolVersion', { _meta: { [CAPS]: {} } }, /protocolVersion/],
    ['protocolVersion not a string', { _meta: { [V]: 7, [CAPS]: {} } }, /protocolVersion/],
    ['no clientCapabilities', { _meta: { [V]: '2026-07-28' } }, /clientCapabilities/],
    ['clientCapabilities an array', { _meta: { [V]: '2026-07-28', [CAPS]: [] } }, /clientCapabilities/],
    ['clientInfo without a name', { _meta: { [V]: '2026-07-28', [CAPS]: {}, [INFO]: { version: '1' } } }, /clientInfo/],
    ['an unknown log level', { _meta: { [V]: '2026-07-28', [CAPS]: {}, 'io.modelcontextprotocol/logLevel': 'loud' } }, /logLevel/],
    ['a short session id', { _meta: { [V]: '2026-07-28', [CAPS]: {}, 'dev.mcpgate/session': 'short' } }, /dev.mcpgate\/session/],
  ])('refuses %s with 400 -32602', (_name, params, message) => {
    const r = refusal(() => readEnvelope(params));
    expect(r).toMatchObject({ rpc: -32602, status: 400 });
    expect(r?.message).toMatch(message);
  });

  it('caps what a client says about itself', () => {
    const envelope = readEnvelope({ _meta: { [V]: '2026-07-28', [CAPS]: {}, [INFO]: { name: 'n'.repeat(10_000), version: '1' } } });
    expect(envelope.clientInfo.name?.length).toBeLessThan(300);
  });
});

describe('versions, log levels, capabilities', () => {
  it('accepts 2026-07-28 and answers anything else with 400 -32022 listing what it speaks', () => {
    expect(refusal(() => checkVersion('2026-07-28'))).toBeUndefined();
    expect(refusal(() => checkVersion('v999.0.0'))).toMatchObject({ rpc: -32022, status: 400, data: { supported: ['2026-07-28'], requested: 'v999.0.0' } });
    expect(refusal(() => checkVersion('2025-11-25'))).toMatchObject({ rpc: -32022 });
  });

  it('lets no log message through without a level, and filters by severity with one', () => {
    expect(passesLogLevel(undefined, 'emergency')).toBe(false);
    expect(passesLogLevel('warning', 'info')).toBe(false);
    expect(passesLogLevel('warning', 'error')).toBe(true);
    expect(passesLogLevel('debug', 'debug')).toBe(true);
  });

  it('names a missing capability as a ClientCapabilities object', () => {
    const error = missingCapability('sampling', 'tools/call x');
    expect(error).toMatchObject({ rpcCode: -32021, httpStatus: 400, data: { requiredCapabilities: { sampling: {} } } });
  });
});
