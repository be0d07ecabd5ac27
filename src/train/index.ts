/** Public surface of src/train. */
export {};
