/** One live display of a sweep's trials in a notebook: a row per trial (state, step, loss, worker), updated in place. */
import { display, JUPYTER_DISPLAY, type DisplayHandle, type MimeBundle } from "../display";
import type { RunEvent } from "../experiments";
import type { TrialWorkerIdentity } from "./trials";

/** Milliseconds between two updates of the display. */
const UPDATE_MS = 500;

interface TrialRow {
  state: "queued" | "running" | "finished" | "failed";
  step: number;
  totalSteps: number | null;
  loss: number | null;
  worker: string;
  note: string;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The trials of one sweep as a live table. */
export class TrialBoard {
  private readonly rows = new Map<string, TrialRow>();
  private handle: DisplayHandle | undefined;
  private changed = false;
  private lastUpdate = -Infinity;

  constructor(runIds: string[]) {
    for (const id of runIds) this.rows.set(id, { state: "queued", step: 0, totalSteps: null, loss: null, worker: "", note: "" });
  }

  /** Takes in a trial's event. */
  onEvent(event: RunEvent): void {
    const row = this.rows.get(event.runId);
    if (!row) return;
    if (event.type === "started")
      Object.assign(row, {
        state: "running",
        step: event.resumedFromStep ?? 0,
        totalSteps: event.totalSteps,
        note: event.resumedFromStep ? `resumed at ${event.resumedFromStep}` : "",
      });
    else if (event.type === "progress") Object.assign(row, { state: "running", step: event.step, totalSteps: event.totalSteps, loss: event.loss });
    else if (event.type === "finished")
      Object.assign(row, {
        state: "finished",
        step: event.metrics.steps,
        totalSteps: event.metrics.totalSteps,
        note: event.metrics.dev ? `dev F1 ${event.metrics.dev.f1.toFixed(3)}` : "",
      });
    else Object.assign(row, { state: "failed", note: event.error });
    this.changed = true;
  }

  /** Records which worker runs a trial. */
  onWorker(runId: string, worker: TrialWorkerIdentity): void {
    const row = this.rows.get(runId);
    const name = `${worker.hostname}:${worker.pid}`;
    if (!row || row.worker === name) return;
    row.worker = name;
    this.changed = true;
  }

  /** Shows the table (once). */
  async show(): Promise<void> {
    if (!this.handle) this.handle = await display(this.bundle());
    this.lastUpdate = Date.now();
    this.changed = false;
  }

  /** Updates the display in place when something changed (at most every 500 ms, unless `force`). */
  async refresh(force = false): Promise<void> {
    if (!this.handle || !this.changed || (!force && Date.now() - this.lastUpdate < UPDATE_MS)) return;
    this.lastUpdate = Date.now();
    this.changed = false;
    await this.handle.update(this.bundle());
  }

  private bundle(): { [JUPYTER_DISPLAY](): MimeBundle } {
    const rows = [...this.rows];
    const done = rows.filter(([, r]) => r.state === "finished").length;
    const failed = rows.filter(([, r]) => r.state === "failed").length;
    const title = `trials: ${done} finished, ${failed} failed, ${rows.length - done - failed} to go`;
    const steps = (r: TrialRow): string => (r.totalSteps === null ? "" : `${r.step}/${r.totalSteps}`);
    const loss = (r: TrialRow): string => (r.loss === null ? "" : r.loss.toFixed(4));
    const text = [title, ...rows.map(([id, r]) => [id, r.state, steps(r), loss(r), r.worker, r.note].filter((s) => s !== "").join("  "))].join("\n");
    const cells = rows.map(
      ([id, r]) =>
        `<tr><td><code>${escapeHtml(id)}</code></td><td>${r.state}</td><td><progress value="${r.step}" max="${r.totalSteps ?? 1}"></progress> ${steps(r)}</td>` +
        `<td>${loss(r)}</td><td>${escapeHtml(r.worker)}</td><td>${escapeHtml(r.note)}</td></tr>`,
    );
    const html = `<div><b>${escapeHtml(title)}</b><table><tr><th>trial</th><th>state</th><th>step</th><th>loss</th><th>worker</th><th></th></tr>${cells.join("")}</table></div>`;
    return { [JUPYTER_DISPLAY]: () => ({ "text/plain": text, "text/html": html }) };
  }
}
