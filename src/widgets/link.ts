/**
 * Linking widget fields: `link` and `dlink` keep fields equal in the kernel (they work in every client, nbconvert
 * included); `jslink` and `jsdlink` link them in the front-end with ipywidgets' LinkModel (no kernel round trip, so
 * they keep working while a cell is busy computing).
 *
 * @example
 * import { IntSlider, Play, jslink, link } from "tsml";
 * const play = new Play({ max: 10 });
 * const slider = new IntSlider({ max: 10 });
 * jslink(play, "value", slider, "value");
 * const twin = new IntSlider({ max: 10 });
 * const unlink = link(slider, "value", twin, "value");
 * unlink();
 */
import { CONTROLS_MODULE } from "./protocol";
import { Widget } from "./widget";

/** Keeps `target[targetName]` equal to `source[sourceName]` (after `transform`); returns a function that unlinks. */
export function dlink<A extends Widget, KA extends keyof A & string, B extends Widget, KB extends keyof B & string>(
  source: A,
  sourceName: KA,
  target: B,
  targetName: KB,
  transform: (value: A[KA]) => B[KB] = (value) => value as unknown as B[KB],
): () => void {
  target[targetName] = transform(source[sourceName]);
  return source.observe(sourceName, (change) => {
    target[targetName] = transform(change.new);
  });
}

/** Keeps `a[aName]` and `b[bName]` equal both ways (b takes a's value first); returns a function that unlinks. */
export function link<A extends Widget, KA extends keyof A & string, B extends Widget, KB extends keyof B & string>(
  a: A,
  aName: KA,
  b: B,
  bName: KB,
): () => void {
  const forward = dlink(a, aName, b, bName);
  const backward = b.observe(bName, (change) => {
    a[aName] = change.new as unknown as A[KA];
  });
  return () => {
    forward();
    backward();
  };
}

/** A front-end link between two widget fields (ipywidgets' LinkModel / DirectionalLinkModel). */
export interface FrontendLink {
  source: [Widget, string];
  target: [Widget, string];
}
export class FrontendLink extends Widget {
  /** Links `source` to `target` in the front-end; `directional`: only source -> target. */
  constructor(source: [Widget, string], target: [Widget, string], directional = false) {
    super(
      { modelModule: CONTROLS_MODULE, modelName: directional ? "DirectionalLinkModel" : "LinkModel", viewModule: null, viewName: null },
      { source: [...source], target: [...target] },
    );
  }

  /** Removes the link. */
  unlink(): void {
    this.close();
  }
}

/** Links two fields in the front-end, both ways (ipywidgets' `jslink`). */
export function jslink<A extends Widget, B extends Widget>(a: A, aName: keyof A & string, b: B, bName: keyof B & string): FrontendLink {
  return new FrontendLink([a, toWire(aName)], [b, toWire(bName)]);
}

/** Links `source`'s field to `target`'s in the front-end, one way (ipywidgets' `jsdlink`). */
export function jsdlink<A extends Widget, B extends Widget>(source: A, sourceName: keyof A & string, target: B, targetName: keyof B & string): FrontendLink {
  return new FrontendLink([source, toWire(sourceName)], [target, toWire(targetName)], true);
}

function toWire(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
