/** Public surface of src/stats: confidence intervals (t over seeds, bootstrap over examples) and the 1/sqrt(B) fit, for experiments and plots. */
export * from "./confidence";
export * from "./sqrtLaw";
export * from "./criticalBatch";
