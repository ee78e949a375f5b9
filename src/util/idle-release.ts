// Gives memory back when a long-lived process goes quiet: quietMs after the last touch() it runs
// release() once (dock's daemon and the shim daemon pass MemSys.releaseMemory). It never keeps the
// process alive and costs a timer refresh per touch; the next busy period re-arms it.
export class IdleRelease {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly release: () => void, private readonly quietMs: number) {}

  /** Marks activity: release() runs once the process has been quiet for quietMs. */
  touch(): void {
    if (this.stopped) return;
    if (this.timer) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.release();
    }, this.quietMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
