/** Public surface of src/experiments. */
export {};
