/** Notebooks headless: reading and writing nbformat 4, executing in a fresh tsml kernel, parameters, HTML export. */
export { readNotebook, writeNotebook, cellSource, checkNotebook, requireTsmlKernel, copyNotebook, clearOutputs, TSML_KERNEL_NAME } from "./format";
export type { Notebook, NotebookCell, NotebookOutput } from "./format";
export { KernelProcess } from "./kernelProcess";
export type { CellOutcome, KernelProcessOptions } from "./kernelProcess";
export { executeNotebook, runCell, describeProgress } from "./execute";
export type { ExecuteOptions, ExecutionResult, CellProgress } from "./execute";
export { injectParameters, parseParameter, hasTag, PARAMETERS_TAG, INJECTED_PARAMETERS_TAG } from "./parameters";
export type { ParameterValue } from "./parameters";
export { notebookToHTML } from "./html";
/** Tracebacks carry ANSI colours (as ipykernel's do); this removes them. */
export { stripAnsi } from "../util";
export { trimChartOutputs, DEFAULT_MAX_CHART_DATA_BYTES } from "./trimCharts";
