/** File formats and crash-safe writes shared by models, the trainer and experiments. */
export * from "./atomic";
export * from "./folders";
export * from "./paths";
export * from "./safetensors";
export * from "./torchCheckpoint";
export * from "./tfrecord";
export * from "./tensorboard";
