/**
 * JSON Schemas for editors and CI, generated from the zod schemas (the single source of truth)
 * and committed under `schema/`; a test fails when they drift. Regenerate: `npm run schema`.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { RequirementsFileSchema } from '../requirements/schema.js';
import { GatewayFileSchema, ServerFileSchema } from './schema.js';

/** The published schemas, by file name under `schema/`. */
export function jsonSchemas(): Record<string, unknown> {
  return {
    'server.schema.json': {
      ...z.toJSONSchema(ServerFileSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }),
      $id: 'urn:mcpgate:schema:server',
      title: 'mcpgate servers.d file (one upstream MCP server)',
    },
    'gateway.schema.json': {
      ...z.toJSONSchema(GatewayFileSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }),
      $id: 'urn:mcpgate:schema:gateway',
      title: 'mcpgate gateway.yaml',
    },
    'requirements.schema.json': {
      ...z.toJSONSchema(RequirementsFileSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }),
      $id: 'urn:mcpgate:schema:requirements',
      title: 'mcpgate managed requirements (requirements.yaml)',
    },
  };
}

/** Writes the schemas to `dir`. */
export function writeJsonSchemas(dir: string): void {
  for (const [name, schema] of Object.entries(jsonSchemas())) writeFileSync(join(dir, name), `${JSON.stringify(schema, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  writeJsonSchemas(resolve(import.meta.dirname, '../../schema'));
}
