/**
 * `${…}` variables in a source value, rewritten in mcpgate's reference syntax. Each client has
 * its own: Claude Desktop and Codex expand nothing (every `${` is literal), Claude Code expands
 * `${VAR}` and `${VAR:-default}`, Cursor and VS Code expand `${env:VAR}`, `${userHome}`,
 * `${workspaceFolder}`… and VS Code prompts for `${input:ID}`. Literal text is escaped (`$${`), so
 * nothing the source meant literally becomes a reference.
 */
import { basename, sep } from 'node:path';
import type { ServerDraft } from './model.js';

/** How a client reads `${…}` in its configuration. */
export type VariableSyntax = 'none' | 'claude-code' | 'cursor' | 'vscode';

/** What a value's variables need to be mapped. */
export interface VariableContext {
  readonly syntax: VariableSyntax;
  /** The folder `${workspaceFolder}` stands for (the parent of `.cursor/` or `.vscode/`), if known. */
  readonly workspaceFolder?: string;
  /** VS Code `inputs` by id: `${input:ID}` becomes `${secret:…}` the user sets. */
  readonly inputs?: ReadonlyMap<string, { readonly description?: string }>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VARIABLE = /\$\{([^}]*)\}/g;

/**
 * `value` in mcpgate syntax; what could not be mapped goes to `draft.disabledBecause` (the
 * server is then written disabled, the variable kept as literal text), remarks to `draft.notes`.
 * @example mapVariables('Bearer ${TOKEN}', 'headers.Authorization', { syntax: 'claude-code' }, draft) // 'Bearer ${env:TOKEN}'
 */
export function mapVariables(value: string, where: string, context: VariableContext, draft: ServerDraft): string {
  if (context.syntax === 'none') return escapeLiteral(value);
  let out = '';
  let last = 0;
  for (const match of value.matchAll(VARIABLE)) {
    const literal = value.slice(last, match.index);
    last = (match.index ?? 0) + match[0].length;
    const mapped = mapOne(match[1] ?? '', match[0], where, context, draft);
    if (mapped.reference && literal.endsWith('$')) {
      // "$" then "${env:X}" reads as the literal "${" in mcpgate's syntax: nothing can express it.
      draft.disabledBecause.push(`${where}: a literal "$" right before ${match[0]} cannot be written in mcpgate's reference syntax`);
      out += escapeLiteral(literal + match[0]);
      continue;
    }
    out += escapeLiteral(literal) + mapped.text;
  }
  return out + escapeLiteral(value.slice(last));
}

/** A literal string in mcpgate syntax: every `${` written `$${`. */
export function escapeLiteral(text: string): string {
  // A function, not a string: in a replacement string "$$" would mean a single "$".
  return text.replaceAll('${', () => '$${');
}

interface Mapped {
  readonly text: string;
  /** True when `text` is a reference (not literal text). */
  readonly reference: boolean;
}

function mapOne(body: string, whole: string, where: string, context: VariableContext, draft: ServerDraft): Mapped {
  const literal = (): Mapped => ({ text: escapeLiteral(whole), reference: false });
  const unmappable = (why: string): Mapped => {
    draft.disabledBecause.push(`${where}: ${whole} ${why}`);
    return literal();
  };
  if (context.syntax === 'claude-code') {
    // Claude Code expands ${VAR} and ${VAR:-default}; anything else stays as written.
    const [name, fallback] = splitDefault(body);
    if (!ENV_NAME.test(name)) return literal();
    if (fallback !== undefined) {
      // The default itself is not repeated: it may be a credential.
      draft.notes.push(`${where}: \${${name}:-…} has a default, mcpgate's \${env:${name}} has none: set ${name} where the gateway runs`);
    }
    return { text: `\${env:${name}}`, reference: true };
  }
  const colon = body.indexOf(':');
  const kind = colon === -1 ? body : body.slice(0, colon);
  const argument = colon === -1 ? '' : body.slice(colon + 1);
  switch (kind) {
    case 'env':
      return ENV_NAME.test(argument) ? { text: `\${env:${argument}}`, reference: true } : unmappable('is not an environment variable name');
    case 'userHome':
      return { text: '${env:HOME}', reference: true };
    case 'pathSeparator':
    case '/':
      return { text: sep, reference: false };
    case 'workspaceFolder':
    case 'workspaceFolderBasename': {
      const folder = context.workspaceFolder;
      if (folder === undefined) return unmappable('has no meaning outside the editor: this file is not inside a project folder');
      draft.notes.push(`${whole} is ${folder} (the folder holding this file's .cursor/ or .vscode/)`);
      return { text: escapeLiteral(kind === 'workspaceFolder' ? folder : basename(folder)), reference: false };
    }
    case 'input': {
      if (context.syntax !== 'vscode') break;
      const name = secretNameOfInput(argument);
      const input = context.inputs?.get(argument);
      const why = `VS Code input "${argument}"${input?.description ? `: ${input.description}` : ''}`;
      if (!draft.needsSecrets.some((s) => s.name === name)) draft.needsSecrets.push({ name, why });
      return { text: `\${secret:${name}}`, reference: true };
    }
  }
  return unmappable(`is a ${context.syntax === 'vscode' ? 'VS Code' : 'Cursor'} variable with no mcpgate equivalent`);
}

function splitDefault(body: string): [string, string | undefined] {
  const at = body.indexOf(':-');
  return at === -1 ? [body, undefined] : [body.slice(0, at), body.slice(at + 2)];
}

/** The keychain name a VS Code input is stored under: its id, made a valid secret name. */
function secretNameOfInput(id: string): string {
  const name = id.replace(/[^A-Za-z0-9._@-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 128);
  return name === '' ? 'vscode-input' : name;
}
