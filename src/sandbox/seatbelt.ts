/**
 * The macOS design: a Seatbelt (SBPL) profile for `sandbox-exec -p PROFILE COMMAND…` giving a
 * server the same bounds as the Linux sandbox — read everything but the protected list, write
 * only its allowWrite paths and a private temp dir, no network but the egress proxy's loopback
 * port, no Mach services that hand out the keychain, no Apple Events, no view of or signals to
 * other processes. Pure text; not wired into the launcher yet (it cannot be tested on Linux):
 * see docs/sandbox.md.
 */

/** What the profile allows and denies (absolute, symlink-resolved paths). */
export interface SeatbeltInput {
  /** Paths (and everything under them) the server cannot read or write. */
  readonly denyRead: readonly string[];
  /** The only paths it can write, besides `tempDir`. */
  readonly allowWrite: readonly string[];
  /** Its private temp dir (TMPDIR). */
  readonly tempDir: string;
  /** The egress proxy's loopback TCP port; absent: no network at all. */
  readonly proxyPort?: number;
}

/** Mach services through which a process reaches the keychain and the login session's secrets. */
const KEYCHAIN_SERVICES = ['com.apple.SecurityServer', 'com.apple.securityd', 'com.apple.security.agent', 'com.apple.secd', 'com.apple.security.syspolicy'];

/** An SBPL string literal. */
function quote(path: string): string {
  return `"${path.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const subpaths = (paths: readonly string[]) => paths.map((path) => `  (subpath ${quote(path)})`);

/**
 * The profile text. Later rules win in SBPL, so the denies of protected paths come after the
 * write allowances they must override.
 * @example seatbeltProfile({ denyRead: ['/Users/a/.ssh'], allowWrite: [], tempDir: '/tmp/x', proxyPort: 3128 })
 */
export function seatbeltProfile(input: SeatbeltInput): string {
  const lines = [
    '(version 1)',
    '(allow default)',
    ';; filesystem: everything readable but the protected paths; writable only allowWrite and the temp dir',
    '(deny file-write*)',
    '(allow file-write*',
    ...subpaths([input.tempDir, ...input.allowWrite]),
    '  (literal "/dev/null") (literal "/dev/zero") (literal "/dev/dtracehelper")',
    '  (regex #"^/dev/tty") (regex #"^/dev/fd/"))',
  ];
  if (input.denyRead.length > 0) lines.push('(deny file-read* file-write*', ...subpaths(input.denyRead).map((line, i, all) => (i === all.length - 1 ? `${line})` : line)));
  lines.push(
    ';; network: nothing but the egress proxy on loopback (no other local port, no Unix socket)',
    '(deny network*)',
    ...(input.proxyPort === undefined ? [] : [`(allow network-outbound (remote ip "localhost:${input.proxyPort}"))`]),
    ';; the keychain, Apple Events, other processes',
    `(deny mach-lookup ${KEYCHAIN_SERVICES.map((name) => `(global-name ${quote(name)})`).join(' ')})`,
    '(deny appleevent-send)',
    '(deny process-info* (target others))',
    '(deny signal (target others))',
  );
  return `${lines.join('\n')}\n`;
}
