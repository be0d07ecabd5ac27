/** Public surface of src/data: labelled text loading and validation, SpamAssassin, splits, statistics, batching. */
export {
  DataIssue,
  DataValidationError,
  DatasetFiles,
  LoadedSplits,
  TextDataset,
  TextDatasetOptions,
  loadTextDataset,
  loadTextDatasets,
  textDatasetFromRecords,
} from "./dataset";
export { RawRecord, RawTable, readCsv, readJsonl, readLabelFolders } from "./readers";
export { SpamAssassinOptions, loadSpamAssassin, stripMailHeaders } from "./spamAssassin";
export { DatasetSplit, SplitFractions, StratifiedSplitOptions, classBalance, stratifiedSplit } from "./split";
export { TokenLengthStatsOptions, tokenLengthStats } from "./stats";
export {
  BatchPosition,
  ClassificationBatch,
  EncodedClassificationData,
  PaddingStats,
  SequenceClassificationData,
  SequenceClassificationOptions,
  TokenIdEncoder,
  encodeForClassification,
  sequenceClassificationData,
} from "./batching";
export {
  LanguageModelingMaskOptions,
  MaskedLanguageModelingBatch,
  MaskedLanguageModelingData,
  MaskedLanguageModelingDataOptions,
  MaskedSequence,
  maskTokensForLanguageModeling,
  maskedLanguageModelingData,
} from "./languageModeling";
