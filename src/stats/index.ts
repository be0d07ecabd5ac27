/** Public surface of src/stats: confidence intervals (t over seeds, bootstrap over examples) for experiments and plots. */
export * from "./confidence";
