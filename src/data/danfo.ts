/** Lazy access to danfojs-node: it takes seconds to load, so it is required only when a DataFrame is built. */
import type * as Danfo from "danfojs-node";

/** danfojs-node's DataFrame type (type-only import: costs nothing at run time). */
export type DataFrame = Danfo.DataFrame;

let loaded: typeof Danfo | undefined;

/** The danfojs-node module, loaded on first use. */
export function danfo(): typeof Danfo {
  loaded ??= require("danfojs-node") as typeof Danfo;
  return loaded;
}

/** Builds a DataFrame from equally long columns. */
export function frameFromColumns(columns: Record<string, Array<string | number>>): DataFrame {
  const df = danfo();
  return new df.DataFrame(columns);
}
