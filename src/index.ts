/** tsml: machine learning in TypeScript notebooks. The public surface of every part is re-exported here. */
export * from "./backend";
