/** Public surface of src/experiments: grids of training runs in parallel worker processes, and the study. */
export * from "./grid";
export * from "./provenance";
export * from "./tasks";
export * from "./trial";
export * from "./runner";
export * from "./results";
export * from "./syntheticTask";
export * from "./conclusion";
export * from "./report";
export * from "./study";
