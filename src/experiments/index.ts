/** Public surface of src/experiments: grids of training runs in parallel worker processes (any registered task). */
export * from "./grid";
export * from "./provenance";
export * from "./tasks";
export * from "./trial";
export * from "./runner";
export * from "./results";
export * from "./syntheticTask";
