/** The committed JSON Schemas are exactly what the zod schemas generate (regenerate: npm run schema). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemas } from '../../src/config/jsonSchema.js';
import { REPO } from '../support/gateway.js';

describe('published JSON Schemas', () => {
  for (const [name, schema] of Object.entries(jsonSchemas())) {
    it(`schema/${name} matches the zod schema`, async () => {
      const committed = JSON.parse(await readFile(join(REPO, 'schema', name), 'utf8'));
      expect(committed).toEqual(JSON.parse(JSON.stringify(schema)));
    });
  }

  it('describes the server file fields and forbids unknown keys', () => {
    const server = jsonSchemas()['server.schema.json'] as { properties: Record<string, unknown>; additionalProperties: unknown };
    expect(Object.keys(server.properties)).toEqual(expect.arrayContaining(['command', 'args', 'env', 'url', 'sse', 'headers', 'timeout', 'concurrency', 'prefix', 'tools']));
    expect(server.additionalProperties).toBe(false);
  });

  it('is referenced by the bundled examples', async () => {
    for (const file of ['everything.yaml', 'memory.yaml', 'notes.yaml']) {
      expect(await readFile(join(REPO, 'servers.d', file), 'utf8')).toContain('$schema=../schema/server.schema.json');
    }
  });
});
