/** Public surface of src/tokenizers. */
export {};
