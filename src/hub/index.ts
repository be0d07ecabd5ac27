/** Public surface of src/hub: files of Hugging Face Hub model repos, downloaded into (and shared with) Python's huggingface_hub cache. */
export { HubRepo } from "./repo";
export { isHubRepoId } from "./cacheLayout";
export { defaultHubCacheDir, hubSettings } from "./settings";
export type { HubOptions, HubProgressEvent, HubSettings } from "./settings";
export { pretrainedFolder } from "./pretrained";
