/**
 * `interact(fn, { lr: [1e-5, 1e-3] })`: controls made from abbreviations, as ipywidgets' `interact` makes them —
 * a [min, max] (or [min, max, step]) range becomes a slider (a log slider when it spans two decades or more, an
 * integer slider when both ends are integers), an array of strings a Dropdown, a boolean a Checkbox, a string a Text
 * box, a number a slider around it; `fn` runs with the values into an Output below them, again after each change.
 *
 * @example
 * import { interact } from "tsml";
 * const ui = interact(({ lr, layers, optimizer }) => `lr ${lr}, ${layers} layers, ${optimizer}`, {
 *   lr: [1e-5, 1e-3],
 *   layers: [1, 12],
 *   optimizer: ["adamw", "sgd"],
 * });
 * void ui.settled();
 */
import { display } from "../display";
import { Checkbox, Dropdown, FloatLogSlider, FloatSlider, IntSlider, Text, VBox } from "./controls";
import { Output } from "./output";
import { Widget } from "./widget";

/** What a control can be made from. */
export type Abbreviation = readonly [number, number] | readonly [number, number, number] | readonly string[] | boolean | number | string;

/** The value `fn` gets for each abbreviation. */
export type InteractValues<S> = {
  [K in keyof S]: S[K] extends boolean ? boolean : S[K] extends string | readonly string[] ? string : number;
};

/** The controls and the output of an `interact`; it displays as the controls above the output. */
export class Interactive<S extends Record<string, Abbreviation>> extends VBox {
  /** The control made for each name. */
  readonly controls: { [K in keyof S]: Widget & { value: InteractValues<S>[K] } };
  /** Where `fn`'s prints, displays and (non-undefined) result go. */
  readonly output: Output;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly fn: (values: InteractValues<S>) => unknown,
    spec: S,
  ) {
    const controls = Object.fromEntries(Object.entries(spec).map(([name, abbreviation]) => [name, controlFor(name, abbreviation)]));
    const output = new Output();
    super([...Object.values(controls), output]);
    this.controls = controls as never;
    this.output = output;
    for (const control of Object.values(controls)) {
      const rerun = () => void this.update();
      if (control instanceof Dropdown) control.onChange(rerun);
      else control.observe("value", rerun);
    }
    void this.update();
  }

  /** The controls' current values. */
  values(): InteractValues<S> {
    return Object.fromEntries(Object.entries<Widget & { value: unknown }>(this.controls).map(([name, control]) => [name, control.value])) as InteractValues<S>;
  }

  /** Resolves when the runs of `fn` started so far have ended. */
  settled(): Promise<void> {
    return this.running;
  }

  /** Reruns `fn` with the current values into the output (runs never overlap). */
  update(): Promise<void> {
    const values = this.values();
    this.running = this.running.then(() =>
      this.output.capture(async () => {
        await this.output.clear(true);
        try {
          const result = await this.fn(values);
          if (result !== undefined) await display(result);
        } catch (err) {
          console.error(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
        }
      }),
    );
    return this.running;
  }
}

/** Controls for `spec`'s values, and `fn` run with them into an Output (see the module's doc). */
export function interact<S extends Record<string, Abbreviation>>(fn: (values: InteractValues<S>) => unknown, spec: S): Interactive<S> {
  return new Interactive(fn, spec);
}

/** The control for one abbreviation. */
function controlFor(name: string, abbreviation: Abbreviation): Widget & { value: unknown } {
  const description = name;
  if (typeof abbreviation === "boolean") return new Checkbox({ value: abbreviation, description });
  if (typeof abbreviation === "string") return new Text({ value: abbreviation, description });
  if (typeof abbreviation === "number") {
    const v = abbreviation;
    const [min, max] = v > 0 ? [-v, 3 * v] : v < 0 ? [3 * v, -v] : [-1, 1];
    return Number.isInteger(v)
      ? new IntSlider({ value: v, min, max, description })
      : new FloatSlider({ value: v, min, max, step: (max - min) / 100, description });
  }
  if (abbreviation.every((item) => typeof item === "string")) {
    if (abbreviation.length === 0) throw new Error(`interact: ${name} has an empty list of options`);
    return new Dropdown({ options: abbreviation, description });
  }
  const numbers = abbreviation as readonly number[];
  if (numbers.length < 2 || numbers.length > 3 || !numbers.every((n) => typeof n === "number" && Number.isFinite(n)) || !(numbers[0] < numbers[1])) {
    throw new Error(
      `interact: ${name} is ${JSON.stringify(abbreviation)}; expected [min, max] or [min, max, step] with min < max, a list of strings, a boolean, a number or a string`,
    );
  }
  const [min, max, step] = numbers;
  if (min > 0 && max / min >= 100) {
    const [lo, hi] = [Math.log10(min), Math.log10(max)];
    return new FloatLogSlider({ value: 10 ** ((lo + hi) / 2), min: lo, max: hi, step: step ?? (hi - lo) / 100, description });
  }
  if (Number.isInteger(min) && Number.isInteger(max) && (step === undefined || Number.isInteger(step))) {
    return new IntSlider({ value: Math.round((min + max) / 2), min, max, step: step ?? 1, description });
  }
  return new FloatSlider({ value: (min + max) / 2, min, max, step: step ?? (max - min) / 100, description });
}
