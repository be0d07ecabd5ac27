/** Live charts: a display updated in place from a training callback, throttled to a small share of training time. */
import { display, DisplayHandle, JUPYTER_DISPLAY, MimeBundle } from "../display";
import { VegaLiteChart } from "./chart";
import type { TrainerCallback } from "../train";
import { requirePositiveInteger } from "../util";

/** Builds the chart for the history so far (e.g. `(h) => lossCurveChart(h)`). */
export type LiveChartBuilder = (history: readonly object[]) => VegaLiteChart;

/** Options of {@link liveChart}. */
export interface LiveChartOptions {
  /** Only consider re-rendering on every N-th logged record. Default 1. */
  everySteps?: number;
  /** Least time between two renders, so the notebook is not flooded. Default 1000 ms. */
  minIntervalMs?: number;
  /** Largest share of wall time (since the first record) spent rendering. Default 0.02. */
  maxOverhead?: number;
  /**
   * Also render SVG for in-place updates. Default true: every client shows the chart during training (classic
   * Notebook and others without a Vega-Lite renderer show only the SVG), within the same render budget
   * (`maxOverhead` counts the SVG's cost); false sends only the Vega-Lite spec. `finish()` always adds the SVG.
   */
  svgUpdates?: boolean;
  /** Clock in milliseconds (injectable for tests). Default `performance.now`. */
  now?: () => number;
  /** Where each render's bundle goes instead of a notebook display of its own (a dashboard's Output widget). */
  sink?: (bundle: MimeBundle) => void | Promise<void>;
}

/**
 * Decides when a render is due: at least `minIntervalMs` apart, and only while the time spent rendering since the
 * first call plus the expected cost of this render (the last one's) stays within `maxOverhead` of the elapsed wall
 * time. The first render is always due; a render costlier than expected delays the following ones.
 */
export class RenderThrottle {
  private origin: number | undefined;
  private lastEnd = -Infinity;
  private lastCost = 0;
  private spentMs = 0;

  /** `minIntervalMs` between renders; at most `maxOverhead` of wall time spent rendering. */
  constructor(
    readonly minIntervalMs: number,
    readonly maxOverhead: number,
  ) {
    if (!(minIntervalMs >= 0)) throw new Error(`RenderThrottle: minIntervalMs must be >= 0, got ${minIntervalMs}`);
    if (!(maxOverhead > 0 && maxOverhead < 1)) throw new Error(`RenderThrottle: maxOverhead must be in (0, 1), got ${maxOverhead}`);
  }

  /** True when a render may start at time `now`. */
  due(now: number): boolean {
    this.origin ??= now;
    if (this.lastEnd === -Infinity) return true;
    if (now - this.lastEnd < this.minIntervalMs) return false;
    return this.spentMs + this.lastCost <= this.maxOverhead * (now - this.origin);
  }

  /** Records a render that ran from `start` to `end`. */
  rendered(start: number, end: number): void {
    this.origin ??= start;
    this.lastCost = Math.max(0, end - start);
    this.lastEnd = end;
    this.spentMs += this.lastCost;
  }
}

/** Counters of a live chart's work. */
export interface LiveChartStats {
  /** Records received. */
  logs: number;
  /** Renders sent to the display. */
  renders: number;
  /** Total milliseconds spent building, rendering and publishing. */
  renderMs: number;
}

/** A chart displayed once and updated in place as training logs records; usable directly as a Trainer callback. */
export class LiveChart implements TrainerCallback {
  /** Records received so far (unless the caller passes its own history). */
  readonly records: object[] = [];
  /** Work counters. */
  readonly stats: LiveChartStats = { logs: 0, renders: 0, renderMs: 0 };
  private readonly throttle: RenderThrottle;
  private readonly now: () => number;
  private handle: DisplayHandle | undefined;
  private inFlight: Promise<void> | undefined;
  private latest: readonly object[] = this.records;

  /** Use {@link liveChart}. */
  constructor(
    private readonly builder: LiveChartBuilder,
    private readonly options: LiveChartOptions = {},
  ) {
    const every = options.everySteps ?? 1;
    requirePositiveInteger(every, "liveChart: everySteps");
    this.throttle = new RenderThrottle(options.minIntervalMs ?? 1000, options.maxOverhead ?? 0.02);
    this.now = options.now ?? (() => performance.now());
  }

  /** The display id once shown. */
  get displayId(): string | undefined {
    return this.handle?.displayId;
  }

  /** Shows the chart for the current history (a "no data" chart before the first record). */
  async show(): Promise<void> {
    await this.render(true);
  }

  /**
   * Training callback (`trainer.onLog`): stores `record` — or uses the trainer's `history` when given — and
   * re-renders in place when due. Bound, so it can be passed around as a plain function.
   */
  readonly onLog = async (record: object, history?: readonly object[]): Promise<void> => {
    this.stats.logs++;
    if (history) this.latest = history;
    else this.records.push(record);
    const every = this.options.everySteps ?? 1;
    if (this.stats.logs % every !== 0 || this.inFlight || !this.throttle.due(this.now())) return;
    await this.render(this.options.svgUpdates ?? true);
  };

  /** Renders the final state with the full bundle (Vega-Lite + SVG), whatever the throttle says. */
  async finish(): Promise<void> {
    await this.inFlight;
    await this.render(true);
  }

  /** Training callback: the trainer's history at the end of `train()`, drawn with `finish()`. */
  readonly onTrainEnd = async (history?: readonly object[]): Promise<void> => {
    if (history) this.latest = history;
    await this.finish();
  };

  private async render(withSVG: boolean): Promise<void> {
    const start = this.now();
    const task = (async () => {
      const chart = this.builder(this.latest);
      const bundle = await chart.toMimeBundle({ svg: withSVG });
      if (this.options.sink) return void (await this.options.sink(bundle));
      const value = { [JUPYTER_DISPLAY]: (): MimeBundle => bundle };
      if (this.handle) await this.handle.update(value);
      else this.handle = await display(value);
    })();
    this.inFlight = task;
    try {
      await task;
    } finally {
      this.inFlight = undefined;
      const end = this.now();
      this.throttle.rendered(start, end);
      this.stats.renders++;
      this.stats.renderMs += end - start;
    }
  }
}

/**
 * A chart that a training callback updates in place while the Trainer runs, then draws its final state.
 * @example
 * ```ts
 * import { liveChart, lossCurveChart, Trainer, type TrainableModel, type TrainingData } from "tsml";
 * declare const model: TrainableModel<unknown>;
 * declare const trainData: TrainingData<unknown>;
 * const live = liveChart((history) => lossCurveChart(history));
 * const trainer = new Trainer({ model, trainData, callbacks: [{ onLog: live.onLog }] });
 * await trainer.train();
 * await live.finish();
 * ```
 */
export function liveChart(builder: LiveChartBuilder, options: LiveChartOptions = {}): LiveChart {
  return new LiveChart(builder, options);
}
