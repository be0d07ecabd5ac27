/** Public surface of src/plots. */
export {};
