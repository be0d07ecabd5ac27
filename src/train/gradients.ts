/**
 * Reverse-mode gradients that free memory as the backward pass goes, as PyTorch's autograd does.
 *
 * tfjs's own `tf.grads` / `tf.variableGrads` keep every tensor the forward pass saved and every intermediate
 * gradient until the whole backward pass ends, so its peak is about twice the activations. This walks the same
 * tape (recorded by tfjs's engine, with tfjs's gradient functions) but releases each node's saved tensors and
 * output gradients as soon as that node is done. The gradients are the same tensors computed in the same order.
 */
import * as tf from "@tensorflow/tfjs";
import { engineInternals, type TapeNode } from "../backend/tfjsInternals";

/** The nodes on a path from some x to y, with inputs that do not depend on any x pruned (tfjs's getFilteredNodesXToY). */
function nodesFromXsToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const reachedFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      reachedFromX.add(node.id);
      node.outputs.forEach((o) => fromX.add(o.id));
    }
  }
  const leadsToY = new Set([y.id]);
  const reachesY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => leadsToY.has(o.id))) {
      reachesY.add(node.id);
      Object.values(node.inputs).forEach((t) => leadsToY.add(t.id));
    }
  }
  return tape
    .filter((node) => reachedFromX.has(node.id) && reachesY.has(node.id))
    .map((node) => ({ ...node, inputs: Object.fromEntries(Object.entries(node.inputs).filter(([, t]) => fromX.has(t.id))) }));
}

/**
 * The value of `f` and its gradients with respect to `xs` (null where `f` does not depend on one), times `dy`
 * (default ones), freeing what the backward pass no longer needs as it goes. Must not be called while another
 * gradient is being recorded (inside `f` of tf.grads); it may be called from a gradient function.
 */
export function frugalGradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor): { value: tf.Tensor; grads: (tf.Tensor | null)[] } {
  const engine = engineInternals();
  if (engine.state.gradientDepth !== 0) throw new Error("frugalGradients: cannot be called while a gradient is being recorded");
  const outerTape = engine.state.activeTape; // set when called from a gradient function of an outer backward pass
  try {
    const y = engine.scopedRun(
      () => engine.startTape(),
      () => engine.endTape(),
      () => engine.tidy("forward", f),
    );
    const tape = engine.state.activeTape ?? [];
    const nodes = nodesFromXsToY(tape, xs, y);
    const xIds = new Set(xs.map((x) => x.id));
    let missing: boolean[] = [];
    const grads = tf.tidy((): tf.Tensor[] => {
      const gradOf = new Map<number, tf.Tensor>([[y.id, dy ? tf.clone(dy) : tf.onesLike(y)]]);
      for (let i = nodes.length - 1; i >= 0; i--) {
        const node = nodes[i];
        const dys = node.outputs.map((o) => gradOf.get(o.id) ?? null);
        if (dys.every((d) => d === null)) continue;
        if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
        const inputGrads = node.gradient(dys);
        for (const [name, x] of Object.entries(node.inputs)) {
          if (!(name in inputGrads)) throw new Error(`Cannot backprop through input ${name} of ${node.kernelName}.`);
          // A gradient function may hand back its dy, or one tensor for two inputs: clone (same data) what is
          // already held, so that freeing one holder below leaves the other intact.
          const computed = tf.tidy(() => inputGrads[name]());
          const held = dys.includes(computed) || [...gradOf.values()].includes(computed);
          const dx = held ? tf.clone(computed) : computed;
          const previous = gradOf.get(x.id);
          gradOf.set(x.id, previous ? tf.add(previous, dx) : dx);
          if (previous) tf.dispose([previous, dx]);
        }
        for (const o of node.outputs) {
          if (xIds.has(o.id)) continue;
          gradOf.get(o.id)?.dispose();
          gradOf.delete(o.id);
        }
        node.saved?.forEach((t) => t.dispose());
      }
      const found = xs.map((x) => gradOf.get(x.id));
      missing = found.map((g) => g === undefined);
      return found.filter((g): g is tf.Tensor => g !== undefined);
    });
    tape.forEach((node) => node.saved?.forEach((t) => t.dispose()));
    let next = 0;
    return { value: y, grads: missing.map((absent) => (absent ? null : grads[next++])) };
  } finally {
    engine.state.activeTape = outerTape;
  }
}

/** Like tf.variableGrads (gradients of a scalar by variable name; variables it does not use are left out), frugally. */
export function frugalVariableGrads(f: () => tf.Scalar, variables: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const { value, grads } = frugalGradients(f, variables);
  if (value.rank !== 0) throw new Error(`frugalVariableGrads: f must return a scalar, got shape [${value.shape}]`);
  const named: tf.NamedTensorMap = {};
  variables.forEach((v, i) => {
    if (grads[i]) named[v.name] = grads[i]!;
  });
  if (Object.keys(named).length === 0) throw new Error("frugalVariableGrads: the loss depends on none of the variables");
  return { value: value as tf.Scalar, grads: named };
}
