/**
 * tsml: machine learning in TypeScript notebooks. This entry point exports, by name, what a notebook needs: the
 * backend, the Trainer, the Longformer and its tokenizer, data, charts, statistics, the study and the classroom's
 * checks. The machinery behind them has its own entry points: `tsml/experiments` (grids of runs), `tsml/queue`
 * (sweeps on Redis), `tsml/study`, `tsml/plan` (memory plans), `tsml/hub`, `tsml/io` (safetensors, torch
 * checkpoints, TensorBoard), `tsml/backend`, `tsml/kernel`, `tsml/notebook`, `tsml/classroom`, `tsml/train`, `tsml/widgets`,
 * `tsml/plots`, `tsml/data`, `tsml/models`, `tsml/tokenizers` (package.json "exports").
 */

// Compute backend.
export { initBackend, describeBackend, backendInfo, type BackendInfo, type BackendName, type BackendOptions } from "./backend";

// Random numbers and display.
export { SeededRng, deriveSeed } from "./random";
export { display, clearOutput, inKernel, JUPYTER_DISPLAY, type DisplayHandle, type Displayable, type MimeBundle } from "./display";

// Training.
export {
  Trainer,
  TrainingDivergedError,
  DEFAULT_TRAINING_ARGUMENTS,
  classifierFromLayersModel,
  classifierFromFunction,
  evaluateClassifier,
  classificationMetrics,
  confusionMatrix,
  earlyStopping,
  historyToFrame,
  smoothLoss,
  windowStats,
  rollingLossStats,
  noiseScaleAdvice,
  tensorBoardCallback,
  type TrainerOptions,
  type TrainResult,
  type TrainingArguments,
  type TrainingArgumentsInput,
  type TrainerCallback,
  type TrainerControl,
  type StepEndInfo,
  type TrainableModel,
  type TrainingData,
  type ClassifierBatch,
  type ClassificationMetrics,
  type EvaluationResult,
  type TrainingLogRecord,
  type LrScheduleName,
  type ProgressMode,
} from "./train";

// The Longformer, its tokenizer and data.
export {
  LongformerConfig,
  LongformerForSequenceClassification,
  LongformerForMaskedLM,
  prepareLongformerBatch,
  type LongformerConfigInit,
  type LongformerBatch,
  type LongformerCreateOptions,
  type LongformerPretrainedOptions,
} from "./models/longformer";
export {
  BpeTokenizer,
  loadTokenizer,
  tokenizerFromPretrained,
  trainBpeTokenizer,
  type LoadTokenizerOptions,
  type TrainBpeOptions,
  type TokenizerEncoding,
} from "./tokenizers";
export {
  loadSpamAssassin,
  loadTextDataset,
  loadTextDatasets,
  textDatasetFromRecords,
  readCsv,
  readJsonl,
  readLabelFolders,
  stratifiedSplit,
  classBalance,
  tokenLengthStats,
  encodeForClassification,
  sequenceClassificationData,
  maskedLanguageModelingData,
  DataValidationError,
  type TextDataset,
  type DatasetSplit,
  type SequenceClassificationData,
} from "./data";

// Charts.
export {
  chart,
  VegaLiteChart,
  VEGA_LITE_MIME,
  lossCurveChart,
  runComparisonChart,
  metricComparisonChart,
  fluctuationChart,
  noiseScaleChart,
  confusionMatrixChart,
  lengthHistogramChart,
  memoryPlanChart,
  liveChart,
  LiveChart,
  renderVegaLiteSVG,
  svgToPNG,
  vegaLiteToHTML,
  type VegaLiteSpec,
  type TableInput,
  type LabelledRun,
  type LossCurveOptions,
  type RunComparisonOptions,
  type MetricComparisonOptions,
  type FluctuationOptions,
  type NoiseScaleOptions,
  type ConfusionMatrixOptions,
  type LengthHistogramOptions,
  type LiveChartOptions,
} from "./plots";

// Jupyter widgets (ipywidgets 8's protocol) and the training dashboard; the protocol's parts in tsml/widgets.
export {
  IntSlider,
  FloatSlider,
  FloatLogSlider,
  Dropdown,
  Checkbox,
  Button,
  Text,
  Label,
  HTML,
  Output,
  IntProgress,
  FloatProgress,
  HBox,
  VBox,
  Play,
  Layout,
  Style,
  Widget,
  link,
  dlink,
  jslink,
  jsdlink,
  interact,
  Interactive,
  trainingDashboard,
  TrainingDashboard,
  type TrainingDashboardOptions,
  type Change,
} from "./widgets";

// Statistics.
export {
  tInterval,
  bootstrapInterval,
  intervalsSeparate,
  formatInterval,
  fitSqrtLaw,
  fitCriticalBatch,
  type ConfidenceInterval,
  type SqrtLawFit,
  type CriticalBatchFit,
  type StepsToTarget,
} from "./stats";

// The study and the grids behind it (more in tsml/experiments and tsml/study).
export { runStudy, resultsDisplay, type StudyOptions, type StudyOutcome } from "./study";
export {
  runGrid,
  getExperimentTask,
  registerExperimentTask,
  readGridResults,
  readGridHistories,
  type GridSpec,
  type GridRunOptions,
  type GridRunSummary,
  type RunResult,
} from "./experiments";

// Memory plans, the Hub, the classroom's checks and the kernelspec.
export { planBatch, planSummary, estimateTrainingMemory } from "./plan";
export { HubRepo } from "./hub";
export { check, checkClose, CheckFailed } from "./classroom";
export { KERNELSPEC_NAME, installKernelspec } from "./kernel";
