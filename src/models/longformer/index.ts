/** Public surface of src/models/longformer. */
export {};
