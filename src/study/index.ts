/** Public surface of src/study: the batch-size study on SpamAssassin (task, grid, conclusion, report). */
import "./registerTask";
export * from "./conclusion";
export * from "./criticalBatch";
export * from "./gridFile";
export * from "./report";
export * from "./study";
