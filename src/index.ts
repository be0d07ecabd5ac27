/** tsml: machine learning in TypeScript notebooks. The public surface of every part is re-exported here. */
export * from "./backend";
export * from "./random";
export * from "./io";
export * from "./hub";
export * from "./supervision";
export * from "./package";
export * from "./display";
export * from "./kernel";
export * from "./train";
export * from "./models/longformer";
export * from "./tokenizers";
export * from "./data";
export * from "./plots";
export * from "./stats";
export * from "./experiments";
export * from "./study";
export * from "./plan";
