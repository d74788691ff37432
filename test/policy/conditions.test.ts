/**
 * Argument conditions against the values an attacker sends: deny and ask conditions fail closed
 * (a value they cannot judge matches, and the reason says so), allow conditions are strict, and
 * the path form matches what an upstream would make of a path. Pure: no processes.
 */
import { describe, expect, it } from 'vitest';
import type { ArgConditionInput } from '../../src/config/schema.js';
import { compileCondition, conditionIssues, evaluateConditions } from '../../src/policy/conditions.js';
import { compilePathPattern, readPath, serverPathContext, type PathContext } from '../../src/policy/pathGlob.js';

const CONTEXT: PathContext = { cwd: '/srv/app', home: '/home/me' };

/** deny/ask reading (fail closed) and allow reading (strict) of one condition on `args`. */
function judge(key: string, condition: ArgConditionInput, args: Record<string, unknown>, context: PathContext = CONTEXT) {
  const compiled = [compileCondition(key, condition)];
  return { deny: evaluateConditions(compiled, args, false, context), allow: evaluateConditions(compiled, args, true, context) };
}

describe('text conditions (the plain form)', () => {
  it('matches a string by glob and by /regex/', () => {
    expect(judge('branch', 'main', { branch: 'main' })).toEqual({ deny: true, allow: true });
    expect(judge('branch', 'main', { branch: 'dev' })).toEqual({ deny: false, allow: false });
    expect(judge('command', '/\\brm\\s+-rf\\b/', { command: 'sudo rm -rf /' }).deny).toBe(true);
  });

  it('arrays: any element (deny) or every element (allow) must match', () => {
    expect(judge('command', '/\\brm\\b/', { command: ['rm', '-rf', '/'] }).deny).toBe(true);
    // deny/ask also read an argv as the command line it spells
    expect(judge('command', '/\\brm\\s+-rf\\b/', { command: ['rm', '-rf', '/'] })).toEqual({ deny: true, allow: false });
    expect(judge('command', '/\\brm\\s+-rf\\b/', { command: [['sudo'], ['rm', '-rf'], '/'] }).deny).toBe(true);
    expect(judge('branch', 'main', { branch: ['dev', 'main'] })).toEqual({ deny: true, allow: false });
    expect(judge('branch', 'feature/*', { branch: ['feature/a', 'feature/b'] }).allow).toBe(true);
    expect(judge('branch', 'main', { branch: [] })).toEqual({ deny: false, allow: false });
  });

  it('nested arrays are flattened; arrays nested deeper than 16 levels are not judged', () => {
    expect(judge('command', '/rm/', { command: [[['ls'], ['rm -rf /']]] }).deny).toBe(true);
    let deep: unknown = 'ls';
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(judge('command', '/rm/', { command: deep }).deny).toMatch(/nests arrays deeper than 16 levels/);
  });

  it('an object or an array element that is an object fails closed for deny, never holds for allow', () => {
    expect(judge('branch', 'main', { branch: { name: 'main' } })).toEqual({ deny: 'branch is an object, not a string', allow: false });
    expect(judge('branch', 'main', { branch: ['dev', { toString: 'main' }] })).toEqual({ deny: 'branch[1] is an object, not a string', allow: false });
  });

  it('missing and null values are absent arguments: no rule holds on them', () => {
    expect(judge('branch', 'main', {})).toEqual({ deny: false, allow: false });
    expect(judge('branch', 'main', { branch: null })).toEqual({ deny: false, allow: false });
    expect(judge('options.force', 'true', { options: null })).toEqual({ deny: false, allow: false });
  });

  it('a non-object where the path goes on fails closed', () => {
    expect(judge('options.force', 'true', { options: 'force' }).deny).toBe('options is a string, not an object');
    expect(judge('options.force', 'true', { options: 1 }).deny).toBe('options is a number (1), not an object');
  });

  it('a key on an array applies to every element; an index picks one', () => {
    const files = [{ path: '/tmp/a' }, { path: '/etc/passwd' }];
    expect(judge('files.path', '/etc/*', { files }).deny).toBe(true);
    expect(judge('files.path', '/tmp/*', { files }).allow).toBe(false);
    expect(judge('files.0.path', '/etc/*', { files }).deny).toBe(false);
    expect(judge('files.1.path', '/etc/*', { files }).deny).toBe(true);
    expect(judge('files.path', '/etc/*', { files: [{ path: '/tmp/a' }, { path: 7 }, 'x'] }).deny).toBe('files[2] is a string, not an object');
  });

  it('`true`/`false` expect a boolean: 1, "yes", [true] fail closed or match', () => {
    expect(judge('force', 'true', { force: true })).toEqual({ deny: true, allow: true });
    expect(judge('force', 'true', { force: 'true' }).deny).toBe(true);
    expect(judge('force', 'true', { force: false }).deny).toBe(false);
    expect(judge('force', 'true', { force: 'false' }).deny).toBe(false);
    expect(judge('force', 'true', { force: [true] }).deny).toBe(true);
    expect(judge('force', 'true', { force: 1 })).toEqual({ deny: 'force is a number (1) where the rule expects true', allow: false });
    expect(judge('force', 'true', { force: 'yes' }).deny).toMatch(/a string other than "true" or "false"/);
    expect(judge('force', 'true', { force: 'TRUE' }).deny).toMatch(/treated|string other/);
  });

  it('numbers compare as numbers; another spelling or type of a number fails closed', () => {
    expect(judge('replicas', '0', { replicas: 0 })).toEqual({ deny: true, allow: true });
    expect(judge('replicas', '1.0', { replicas: 1 }).deny).toBe(true);
    expect(judge('replicas', '0', { replicas: 3 })).toEqual({ deny: false, allow: false });
    expect(judge('replicas', '0', { replicas: '00' })).toEqual({ deny: expect.stringMatching(/string other than "0"/), allow: false });
    expect(judge('replicas', '0', { replicas: false }).deny).toMatch(/a boolean where the rule expects the number 0/);
    // a glob on numbers compares their JSON text, as before
    expect(judge('limit', '1??', { limit: 150 }).deny).toBe(true);
  });
});

describe('path conditions (the path form)', () => {
  const etc = { path: '/etc/**' };

  it.each([
    ['/etc/passwd'],
    ['//etc/passwd'],
    ['/./etc/passwd'],
    ['/tmp/../etc/passwd'],
    ['/etc/ssh/../passwd'],
    ['/etc//ssh///sshd_config'],
    ['/etc/'],
    ['/etc'],
    ['../../../../etc/passwd'],
    ['./../../../../../etc/shadow'],
    ['\\etc\\passwd'],
    ['/tmp\\..\\etc\\passwd'],
    ['／etc／passwd'],
    ['/etc／passwd'],
    ['~/../../etc/passwd'],
  ])('a deny on /etc/** matches %j', (value) => {
    expect(judge('path', etc, { path: value }).deny).toBe(true);
  });

  it.each([['/etc2/passwd'], ['/tmp/etc/passwd'], ['etc/passwd'], ['/home/me/etc']])('…and not %j', (value) => {
    expect(judge('path', etc, { path: value }).deny).toBe(false);
  });

  it('relative values resolve against root, else the server cwd', () => {
    expect(judge('path', { path: '/srv/app/**' }, { path: 'src/index.ts' }).allow).toBe(true);
    expect(judge('path', { path: '/srv/app/**' }, { path: '../other/x' }).allow).toBe(false);
    expect(judge('path', { path: '/srv/app/**' }, { path: '../app/x' }).allow).toBe(true);
    expect(judge('path', { path: '/etc/**', root: '/' }, { path: 'etc/passwd' }).deny).toBe(true);
    // a relative pattern is relative to the same root
    expect(judge('path', { path: '.git/**' }, { path: '/srv/app/.git/config' }).deny).toBe(true);
    expect(judge('path', { path: '.git/**' }, { path: 'sub/../.git/hooks/pre-commit' }).deny).toBe(true);
  });

  it('without a known root or home, relative and ~ values fail closed (deny) and never allow', () => {
    expect(judge('path', etc, { path: 'x' }, {})).toEqual({ deny: 'path is a relative path and no root is known for this server (set root)', allow: false });
    expect(judge('path', etc, { path: '~/x' }, { cwd: '/' }).deny).toMatch(/home directory of this server is not known/);
    expect(judge('path', etc, { path: '~root/.ssh' }).deny).toMatch(/another user's home/);
    expect(judge('path', { path: '/home/me/**' }, { path: '~/notes.txt' }).allow).toBe(true);
  });

  it('NUL and other control characters fail closed', () => {
    for (const value of ['/tmp/x\u0000/../../etc/passwd', '/home/me/a\nb', '/srv/app/\u007f']) {
      expect(judge('path', { path: '/srv/app/**' }, { path: value }), JSON.stringify(value)).toEqual({
        deny: 'path holds a control character (NUL, newline…)',
        allow: false,
      });
    }
  });

  it('non-string values: numbers, booleans and objects fail closed; arrays are per element', () => {
    expect(judge('path', etc, { path: 5 }).deny).toBe('path is a number (5), not a path');
    expect(judge('path', etc, { path: true }).deny).toBe('path is a boolean (true), not a path');
    expect(judge('path', etc, { path: { p: '/etc/passwd' } }).deny).toBe('path is an object, not a path');
    expect(judge('path', etc, { path: ['/tmp/a', '/etc/passwd'] }).deny).toBe(true);
    expect(judge('path', etc, { path: ['/tmp/a', ['/tmp/b', '/tmp/../etc/x']] }).deny).toBe(true);
    expect(judge('path', etc, { path: ['/tmp/a', null] }).deny).toBe('path[1] is null, not a path');
    expect(judge('path', { path: '/srv/app/**' }, { path: ['a', 'b/c'] }).allow).toBe(true);
    expect(judge('path', { path: '/srv/app/**' }, { path: ['a', '/etc/x'] }).allow).toBe(false);
  });

  it('allow needs every reading to match: a backslash that climbs out is refused', () => {
    expect(judge('path', { path: '/srv/app/**' }, { path: 'docs\\readme.md' }).allow).toBe(true);
    expect(judge('path', { path: '/srv/app/**' }, { path: '..\\..\\etc\\passwd' }).allow).toBe(false);
  });

  it('* stays within a segment, ** crosses them and matches dot files', () => {
    expect(judge('path', { path: '/srv/*/config' }, { path: '/srv/a/config' }).deny).toBe(true);
    expect(judge('path', { path: '/srv/*/config' }, { path: '/srv/a/b/config' }).deny).toBe(false);
    expect(judge('path', { path: '**/.ssh/**' }, { path: '/home/me/.ssh/id_rsa' }).deny).toBe(true);
    expect(judge('path', { path: '**/*.pem' }, { path: '/srv/app/keys/.hidden.pem' }).deny).toBe(true);
  });

  it('ignoreCase compares without case', () => {
    expect(judge('path', { path: '/etc/**', ignoreCase: true }, { path: '/ETC/Passwd' }).deny).toBe(true);
    expect(judge('path', { path: '/etc/**', ignoreCase: false }, { path: '/ETC/Passwd' }).deny).toBe(false);
  });

  it('matches a value of 100 000 segments against several ** in linear-ish time', () => {
    const pattern = compilePathPattern('/**/a/**/b/**/c', false);
    const value = Array.from({ length: 100_000 }, () => 'x');
    const started = performance.now();
    expect(pattern.matches(value)).toBe(false);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('reads values the way an upstream could', () => {
    expect(readPath('/tmp/../etc//passwd', '/srv', {})).toEqual({ readings: [['etc', 'passwd']] });
    expect(readPath('a\\b', '/srv', {})).toEqual({ readings: [['srv', 'a\\b'], ['srv', 'a', 'b']] });
  });

  it('takes cwd and HOME from a stdio server (its own HOME when literal), nothing from a remote one', () => {
    const stdio = (env: Record<string, string>) => ({ target: { kind: 'stdio', command: 'x', args: [], env, cwd: '/srv/app' } }) as never;
    expect(serverPathContext(stdio({}), '/home/gw')).toEqual({ cwd: '/srv/app', home: '/home/gw' });
    expect(serverPathContext(stdio({ HOME: '/home/svc' }), '/home/gw')).toEqual({ cwd: '/srv/app', home: '/home/svc' });
    expect(serverPathContext(stdio({ HOME: '${env:X}' }), '/home/gw')).toEqual({ cwd: '/srv/app' });
    expect(serverPathContext({ target: { kind: 'http', url: 'https://x', headers: {} } } as never)).toEqual({});
  });
});

describe('config checks of conditions', () => {
  it('warns about a path-like argument under the plain form, suggesting the path form', () => {
    for (const key of ['path', 'file', 'dir', 'target_path', 'options.sourceFile', 'files.0.path', 'destination']) {
      expect(conditionIssues(key, '/etc/*'), key).toEqual([{ severity: 'warning', message: expect.stringContaining('write { path: "/etc/**" }') }]);
    }
    expect(conditionIssues('branch', 'main')).toEqual([]);
    expect(conditionIssues('path', { path: '/etc/**' })).toEqual([]);
  });

  it('rejects a relative root, a ~ pattern and a broken regex', () => {
    expect(conditionIssues('path', { path: '/etc/**', root: 'project' })[0]?.severity).toBe('error');
    expect(conditionIssues('path', { path: '~/.ssh/**' })[0]?.message).toMatch(/do not expand ~/);
    expect(conditionIssues('command', '/[a-/')[0]?.severity).toBe('error');
  });
});
