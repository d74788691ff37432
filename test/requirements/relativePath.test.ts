import { describe, expect, it } from 'vitest';
import { isRelativeCommand, isRelativePath, relativeWord } from '../../src/requirements/relativePath.js';

describe('which command-line words are paths relative to the working directory', () => {
  it.each([
    './x', '../x', 'x/y.js', 'dist/index.js', '.', '..', '.env', 'server.js', 'main.py', 'run.sh', 'SERVER.JS', 'app.mts',
    'bin\\x.exe', '~/server.js', '--config=./mcp.json', '--dir=.', 'script=../x', '-r./preload.js', '${env:HOME}/x.js', '@scope/tool.js',
  ])('%j is a relative path', (word) => {
    expect(isRelativePath(word)).toBe(true);
  });

  it.each([
    'stdio', '--verbose', '-y', '--port=3000', '--flag=value', 'tsx', '--import', '/opt/mcp/server.js', '/opt/../x',
    '--root=/srv/data', 'KEY=/abs/path', 'https://example.com/a/b.js', '@modelcontextprotocol/server-github',
    '@scope/name@1.2.3', 'github:user/repo', 'server-everything', '1.2.3', '${secret:token}', '--token=${secret:tok}', '',
  ])('%j is not a relative path', (word) => {
    expect(isRelativePath(word)).toBe(false);
  });

  it('a bare command is looked up on PATH, a ./command was made absolute at load: only a separator without a root is relative', () => {
    expect(isRelativeCommand('node')).toBe(false);
    expect(isRelativeCommand('server.js')).toBe(false);
    expect(isRelativeCommand('/usr/bin/node')).toBe(false);
    expect(isRelativeCommand('bin/x')).toBe(true);
    expect(isRelativeCommand('./x')).toBe(true);
  });

  it('names the first relative word of a command line by its field', () => {
    expect(relativeWord('node', ['--import', 'tsx', 'server.js', './other.js'])).toEqual({ field: 'args[2]', value: 'server.js' });
    expect(relativeWord('bin/x', ['a.js'])).toEqual({ field: 'command', value: 'bin/x' });
    expect(relativeWord('npx', ['-y', '@modelcontextprotocol/server-github'])).toBeUndefined();
    expect(relativeWord('node', ['/opt/mcp/server.js', 'stdio'])).toBeUndefined();
  });
});
