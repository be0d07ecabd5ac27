/** Small helpers shared by several folders (internal: not re-exported from the package). */
export { formatNumber } from "./format";
export { groupBy } from "./groupBy";
export { isPositiveInteger, requirePositiveInteger } from "./integers";
export { didYouMean } from "./didYouMean";
export { ANSI, ansiToHTML, colour, stripAnsi } from "./ansi";
