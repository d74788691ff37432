/**
 * Whether a process still runs, by PID (signal 0): used to tell a lock or endpoint file left by a
 * process that is gone from one whose owner is alive.
 */

/** True while process `pid` exists (EPERM: it exists, owned by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
