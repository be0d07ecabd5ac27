/** Public surface of src/tokenizers: byte-level BPE (HF-compatible) loading, encoding, decoding and training. */
export * from "./bpeTokenizer";
export * from "./load";
export * from "./train";
