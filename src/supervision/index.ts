/** Process supervision: is a process alive, one owner per folder (advisory lock), ending with the parent. */
export { ProcessIdentity, currentParentPid, isProcessAlive, processIdentity } from "./processes";
export { FolderLease, FolderLock, FolderLockOptions, FolderLockedError, FOLDER_LOCK_FILE, LockOwner, acquireFolderLock } from "./folderLock";
export { ParentWatchOptions, watchParentProcess } from "./parentWatch";
