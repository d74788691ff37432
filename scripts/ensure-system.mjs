#!/usr/bin/env node
/**
 * `npm test`'s first step (package.json `pretest`): the Debian packages the test suite needs,
 * checked before anything is built or run. Each package is proven present by a binary on the PATH
 * or a shared library the dynamic linker knows. Missing ones are installed with apt-get when this
 * runs as root on a system with apt-get; otherwise it stops at once, before any test, with the
 * exact command to run. A suite never fails or skips tests for want of a package.
 *
 * To add a package a test needs: one entry in SYSTEM_PACKAGES (and nothing else: .ci/run runs
 * `npm test`). MCPGATE_NO_APT=1 never installs (only checks and says what to run).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** What the suite needs: the Debian package, what proves it present, and which tests need it. */
export const SYSTEM_PACKAGES = [
  { package: 'dbus', binaries: ['dbus-daemon', 'dbus-send'], for: 'keychain tests: a private D-Bus session bus (test/support/keyring.ts)' },
  { package: 'gnome-keyring', binaries: ['gnome-keyring-daemon'], for: 'keychain tests: the Secret Service on that bus' },
  { package: 'libsecret-1-0', libraries: ['libsecret-1.so.0'], for: "keychain tests: what @github/keytar's prebuilt addon links against" },
  { package: 'chromium', binaries: ['chromium'], for: 'the audit HTML report opened headless (test/e2e/auditCli.test.ts) and the web console driven through playwright-core (test/e2e/console.test.ts)' },
  { package: 'util-linux', binaries: ['unshare'], for: 'a read-only config mount for the container tests (test/e2e/container.test.ts)' },
  { package: 'bsdutils', binaries: ['script'], for: 'a terminal for the log format test (test/telemetry/logger.test.ts)' },
  { package: 'python3', binaries: ['python3'], for: 'a real Python upstream (test/e2e/requirementsEnv.test.ts: planted .pth / sitecustomize)' },
  { package: 'redis-server', binaries: ['redis-server'], for: 'the request-state replay store shared by replicas (test/protocol/redisReplayGuard.test.ts, test/e2e/modernApproval.test.ts)' },
  { package: 'bubblewrap', binaries: ['bwrap'], for: 'the sandbox of stdio upstreams (test/e2e/sandbox*.test.ts; every e2e test runs its upstreams in it)' },
];

/** An executable named `name` on the PATH `path`. */
function onPath(name, path) {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Shared libraries the dynamic linker knows (ldconfig's cache, else the usual directories). */
function knownLibraries() {
  try {
    return execFileSync('ldconfig', ['-p'], { encoding: 'utf8', env: { PATH: `/sbin:/usr/sbin:${process.env.PATH ?? ''}` } });
  } catch {
    const dirs = ['/lib', '/usr/lib', '/lib64', '/usr/lib64', '/usr/local/lib'];
    const names = [];
    for (const dir of dirs) {
      for (const entry of safeList(dir)) {
        names.push(entry);
        if (entry.endsWith('-linux-gnu')) names.push(...safeList(join(dir, entry)));
      }
    }
    return names.join('\n');
  }
}

function safeList(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The packages of `list` not proven present: each with what is missing. */
export function missingPackages(list = SYSTEM_PACKAGES, path = process.env.PATH ?? '') {
  let libraries;
  const missing = [];
  for (const entry of list) {
    const absent = [
      ...(entry.binaries ?? []).filter((binary) => !onPath(binary, path)),
      ...(entry.libraries ?? []).filter((library) => !(libraries ??= knownLibraries()).includes(library)),
    ];
    if (absent.length > 0) missing.push({ ...entry, absent });
  }
  return missing;
}

/** The command that installs `packages`. */
export function installCommand(packages) {
  return `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

function describe(missing) {
  return missing.map((m) => `  ${m.package} (no ${m.absent.join(', ')}): ${m.for}`).join('\n');
}

/** Checks `list` (installing what is missing when it can); returns the exit code. */
export function ensureSystem(list = SYSTEM_PACKAGES) {
  const missing = missingPackages(list);
  if (missing.length === 0) return 0;
  const packages = [...new Set(missing.map((m) => m.package))];
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const canInstall = root && process.env.MCPGATE_NO_APT !== '1' && onPath('apt-get', process.env.PATH ?? '');
  if (!canInstall) {
    const sudo = root ? '' : 'sudo ';
    process.stderr.write(
      `npm test needs Debian packages that are not installed:\n${describe(missing)}\n` +
        `Install them, then run npm test again:\n  ${sudo}${installCommand(packages)}\n` +
        (root ? '' : '(run as root, npm test installs them itself)\n'),
    );
    return 1;
  }
  process.stderr.write(`npm test: installing the Debian packages the tests need:\n${describe(missing)}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 2, 2], env });
  const install = update.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: ['ignore', 2, 2], env }) : update;
  const still = install.status === 0 ? missingPackages(list) : missing;
  if (still.length > 0) {
    process.stderr.write(`npm test: could not install them (apt-get ${install.status === 0 ? 'ran, but these are still missing' : `exited with ${install.status}`}):\n${describe(still)}\nRun yourself, then npm test again:\n  ${installCommand([...new Set(still.map((m) => m.package))])}\n`);
    return 1;
  }
  process.stderr.write('npm test: installed.\n');
  return 0;
}

/**
 * Why the suite cannot run from `repo` (undefined when it can): the e2e tests start their upstream
 * servers from this checkout inside the sandbox, which gives every upstream private, empty
 * /tmp and /var/tmp (docs/sandbox.md), so a checkout under one of them is invisible to its servers.
 */
export function checkoutProblem(repo, privateDirs) {
  const under = privateDirs.find((dir) => repo === dir || repo.startsWith(dir.endsWith(sep) ? dir : dir + sep));
  if (under === undefined) return undefined;
  return (
    `npm test: this checkout (${repo}) is under ${under}, which the sandbox replaces with a private directory for every upstream server, so the test servers started from it would not find their files.\n` +
    `Clone it elsewhere, then run npm test there, e.g.:\n  git clone ${repo} ~/mcpgate && cd ~/mcpgate && npm install && npm test\n`
  );
}

/** The real paths of the directories the sandbox makes private (as src/sandbox/launcher.ts does). */
function privateDirs() {
  const dirs = ['/tmp', '/var/tmp', ...(process.env.TMPDIR ? [process.env.TMPDIR] : [])];
  return dirs.flatMap((dir) => {
    try {
      return [realpathSync(dir)];
    } catch {
      return [];
    }
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const problem = checkoutProblem(realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..')), privateDirs());
  if (problem !== undefined) {
    process.stderr.write(problem);
    process.exitCode = 1;
  } else {
    process.exitCode = ensureSystem();
  }
}
