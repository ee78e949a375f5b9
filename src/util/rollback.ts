// A stack of undo steps for multi-step operations: run in reverse on failure. A failing undo step is
// reported to the caller's warn function and never replaces the original error.

export class Rollback {
  private readonly steps: { what: string; undo: () => void }[] = [];

  /** Registers an undo step, named for the warning if it fails. */
  push(what: string, undo: () => void): void {
    this.steps.push({ what, undo });
  }

  /** Forgets every step: the operation succeeded. */
  commit(): void {
    this.steps.length = 0;
  }

  /** Runs the steps newest first; returns the messages of those that failed. */
  run(warn: (msg: string) => void): string[] {
    const failed: string[] = [];
    while (this.steps.length > 0) {
      const { what, undo } = this.steps.pop()!;
      try {
        undo();
      } catch (e) {
        const msg = `rollback ${what}: ${(e as Error).message}`;
        failed.push(msg);
        warn(msg);
      }
    }
    return failed;
  }
}
