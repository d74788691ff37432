/**
 * Runs telemetry work after the current event-loop turn, so a tool call's response is written
 * before its spans end and its log records are emitted: the SDK's batch processors serialise a
 * full batch synchronously inside `span.end()` / `logger.emit()`, which must not delay a call.
 */
export class AfterTurn {
  private queue: Array<() => void> = [];
  private scheduled = false;

  /** Queues `task` for the next `setImmediate`. */
  run(task: () => void): void {
    this.queue.push(task);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  /** Runs every queued task now (also used before shutdown). */
  readonly drain = (): void => {
    this.scheduled = false;
    const tasks = this.queue;
    this.queue = [];
    for (const task of tasks) {
      try {
        task();
      } catch {
        // Telemetry never breaks the gateway; the SDK reports its own failures through diag.
      }
    }
  };
}
