/** Each client's `${…}` syntax rewritten in mcpgate's: references, literal escapes, and what cannot be mapped. */
import { describe, expect, it } from 'vitest';
import { findReferences } from '../../src/config/references.js';
import { newDraft } from '../../src/import/model.js';
import { mapVariables } from '../../src/import/variables.js';

describe('mapVariables', () => {
  it('Claude Desktop and Codex expand nothing: every ${ stays literal', () => {
    const draft = newDraft();
    const out = mapVariables('a ${HOME} b $${x}', 'env.X', { syntax: 'none' }, draft);
    expect(out).toBe('a $${HOME} b $$${x}');
    // mcpgate reads it back as the very text the client used
    expect(findReferences(out)).toEqual([]);
    expect(draft).toEqual(newDraft());
  });

  it('Claude Code: ${VAR} and ${VAR:-default} become ${env:VAR}; the default is noted, never repeated', () => {
    const draft = newDraft();
    expect(mapVariables('Bearer ${TOKEN}', 'headers.Authorization', { syntax: 'claude-code' }, draft)).toBe('Bearer ${env:TOKEN}');
    expect(mapVariables('${KEY:-sk-dev-123}', 'env.KEY', { syntax: 'claude-code' }, draft)).toBe('${env:KEY}');
    expect(draft.notes.join()).toMatch(/env\.KEY: \$\{KEY:-…\} has a default/);
    expect(draft.notes.join()).not.toContain('sk-dev-123');
    expect(mapVariables('${not a var}', 'args[0]', { syntax: 'claude-code' }, draft)).toBe('$${not a var}');
  });

  it('Cursor and VS Code: ${env:X}, ${userHome}, ${workspaceFolder}, ${/}', () => {
    const draft = newDraft();
    const context = { syntax: 'cursor' as const, workspaceFolder: '/work/app' };
    expect(mapVariables('${workspaceFolder}${/}x ${env:A} ${userHome}/c', 'args[0]', context, draft)).toBe('/work/app/x ${env:A} ${env:HOME}/c');
    expect(draft.notes).toEqual(["${workspaceFolder} is /work/app (the folder holding this file's .cursor/ or .vscode/)"]);
  });

  it('VS Code ${input:ID} becomes a secret the user sets', () => {
    const draft = newDraft();
    const inputs = new Map([['api key', { description: 'Perplexity API Key' }]]);
    expect(mapVariables('${input:api key}', 'env.K', { syntax: 'vscode', inputs }, draft)).toBe('${secret:api-key}');
    expect(draft.needsSecrets).toEqual([{ name: 'api-key', why: 'VS Code input "api key": Perplexity API Key' }]);
  });

  it('what has no equivalent disables the server and stays visible as literal text', () => {
    const draft = newDraft();
    expect(mapVariables('${command:pick}', 'args[0]', { syntax: 'vscode' }, draft)).toBe('$${command:pick}');
    expect(mapVariables('${workspaceFolder}/x', 'cwd', { syntax: 'vscode' }, draft)).toBe('$${workspaceFolder}/x');
    expect(mapVariables('${input:x}', 'env.X', { syntax: 'cursor' }, draft)).toBe('$${input:x}');
    expect(draft.disabledBecause).toHaveLength(3);
  });

  it('a literal $ right before a variable cannot be written, so it disables the server', () => {
    const draft = newDraft();
    expect(mapVariables('cost$${PRICE}', 'args[0]', { syntax: 'claude-code' }, draft)).toBe('cost$$${PRICE}');
    expect(draft.disabledBecause[0]).toMatch(/literal "\$" right before/);
  });
});
