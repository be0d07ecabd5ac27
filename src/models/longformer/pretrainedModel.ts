/**
 * What every Longformer model with a head shares, as HF's LongformerPreTrainedModel: the parameters by HF name,
 * the encoder, gradient checkpointing (also from an older config.json's `gradient_checkpointing: true`) and the
 * dropout seed that the Trainer resets before every micro-batch.
 */
import * as tf from "@tensorflow/tfjs";
import { LongformerConfig } from "./config";
import { LongformerModel } from "./model";
import { ForwardContext, LongformerParameters, LongformerShapeTracer } from "./ops";
import type { LongformerWeights } from "./weights";

/** Options of a forward pass. */
export interface LongformerForwardOptions {
  /** Dropout on (seeded, reproducible) when true; inference when false (default). */
  training?: boolean;
  /** Receives the name and shape of every attention intermediate (debugging, O(n·w) checks). */
  trace?: LongformerShapeTracer;
}

/** The base of LongformerForSequenceClassification and LongformerForMaskedLM. */
export abstract class LongformerPreTrainedModel {
  protected readonly params: LongformerParameters;
  protected readonly longformer: LongformerModel;
  private trainingCalls = 0;

  /** Wraps `weights` (HF names, PyTorch layout); `seed` drives dropout. */
  constructor(
    readonly config: LongformerConfig,
    weights: LongformerWeights,
    private seed = 0,
  ) {
    this.params = new LongformerParameters(weights);
    this.longformer = new LongformerModel(config, this.params);
    // Older HF config.json files carry `gradient_checkpointing: true`; HF turns it on at load, as here.
    const fromConfig = config.extra.gradient_checkpointing;
    if (fromConfig !== undefined && typeof fromConfig !== "boolean") {
      throw new Error(`Longformer config: gradient_checkpointing must be true or false, got ${JSON.stringify(fromConfig)}`);
    }
    if (fromConfig) this.gradientCheckpointingEnable();
  }

  /** Recompute each layer in the backward pass instead of storing its activations (HF's `gradient_checkpointing_enable`). */
  gradientCheckpointingEnable(): void {
    this.longformer.encoder.gradientCheckpointing = true;
  }

  /** Back to storing every layer's activations (HF's `gradient_checkpointing_disable`). */
  gradientCheckpointingDisable(): void {
    this.longformer.encoder.gradientCheckpointing = false;
  }

  /** Whether gradient checkpointing is on. */
  get isGradientCheckpointing(): boolean {
    return this.longformer.encoder.gradientCheckpointing;
  }

  /** A copy of every parameter's values by HF name (a tied decoder weight is the word-embedding entry). */
  weights(): LongformerWeights {
    return this.params.copyValues();
  }

  /** The parameters as [HF name, variable] pairs in HF's state_dict order. */
  namedParameters(): [string, tf.Variable][] {
    return this.params.entries();
  }

  /** Every trainable variable once (tied weights appear once and get the gradient of every use). */
  trainableVariables(): tf.Variable[] {
    return this.params.entries().map(([, v]) => v);
  }

  /** Reseeds dropout (the Trainer's optional hook): later training passes draw masks from `seed`. */
  setRandomSeed(seed: number): void {
    this.seed = seed;
    this.trainingCalls = 0;
  }

  /** Releases every variable. */
  dispose(): void {
    this.params.dispose();
  }

  /** The context of one forward pass: dropout masks drawn from the seed and the number of training passes so far. */
  protected forwardContext(options: LongformerForwardOptions): ForwardContext {
    const training = options.training === true;
    return new ForwardContext(training, `${this.seed}:${training ? this.trainingCalls++ : 0}`, options.trace);
  }
}
