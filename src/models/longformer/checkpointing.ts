/**
 * Gradient checkpointing, as HF's `gradient_checkpointing_enable()` (torch.utils.checkpoint around each
 * LongformerLayer): the forward pass keeps only each layer's input; the backward pass runs the layer again,
 * with the same dropout masks, and takes its gradients from that recomputation. Memory for activations drops
 * from every layer's intermediates to one layer's, for about one more forward pass of compute.
 */
import * as tf from "@tensorflow/tfjs";
import { frugalGradients } from "../../train";

/**
 * Runs `layer(input, keep)` so that backward recomputes it. `parameters` are the variables the layer uses (they
 * receive their gradients through this call); `keep` are other tensors the layer reads (masks), held until the
 * backward pass and handed back to `layer` on recomputation. `layer` must be deterministic given its arguments
 * (dropout replays its masks through the ForwardContext it closes over).
 */
export function checkpointed(
  layer: (input: tf.Tensor, keep: tf.Tensor[], recomputing: boolean) => tf.Tensor,
  input: tf.Tensor,
  parameters: tf.Variable[],
  keep: tf.Tensor[],
): tf.Tensor {
  const run = tf.customGrad((...args) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const x = args[0] as tf.Tensor;
    save([x, ...keep]);
    return {
      value: layer(x, keep, false),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedInput, ...savedKeep] = saved;
        // frugalGradients frees the recomputed layer's tensors as its own backward pass goes.
        const { value, grads } = frugalGradients(() => layer(savedInput, savedKeep, true), [savedInput, ...parameters], dy);
        value.dispose();
        return grads.map((g, i) => g ?? tf.zerosLike(i === 0 ? savedInput : parameters[i - 1]));
      },
    };
  });
  return run(input, ...parameters);
}
