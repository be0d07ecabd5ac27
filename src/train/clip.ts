/** Global-norm gradient clipping as torch.nn.utils.clip_grad_norm_. */
import * as tf from "@tensorflow/tfjs";

/** Sum of squares of all entries of all tensors, as a scalar tensor (each square freed once summed: no second copy of the gradient). */
export function sumOfSquares(tensors: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.addN(tensors.map((t) => tf.tidy(() => t.square().sum()))) as tf.Scalar);
}

/** The global L2 norm of a list of gradients. */
export function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => sumOfSquares(grads).sqrt());
}

/**
 * Scales `grads` by min(1, maxNorm / (norm + 1e-6)) where `norm` is their global norm (PyTorch's rule).
 * Returns new tensors; the inputs are not disposed.
 */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number, norm: tf.Scalar): tf.Tensor[] {
  return tf.tidy(() => {
    const coefficient = tf.minimum(tf.scalar(1), tf.scalar(maxNorm).div(norm.add(1e-6)));
    return grads.map((g) => g.mul(coefficient));
  });
}
