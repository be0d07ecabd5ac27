/**
 * Interrupting cells: SIGINT (interrupt_mode "signal") or an interrupt_request stops the running cell.
 *
 * Signals and control messages are handled on the event loop, so a cell must let the event loop turn for an
 * interrupt to arrive. Several mechanisms work together:
 *  - `vm`'s `breakOnSigint` aborts the synchronous part of a cell (`while (true) {}`);
 *  - a per-cell promise that rejects on interrupt ends the wait for a cell's top-level await at once;
 *  - a check injected at the head of every loop (see instrument.ts) throws inside loops of an interrupted cell, so
 *    they stop for real; in async code the check also yields to the event loop now and then, so a loop that only
 *    awaits already-settled promises (`await tensor.data()` on the CPU/WASM backends) still sees the interrupt;
 *  - timer and immediate callbacks scheduled by an interrupted cell (also from library code it called, such as
 *    the Trainer's yield between steps) never run, so its background work stops where it was.
 * An interrupt that arrives while no cell runs is dropped: it never reaches the next cell.
 */
import { AsyncLocalStorage } from "async_hooks";

/** The global functions instrumented loops call: a synchronous check, and one that may yield (in async code). */
export const INTERRUPT_CHECK_NAME = "__tsmlInterruptCheck";
export const INTERRUPT_POINT_NAME = "__tsmlInterruptPoint";

/** How long async cell code may run before an instrumented loop lets the event loop turn. */
const YIELD_EVERY_MS = 50;

/** The error an interrupted cell ends with (named like Python's, which frontends recognise). */
export class KeyboardInterrupt extends Error {
  constructor(message = "the cell was interrupted") {
    super(message);
    this.name = "KeyboardInterrupt";
    this.stack = `${this.name}: ${message}`;
  }
}

/** One cell run; its async continuations (and timers) see it through AsyncLocalStorage. */
interface CellRun<Tag> {
  tag: Tag;
  interrupted: boolean;
  reject(err: Error): void;
}

/** Tracks the running cell, interrupts it, and tells which cell the current async context belongs to. */
export class InterruptController<Tag = unknown> {
  private readonly storage = new AsyncLocalStorage<CellRun<Tag>>();
  private current: CellRun<Tag> | undefined;
  /** Fast path for the loop check: false until the first interrupt. */
  private anyInterrupted = false;
  private lastYield = performance.now();

  /** Installs the loop-check globals, the timer guards and the SIGINT handler. */
  install(): void {
    const interrupted = () => this.anyInterrupted && this.storage.getStore()?.interrupted === true;
    Object.assign(globalThis, {
      [INTERRUPT_CHECK_NAME]: () => {
        if (interrupted()) throw new KeyboardInterrupt();
      },
      [INTERRUPT_POINT_NAME]: (): Promise<void> | undefined => {
        if (interrupted()) throw new KeyboardInterrupt();
        const now = performance.now();
        if (now - this.lastYield < YIELD_EVERY_MS) return undefined;
        this.lastYield = now;
        return new Promise<void>((resolve) => setImmediate(resolve));
      },
    });
    this.guardTimers(interrupted);
    process.on("SIGINT", () => this.interrupt());
  }

  /**
   * Runs `body` as the current cell, tagged with `tag`; resolves with its result, or rejects with KeyboardInterrupt
   * as soon as the cell is interrupted (even while `body` still awaits something that never settles).
   */
  async run<T>(tag: Tag, body: () => Promise<T>): Promise<T> {
    let reject: (err: Error) => void = () => undefined;
    const interrupted = new Promise<never>((_, rej) => (reject = rej));
    interrupted.catch(() => undefined);
    const state: CellRun<Tag> = { tag, interrupted: false, reject };
    this.current = state;
    try {
      return await Promise.race([this.storage.run(state, body), interrupted]);
    } catch (err) {
      throw isSigintBreak(err) ? new KeyboardInterrupt() : err;
    } finally {
      if (this.current === state) this.current = undefined;
    }
  }

  /**
   * Runs `body` in an async context tagged with `tag` without making it the running cell (an interrupt still
   * stops the cell, not this): comm handlers, which may run while a cell awaits, attribute their output this way.
   */
  runTagged<T>(tag: Tag, body: () => T): T {
    return this.storage.run({ tag, interrupted: false, reject: () => undefined }, body);
  }

  /** Lets the event loop turn while no cell runs, so that a stale SIGINT or interrupt_request is dropped. */
  async settle(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Throws KeyboardInterrupt if the cell running in this async context was interrupted. */
  throwIfInterrupted(): void {
    if (this.storage.getStore()?.interrupted) throw new KeyboardInterrupt();
  }

  /** The tag of the cell whose async context this is (also in its timers and callbacks), if any. */
  contextTag(): Tag | undefined {
    return this.storage.getStore()?.tag;
  }

  /** Interrupts the running cell, if any; an interrupt with no cell running is dropped. */
  interrupt(): void {
    const state = this.current;
    if (!state) return;
    state.interrupted = true;
    this.anyInterrupted = true;
    state.reject(new KeyboardInterrupt());
  }

  /** Makes setTimeout/setInterval/setImmediate skip callbacks that an interrupted cell scheduled. */
  private guardTimers(interrupted: () => boolean): void {
    const g = globalThis as unknown as Record<string, unknown>;
    for (const name of ["setTimeout", "setInterval", "setImmediate"] as const) {
      const original = g[name] as (callback: (...args: unknown[]) => void, ...rest: unknown[]) => unknown;
      const guarded = function (this: unknown, callback: unknown, ...rest: unknown[]) {
        if (typeof callback !== "function") return original.call(this, callback as never, ...rest);
        return original.call(
          this,
          function (this: unknown, ...args: unknown[]) {
            if (!interrupted()) return (callback as (...a: unknown[]) => unknown).apply(this, args);
            if (name === "setInterval") clearInterval(this as NodeJS.Timeout);
            return undefined;
          },
          ...rest,
        );
      };
      // Keep util.promisify(setTimeout) and friends working.
      Object.defineProperties(guarded, Object.getOwnPropertyDescriptors(original));
      g[name] = guarded;
    }
  }
}

/** True for the error `vm` throws when SIGINT breaks a synchronous script. */
function isSigintBreak(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED";
}
