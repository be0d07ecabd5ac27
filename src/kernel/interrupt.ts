/**
 * Interrupting cells: SIGINT (interrupt_mode "signal") or an interrupt_request stops the running cell.
 *
 * Three mechanisms work together: `vm`'s `breakOnSigint` aborts synchronous code (`while (true) {}`); a per-cell
 * promise that rejects on interrupt ends the wait for a cell's top-level await; and a check injected at the head
 * of every loop (see instrument.ts) throws inside async loops that belong to an interrupted cell, so they stop for
 * real instead of running on in the background.
 */
import { AsyncLocalStorage } from "async_hooks";

/** The global function instrumented loops call. */
export const INTERRUPT_CHECK_NAME = "__tsmlInterruptCheck";

/** The error an interrupted cell ends with (named like Python's, which frontends recognise). */
export class KeyboardInterrupt extends Error {
  constructor(message = "the cell was interrupted") {
    super(message);
    this.name = "KeyboardInterrupt";
    this.stack = `${this.name}: ${message}`;
  }
}

/** One cell's interrupt state; async continuations of the cell see it through AsyncLocalStorage. */
interface CellInterruptState {
  interrupted: boolean;
  reject(err: Error): void;
}

/** Tracks the running cell and interrupts it. */
export class InterruptController {
  private readonly storage = new AsyncLocalStorage<CellInterruptState>();
  private current: CellInterruptState | undefined;
  /** Fast path for the loop check: false until the first interrupt. */
  private anyInterrupted = false;

  /** Installs the loop check global and the SIGINT handler. */
  install(): void {
    (globalThis as Record<string, unknown>)[INTERRUPT_CHECK_NAME] = () => {
      if (this.anyInterrupted && this.storage.getStore()?.interrupted) throw new KeyboardInterrupt();
    };
    process.on("SIGINT", () => this.interrupt());
  }

  /**
   * Runs `body` as the current cell; resolves with its result, or rejects with KeyboardInterrupt as soon as the
   * cell is interrupted (even while `body` still awaits something that never settles).
   */
  async run<T>(body: () => Promise<T>): Promise<T> {
    let reject: (err: Error) => void = () => undefined;
    const interrupted = new Promise<never>((_, rej) => (reject = rej));
    interrupted.catch(() => undefined);
    const state: CellInterruptState = { interrupted: false, reject };
    this.current = state;
    try {
      return await Promise.race([this.storage.run(state, body), interrupted]);
    } catch (err) {
      throw isSigintBreak(err) ? new KeyboardInterrupt() : err;
    } finally {
      if (this.current === state) this.current = undefined;
    }
  }

  /** Throws KeyboardInterrupt if the cell running in this async context was interrupted. */
  throwIfInterrupted(): void {
    if (this.storage.getStore()?.interrupted) throw new KeyboardInterrupt();
  }

  /** Interrupts the running cell, if any. */
  interrupt(): void {
    const state = this.current;
    if (!state) return;
    state.interrupted = true;
    this.anyInterrupted = true;
    state.reject(new KeyboardInterrupt());
  }
}

/** True for the error `vm` throws when SIGINT breaks a synchronous script. */
function isSigintBreak(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED";
}
