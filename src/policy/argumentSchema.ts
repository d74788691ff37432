/**
 * Checks call arguments against the tool's `inputSchema` before a call is forwarded (or asked
 * about): a call whose arguments do not validate is denied (`decided_by: schema`) with the first
 * problem as its reason.
 *
 * The schema comes from the upstream and the arguments from the agent, and both are hostile:
 * - each schema is compiled once per tool definition (lazily, at its first call) and cached by
 *   the definition object; ajv keeps nothing of it afterwards;
 * - a schema larger than {@link MAX_SCHEMA_CHARS}, of an unsupported dialect, or that ajv cannot
 *   compile (a `$ref` it cannot resolve, a `pattern` RE2 cannot run) denies every call to the tool
 *   (fail closed) until the server sets `validateArguments: false`;
 * - `pattern`/`patternProperties` run on RE2 (re2js: linear time, no backtracking), and
 *   `uniqueItems` is checked in linear time, so an agent's string or array cannot stall the gateway;
 * - `format` is an annotation (JSON Schema 2020-12's default): not asserted.
 * Pure apart from compiling (ajv generates code from the schema, escaping every value).
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Ajv as AjvDraft7, ErrorObject, Options, ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';
import type { RE2JS as RE2JSType } from 're2js';
import type { Verdict } from './verdict.js';
import { canonicalJson } from '../canonicalJson.js';

// ajv and re2js are loaded at the first compile, not at start: most processes (CLI commands, a
// gateway whose tools are never called) never validate anything, and loading them costs ~50 ms.
const require = createRequire(import.meta.url);
let RE2: typeof RE2JSType | undefined;

/**
 * Largest inputSchema (as JSON text) mcpgate compiles. ajv's compile time grows faster than the
 * schema (about 10 ms for 50 properties, 0.5–2 s for 1 000 on a loaded 2-core machine), and it
 * runs on the event loop once per tool definition: this bounds what a hostile upstream can make
 * the gateway spend. Real tool schemas are a few KiB.
 */
export const MAX_SCHEMA_CHARS = 64 * 1024;

/** Why arguments are refused, or undefined when they validate. */
type ArgumentCheck = (args: Readonly<Record<string, unknown>>) => string | undefined;

type Dialect = 'draft-07' | '2019-09' | '2020-12';

/** A RegExp stand-in running on RE2; ajv calls it for `pattern`, `patternProperties`, `propertyNames`. */
function re2(pattern: string, flags: string): { test(input: string): boolean } {
  RE2 ??= (require('re2js') as { RE2JS: typeof RE2JSType }).RE2JS;
  const re = RE2.compile(pattern, flags.includes('i') ? RE2.CASE_INSENSITIVE : 0);
  return { test: (input) => re.test(input) };
}
re2.code = 're2js';

const OPTIONS: Options = {
  strict: false,
  // every error, flat: with `false` ajv nests one block per property, and a schema with a
  // thousand properties overflows the stack when the generated function is parsed
  allErrors: true,
  code: { regExp: re2 as never, optimize: false },
  validateSchema: false,
  // a schema's $id must not register it in the shared instance (a second tool could then
  // collide with it, or refer to it)
  addUsedSchema: false,
  validateFormats: false,
  logger: false,
};

const instances = new Map<Dialect, AjvDraft7>();

function ajvFor(dialect: Dialect): AjvDraft7 {
  let ajv = instances.get(dialect);
  if (!ajv) {
    const module = dialect === '2020-12' ? 'ajv/dist/2020.js' : dialect === '2019-09' ? 'ajv/dist/2019.js' : 'ajv';
    const exported = dialect === '2020-12' ? 'Ajv2020' : dialect === '2019-09' ? 'Ajv2019' : 'Ajv';
    const Ajv = (require(module) as Record<string, new (options: Options) => AjvDraft7>)[exported] as new (options: Options) => AjvDraft7;
    ajv = new Ajv(OPTIONS);
    // ajv's uniqueItems compares objects pairwise (quadratic in the array's length)
    ajv.removeKeyword('uniqueItems');
    ajv.addKeyword({ keyword: 'uniqueItems', type: 'array', schemaType: 'boolean', validate: (unique: boolean, data: unknown[]) => !unique || distinct(data) });
    instances.set(dialect, ajv);
  }
  return ajv;
}

const checks = new WeakMap<object, ArgumentCheck>();

/** Validates call arguments against one tool definition: a deny verdict, or undefined when they are valid. */
export type ArgumentValidator = (args: Readonly<Record<string, unknown>> | undefined) => Verdict | undefined;

/**
 * The validator of a tool definition's `inputSchema`, compiled at its first use (once per schema
 * object). `file` names the server file for the opt-out hint.
 * @example argumentValidator(tool, 'servers.d/fs.yaml')({ path: 1 })?.decidedBy // 'schema'
 */
export function argumentValidator(tool: Tool, file: string): ArgumentValidator {
  let check: ArgumentCheck | undefined;
  return (args) => {
    check ??= argumentCheck(tool.inputSchema, file);
    const problem = check(args ?? {});
    return problem === undefined ? undefined : schemaVerdict(problem);
  };
}

/** The check of one schema, compiled once per schema object. */
function argumentCheck(schema: object, file: string): ArgumentCheck {
  let check = checks.get(schema);
  if (!check) {
    check = compileCheck(schema, file);
    checks.set(schema, check);
  }
  return check;
}

function compileCheck(schema: object, file: string): ArgumentCheck {
  let validate: ValidateFunction;
  try {
    validate = compile(schema);
  } catch (error) {
    // Fail closed: arguments that cannot be checked are not forwarded.
    const refusal = `mcpgate cannot check arguments against this tool's inputSchema (${oneLine((error as Error).message)}), so calls are refused; set validateArguments: false in ${file} to forward them unchecked`;
    return () => refusal;
  }
  return (args) => {
    try {
      return validate(args) ? undefined : `the arguments do not match the tool's inputSchema: ${describeError(validate.errors?.[0])}`;
    } catch (error) {
      return `the arguments could not be checked against the tool's inputSchema (${oneLine((error as Error).message)})`;
    }
  };
}

function compile(schema: object): ValidateFunction {
  const size = JSON.stringify(schema).length;
  if (size > MAX_SCHEMA_CHARS) throw new Error(`it is ${size} characters of JSON, more than the ${MAX_SCHEMA_CHARS} mcpgate compiles`);
  const declared = (schema as { $schema?: unknown }).$schema;
  const dialect = dialectOf(declared);
  if (!dialect) throw new Error(`unsupported $schema ${JSON.stringify(String(declared)).slice(0, 120)}: mcpgate reads draft-06/07, 2019-09 and 2020-12`);
  try {
    return compileWith(dialect, schema);
  } catch (error) {
    // No $schema means 2020-12 in MCP, but many servers still write draft-07 shapes (`items: [...]`)
    if (declared === undefined) return compileWith('draft-07', schema);
    throw error;
  }
}

function compileWith(dialect: Dialect, schema: object): ValidateFunction {
  const ajv = ajvFor(dialect);
  try {
    return ajv.compile(schema);
  } finally {
    ajv.removeSchema(schema); // keep nothing of this schema in the shared instance
  }
}

function dialectOf(declared: unknown): Dialect | undefined {
  if (declared === undefined) return '2020-12';
  if (typeof declared !== 'string') return undefined;
  if (/json-schema\.org\/draft\/2020-12\/schema/.test(declared)) return '2020-12';
  if (/json-schema\.org\/draft\/2019-09\/schema/.test(declared)) return '2019-09';
  if (/json-schema\.org\/draft-0[67]\/schema/.test(declared)) return 'draft-07';
  return undefined;
}

function schemaVerdict(reason: string): Verdict {
  return Object.freeze({ decision: 'deny', decidedBy: 'schema', reason });
}

/** `/path must be string`, naming the unexpected or missing property. */
function describeError(error: ErrorObject | undefined): string {
  if (!error) return 'invalid';
  const at = error.instancePath ? clip(error.instancePath) : '(arguments)';
  const extra = error.keyword === 'additionalProperties' ? ` (${clip(JSON.stringify(String(error.params.additionalProperty)))})` : '';
  return `${at} ${error.message ?? error.keyword}${extra}`;
}

/** Agent-chosen names shown to the agent and the audit log: control characters escaped, length capped. */
function clip(text: string): string {
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > 120 ? `${escaped.slice(0, 120)}…` : escaped;
}

function oneLine(text: string): string {
  return clip(text.split('\n')[0] ?? text);
}

/** uniqueItems in linear time: items as canonical JSON (object keys sorted) in a Set. */
function distinct(items: readonly unknown[]): boolean {
  const seen = new Set<string>();
  for (const item of items) {
    const key = canonicalJson(item);
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

