/**
 * Command-line parsing for every command: Node's parseArgs, with its errors turned into one-line
 * usage errors that say what to type instead (`unknown option --confg (did you mean --config?)`).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import { nearest } from '../nearest.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs in strict mode with positionals; an unknown option is suggested from `suggest` (the
 * options of the command at hand), else from every option.
 */
export function parseCommandLine<T extends Options>(args: readonly string[], options: T, suggest: readonly string[] = Object.keys(options)) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageErrorOf(error, options, suggest);
  }
}

/** A parseArgs error as a UsageError (anything else unchanged). */
function usageErrorOf(error: unknown, options: Options, suggest: readonly string[]): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  // Node names the option between quotes: '--confg', '-x' or '--config <value>'.
  const named = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && named) {
    const typed = named.replace(/^-+/, '').split('=')[0] as string;
    const guess = nearest(typed, suggest) ?? nearest(typed, Object.keys(options));
    return new UsageError(`unknown option ${named.split('=')[0]}${guess ? ` (did you mean --${guess}?)` : ''}`);
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && named) {
    const name = named.replace(/^-+/, '');
    return new UsageError(options[name]?.type === 'boolean' ? `option ${named} takes no value` : `option ${named} needs a value`);
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return new UsageError(message.split('.')[0] ?? message);
  return error;
}
