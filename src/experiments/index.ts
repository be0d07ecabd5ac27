/** Public surface of src/experiments: grids of training runs in parallel worker processes (any registered task). */
export * from "./grid";
export * from "./provenance";
export * from "./experimentTask";
export * from "./tasks";
export * from "./trial";
export * from "./executor";
export * from "./runProcess";
export * from "./runner";
export * from "./results";
export * from "./syntheticTask";
