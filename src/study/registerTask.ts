/** Registers the study's "spam-longformer" task; worker processes require this module to register it too. */
import { registerExperimentTask } from "../experiments";

registerExperimentTask(() => require("./spamTask").spamLongformerTask, { name: "spam-longformer", module: __filename });
