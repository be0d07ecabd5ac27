/** Where a `fromPretrained(location)` loads from: a local folder as it is, or a Hub repo's files in the shared cache. */
import * as fs from "fs";
import { isHubRepoId } from "./cacheLayout";
import { HubRepo } from "./repo";
import type { HubOptions } from "./settings";

/**
 * The folder to load from: `location` itself when it is a local folder, else the cached snapshot of the Hub repo
 * `location` (`org/name`) once `fetchFiles` has fetched what the loader needs into it.
 */
export async function pretrainedFolder(location: string, options: HubOptions, fetchFiles: (repo: HubRepo) => Promise<void>): Promise<string> {
  if (fs.existsSync(location)) {
    if (!fs.statSync(location).isDirectory())
      throw new Error(`${location}: expected a folder (or a Hugging Face Hub repo id such as "allenai/longformer-base-4096"), found a file`);
    return location;
  }
  if (!isHubRepoId(location)) throw new Error(`${location}: no such folder, and not a Hugging Face Hub repo id ("name" or "org/name")`);
  const repo = new HubRepo(location, options);
  await fetchFiles(repo);
  return repo.folder;
}
