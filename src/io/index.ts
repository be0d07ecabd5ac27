/** Public surface of src/io. */
export {};
