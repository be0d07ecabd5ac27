/** Public surface of src/models/longformer. */
export { LONGFORMER_ARCHITECTURE_KEYS, LongformerConfig } from "./config";
export type { LongformerActivation, LongformerConfigFields, LongformerConfigInit } from "./config";
export { LONGFORMER_EXCLUDED_SCORE, prepareLongformerBatch } from "./masks";
export type { LongformerBatch, PreparedLongformerBatch } from "./masks";
export type { LongformerShapeTracer } from "./ops";
export type { LongformerAttentionProbs } from "./selfAttention";
export type { LongformerModelOutputs } from "./model";
export { LONGFORMER_WEIGHT_FILES, LongformerForSequenceClassification, fetchLongformerCheckpoint, longformerClassificationLoss } from "./classification";
export { LongformerPreTrainedModel } from "./pretrainedModel";
export type { LongformerForwardOptions } from "./pretrainedModel";
export type {
  LongformerClassifierOutputs,
  LongformerCreateOptions,
  LongformerLabelledBatch,
  LongformerPretrainedOptions,
  LongformerRunOptions,
} from "./classification";
export { LongformerForMaskedLM, MASKED_LM_IGNORE_INDEX, maskedLMLossSum } from "./maskedLM";
export type { LongformerClassifierFromEncoderOptions, LongformerMaskedLMLoadOptions } from "./maskedLM";
export {
  longformerParameterSpecs,
  longformerEncoderParameterSpecs,
  longformerMaskedLMParameterSpecs,
  mapCheckpointWeights,
  initLongformerWeights,
  longformerWeightsFromCheckpoint,
  longformerWeightsToSafetensors,
} from "./weights";
export type { LongformerCheckpointMapping, LongformerLoadOptions, LongformerParameterSpec, LongformerWeights } from "./weights";
