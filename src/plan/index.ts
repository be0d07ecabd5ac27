/** Public surface of src/plan: predicted training memory and the batch planner (per-device batch x accumulation). */
export {
  estimateTrainingMemory,
  isCalibratedBackend,
  longformerParameterCount,
  WASM_HEAP_BASE_BYTES,
  WASM_HEAP_FRAGMENTATION,
  WASM_HEAP_LIMIT_BYTES,
} from "./memory";
export type { MemoryEstimate, MemoryEstimateRequest, PlanBackend } from "./memory";
export { batchPlanChart, defaultMemoryBudget, DEFAULT_RAM_FRACTION, formatBytes, parseMemorySize, planBatch, planSummary } from "./plan";
export type { BatchPlan, BatchPlanRequest } from "./plan";
export { longformerBatchPlanner } from "./planner";
export { measureTrainingStepPeak, wasmHeapBytes } from "./measure";
export type { PeakMeasurement, PeakMeasurementOptions } from "./measure";
export { trackBackendMemory } from "./backendMemory";
export type { BackendMemoryTracker } from "./backendMemory";
