/** What a failed upstream request becomes (src/upstream/requestError.ts), for a server a reload removed or replaced. Pure. */
import { describe, expect, it } from 'vitest';
import { ErrorCodes, GatewayError, toWireError } from '../../src/errors.js';
import { ConnectionClosedError } from '../../src/upstream/forwarder.js';
import { requestError, unavailableError, type FailedRequest } from '../../src/upstream/requestError.js';

const failed = (extra: Partial<FailedRequest> = {}): FailedRequest => ({
  server: 'echo',
  file: '/cfg/servers.d/echo.yaml',
  method: 'tools/call',
  params: { name: 'slow' },
  timeoutMs: 5000,
  cancelled: false,
  crashed: true,
  stderr: () => '',
  ...extra,
});

describe('requestError after a reload', () => {
  it('a call a reload cut off after its grace period is MCPGATE_UPSTREAM_REMOVED, not a crash', () => {
    const removed = requestError(new ConnectionClosedError(), failed({ retiredGraceMs: 5000 })) as GatewayError;
    expect(removed.code).toBe(ErrorCodes.UPSTREAM_REMOVED);
    expect(removed.message).toBe('upstream "echo" was removed or replaced by a configuration reload and tools/call "slow" did not finish within 5000 ms of it; the request was cancelled');
    expect(toWireError(removed)).toMatchObject({ code: -32010, data: { code: 'MCPGATE_UPSTREAM_REMOVED' } });
    expect((requestError(new ConnectionClosedError(), failed()) as GatewayError).code).toBe(ErrorCodes.UPSTREAM_CRASHED);
  });

  it('a request to a retired upstream is refused with MCPGATE_UPSTREAM_REMOVED; one that is not ready with MCPGATE_UPSTREAM_UNAVAILABLE', () => {
    expect(unavailableError('echo', 'ready', undefined, true).code).toBe(ErrorCodes.UPSTREAM_REMOVED);
    const unavailable = unavailableError('echo', 'restarting', 'connection closed', false);
    expect(unavailable.code).toBe(ErrorCodes.UPSTREAM_UNAVAILABLE);
    expect(unavailable.message).toBe('upstream "echo" is not available (state restarting: connection closed)');
    expect(toWireError(new GatewayError(ErrorCodes.ISOLATION_LIMIT, 'full')).code).toBe(-32010);
  });
});
