/** Environment variable in which `runGrid` passes its pid to its workers (they end when that process does). */
export const GRID_PID_VARIABLE = "TSML_GRID_PID";
