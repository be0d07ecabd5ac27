/** tsml's row kernels (kernels/rows.c) on a WASM backend's memory: copies, gathers and sums by whole rows. */
import { rowsWasmBase64 } from "./kernels/rowsWasm";
import { WasmBackendInternals, wasmModuleExports } from "./wasmModules";

/** The functions of kernels/rows.c; every pointer is a byte offset into the backend's heap. */
export interface RowsModuleExports {
  transpose_2d(x: number, out: number, rows: number, cols: number): void;
  swap_axes(x: number, out: number, outer: number, a: number, b: number, inner: number): void;
  gather_rows(table: number, indices: number, out: number, count: number, width: number): void;
  scatter_add_rows(x: number, segments: number, out: number, count: number, width: number, numSegments: number): void;
  take_columns(x: number, out: number, rows: number, inWidth: number, start: number, outWidth: number): void;
  place_columns(x: number, out: number, rows: number, inWidth: number, outWidth: number, offset: number, zeroRest: number): void;
  sum_rows(x: number, out: number, rows: number, cols: number): void;
}

/** The row kernels instantiated on `backend`'s memory. */
export function rowsModule(backend: WasmBackendInternals): RowsModuleExports {
  return wasmModuleExports<RowsModuleExports>(backend, rowsWasmBase64);
}
