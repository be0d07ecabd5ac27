/** Public surface of src/queue: sweeps past one machine — grid trials as BullMQ jobs on Redis, served by `tsml worker`s. */
export {
  checkRedisUrl,
  maskQueueArguments,
  maskRedisUrl,
  probeRedis,
  resolveQueueUrl,
  DEFAULT_CONNECT_TIMEOUT_SECONDS,
  QUEUE_URL_VARIABLE,
} from "./connection";
export {
  TRIAL_QUEUE,
  localTrialJob,
  trialEnvironment,
  trialJobId,
  tsmlSourceDir,
  type TrialJobData,
  type TrialProgress,
  type TrialResult,
  type TrialWorkerIdentity,
} from "./trials";
export { runTrialsOnQueue, DEFAULT_TRIAL_ATTEMPTS, type QueueRunOptions } from "./coordinator";
export { startTrialWorker, DEFAULT_LOCK_SECONDS, MAX_STALLED_COUNT, type TrialWorker, type TrialWorkerOptions } from "./trialWorker";
export { queueExecutor, type QueueExecutorOptions } from "./executor";
