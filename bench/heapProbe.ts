/**
 * Reads a process's JavaScript heap after a full garbage collection, through its inspector (the
 * process started with `--inspect=127.0.0.1:0`): `HeapProfiler.collectGarbage`, then
 * `process.memoryUsage().heapUsed`. RSS cannot tell a leak from garbage V8 has not collected yet
 * (it grows the heap before a full collection, and keeps pages it freed); the heap after a forced
 * collection can. The WebSocket client is undici's (devDependency; Node 20 has no global one).
 */
import { WebSocket } from 'undici';

/** The inspector WebSocket URL a process printed on stderr (`Debugger listening on ws://…`). */
export function inspectorUrl(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
}

/** Heap used (MiB) by the process behind `url` after a forced full collection. */
export async function heapAfterGcMiB(url: string): Promise<number> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`cannot reach the inspector at ${url}`)), { once: true });
  });
  let id = 0;
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<{ result?: { result?: { value?: unknown } } }>((resolve) => {
      const mine = ++id;
      const onMessage = (event: { data: unknown }) => {
        const message = JSON.parse(String(event.data)) as { id?: number };
        if (message.id !== mine) return;
        socket.removeEventListener('message', onMessage);
        resolve(message as { result?: { result?: { value?: unknown } } });
      };
      socket.addEventListener('message', onMessage);
      socket.send(JSON.stringify({ id: mine, method, params }));
    });
  try {
    await send('HeapProfiler.collectGarbage');
    const answer = await send('Runtime.evaluate', { expression: 'process.memoryUsage().heapUsed', returnByValue: true });
    return Number(answer.result?.result?.value) / (1024 * 1024);
  } finally {
    socket.close();
  }
}
