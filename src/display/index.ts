/** The display contract between tsml's library code and a notebook: mime bundles, `display`, handles, `clearOutput`. */
export * from "./display";
export * from "./comm";
