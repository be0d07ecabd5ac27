/**
 * Warns the notebook user when the JavaScript heap nears its limit.
 *
 * When the heap is full, V8 ends the process (a fatal error Node can't catch; the supervisor, supervisor.ts, then
 * tells the notebook why), so the kernel warns before, while the variables can still be saved: it samples `v8.getHeapStatistics()` every half second and says so (under
 * the running cell) when the heap is above `threshold` of its limit. A single synchronous allocation that overshoots
 * can't be caught this way; the kernelspec's `--max-old-space-size` (see install.ts) sets the limit.
 */
import * as v8 from "v8";

/** Watches the heap and calls `warn` once each time it climbs above `threshold` of the limit. */
export class HeapWatch {
  private warned = false;

  constructor(
    private readonly warn: (text: string) => void,
    private readonly threshold = 0.75,
  ) {}

  /** Samples the heap every `intervalMs` (the timer does not keep the process alive). */
  start(intervalMs = 500): void {
    setInterval(() => this.check(), intervalMs).unref();
  }

  /** Warns if the heap is above the threshold (once, until it drops clearly below again). */
  check(): void {
    const { used_heap_size: used, heap_size_limit: limit } = v8.getHeapStatistics();
    if (used < limit * this.threshold * 0.8) this.warned = false;
    if (used < limit * this.threshold || this.warned) return;
    this.warned = true;
    const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
    this.warn(
      `tsml kernel: memory is running out: the JavaScript heap holds ${gib(used)} of its ${gib(limit)} limit ` +
        `(${Math.round((100 * used) / limit)}%). When it is full, V8 ends the kernel and its variables are lost. Free large ` +
        "values (set them to undefined, dispose tensors) or raise --max-old-space-size in the kernelspec's argv.\n",
    );
  }
}
