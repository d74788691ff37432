/**
 * The `telemetry` section of gateway.yaml: absent by default, normalised (durations in ms) when
 * present, and wrong values reported with file, line and field like every other section.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

const dirs: string[] = [];
async function configDir(gatewayYaml?: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpgate-config-'));
  dirs.push(dir);
  await mkdir(join(dir, 'servers.d'));
  if (gatewayYaml !== undefined) await writeFile(join(dir, 'gateway.yaml'), gatewayYaml);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('telemetry config', () => {
  it('is absent unless gateway.yaml has the section', async () => {
    expect((await loadConfig(await configDir())).telemetry).toBeUndefined();
    expect((await loadConfig(await configDir('audit:\n  arguments: hash\n'))).telemetry).toBeUndefined();
  });

  it('is normalised when present', async () => {
    const config = await loadConfig(
      await configDir(
        'telemetry:\n  endpoint: http://collector:4318\n  protocol: http/json\n  headers: { x-token: abc }\n  serviceName: gw\n  resourceAttributes: { team: ai }\n  signals: [traces, metrics]\n  exportInterval: 5s\n  exportTimeout: 500ms\n  maxQueueSize: 100\n',
      ),
    );
    expect(config.telemetry).toEqual({
      enabled: true,
      endpoint: 'http://collector:4318',
      protocol: 'http/json',
      headers: { 'x-token': 'abc' },
      serviceName: 'gw',
      resourceAttributes: { team: 'ai' },
      signals: ['traces', 'metrics'],
      exportIntervalMs: 5000,
      exportTimeoutMs: 500,
      maxQueueSize: 100,
    });
    expect((await loadConfig(await configDir('telemetry: {}\n'))).telemetry).toEqual({ enabled: true });
  });

  it('rejects an unsupported protocol and unknown keys with file, line and field', async () => {
    await expect(loadConfig(await configDir('telemetry:\n  protocol: grpc\n'))).rejects.toThrow(/gateway\.yaml:2: telemetry\.protocol/);
    await expect(loadConfig(await configDir('telemetry:\n  enabled: true\n  sampler: always\n'))).rejects.toThrow(/gateway\.yaml:\d+: telemetry.*sampler/);
  });
});
