export * from "./smoothing";
