/**
 * A training dashboard on widgets, used as a Trainer callback: the live loss chart (the Vega-Lite `liveChart`,
 * with an SVG for every client) in an Output widget, a smoothing slider that re-smooths the chart in place, a Stop
 * button that ends training cleanly after the step that is running (its history record and checkpoint are written,
 * `stoppedReason` says so), and a progress bar with step, examples per second and ETA.
 *
 * @example
 * import { trainingDashboard, display } from "tsml";
 * const dashboard = trainingDashboard({ title: "spam classifier" });
 * void display(dashboard);
 * // new Trainer({ model, trainData, callbacks: [dashboard] }).train()
 */
import type { MimeBundle } from "../display";
import { liveChart, lossCurveChart } from "../plots";
import type { LiveChart, LiveChartOptions } from "../plots";
import type { StepEndInfo, TrainerCallback, TrainerControl, TrainingLogRecord } from "../train";
import { Button, FloatSlider, HBox, IntProgress, Label, VBox } from "./controls";
import { Output } from "./output";

/** Options of {@link trainingDashboard}. */
export interface TrainingDashboardOptions {
  /** The chart's title. Default "Training loss". */
  title?: string;
  /** The smoothing slider's start (TensorBoard's weight, on a 0.03 grid up to 0.99). Default 0.6. */
  smoothing?: number;
  /** The live chart's render throttle (`minIntervalMs`, `maxOverhead`, `everySteps`). */
  chart?: Pick<LiveChartOptions, "minIntervalMs" | "maxOverhead" | "everySteps">;
  /** Clock in milliseconds (injectable for tests). Default `performance.now`. */
  now?: () => number;
}

/** The smoothing grid the loss chart precomputes (lossCurveChart's default `smoothingStep`). */
const SMOOTHING_STEP = 0.03;

/** The dashboard: a widget (display it) and a Trainer callback (pass it in `callbacks`). */
export class TrainingDashboard extends VBox implements TrainerCallback {
  /** The Stop button. */
  readonly stopButton: Button;
  /** The smoothing weight of the chart's smoothed loss. */
  readonly smoothing: FloatSlider;
  /** Step / total, examples per second, ETA. */
  readonly status: Label;
  readonly progress: IntProgress;
  /** Holds the live chart. */
  readonly chart: Output;
  private readonly live: LiveChart;
  private readonly now: () => number;
  private stopRequested = false;
  private start: { time: number; step: number; examples: number } | undefined;

  constructor(options: TrainingDashboardOptions = {}) {
    const stopButton = new Button({ description: "Stop", buttonStyle: "danger", icon: "stop", tooltip: "End training after the running step" });
    const smoothing = new FloatSlider({
      value: options.smoothing ?? 0.6,
      min: 0,
      max: 0.99,
      step: SMOOTHING_STEP,
      description: "smoothing",
      readoutFormat: ".2f",
    });
    const status = new Label("waiting for the first step").addClass("tsml-dashboard-status");
    const progress = new IntProgress({ value: 0, min: 0, max: 1, description: "step" });
    const chart = new Output({ layout: { width: "100%" } });
    super([new HBox([stopButton, smoothing, status]), progress, chart]);
    this.addClass("tsml-dashboard");
    this.stopButton = stopButton;
    this.smoothing = smoothing;
    this.status = status;
    this.progress = progress;
    this.chart = chart;
    this.now = options.now ?? (() => performance.now());
    const title = options.title ?? "Training loss";
    this.live = liveChart((history) => lossCurveChart(history, { title, smoothing: onGrid(this.smoothing.value) }), {
      ...options.chart,
      now: options.now,
      sink: (bundle) => this.showChart(bundle),
    });
    stopButton.onClick(() => this.stop());
    smoothing.observe("value", () => void this.live.finish());
  }

  /** Asks training to end after the running step (what the Stop button does). */
  stop(): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    this.stopButton.disabled = true;
    this.stopButton.description = "Stopping…";
  }

  /** True once Stop was pressed (or `stop()` called). */
  get stopping(): boolean {
    return this.stopRequested;
  }

  /** Trainer callback: progress, rate and ETA; ends training when Stop was pressed. */
  onStepEnd(info: StepEndInfo, control: TrainerControl): void {
    const time = this.now();
    // Rates count from the first step seen (a resumed run starts past 0).
    this.start ??= { time, step: info.step, examples: info.examplesSeen };
    this.progress.max = info.totalSteps;
    this.progress.value = info.step;
    const seconds = (time - this.start.time) / 1000;
    const steps = info.step - this.start.step;
    const rate = seconds > 0 && steps > 0 ? (info.examplesSeen - this.start.examples) / seconds : undefined;
    const eta = seconds > 0 && steps > 0 ? ((info.totalSteps - info.step) * seconds) / steps : undefined;
    this.status.value = [
      `step ${info.step}/${info.totalSteps}`,
      `loss ${info.loss.toPrecision(4)}`,
      rate === undefined ? "… examples/s" : `${rate.toFixed(1)} examples/s`,
      `ETA ${eta === undefined ? "…" : formatDuration(eta)}`,
    ].join(" · ");
    if (this.stopRequested) control.stop(`stopped from the dashboard's Stop button after step ${info.step}`);
  }

  /** Trainer callback: the chart follows the history (throttled). */
  readonly onLog = (record: TrainingLogRecord, history: readonly TrainingLogRecord[]): Promise<void> => this.live.onLog(record, history);

  /** Trainer callback: the final chart, and the Stop button retired. */
  readonly onTrainEnd = async (history: readonly TrainingLogRecord[]): Promise<void> => {
    await this.live.onTrainEnd(history);
    this.stopButton.disabled = true;
    this.stopButton.description = this.stopRequested ? "Stopped" : "Done";
    this.status.value = `${this.status.value.replace(/ · ETA .*$/, "")} · ${this.stopRequested ? "stopped" : "done"}`;
  };

  private showChart(bundle: MimeBundle): void {
    this.chart.outputs = [{ output_type: "display_data", data: bundle, metadata: {} }];
  }
}

/** A dashboard for one training run: display it, and pass it in the Trainer's `callbacks` (see the module's doc). */
export function trainingDashboard(options: TrainingDashboardOptions = {}): TrainingDashboard {
  return new TrainingDashboard(options);
}

/** The nearest smoothing weight on the chart's grid. */
function onGrid(weight: number): number {
  return Math.min(0.99, Number((Math.round(weight / SMOOTHING_STEP) * SMOOTHING_STEP).toFixed(3)));
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}
