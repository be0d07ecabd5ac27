/** Registers the study's tasks ("spam-longformer", "text-longformer"); worker processes require this module to register them too. */
import { registerExperimentTask } from "../experiments";

registerExperimentTask(() => (require("./spamTask") as typeof import("./spamTask")).spamLongformerTask, { name: "spam-longformer", module: __filename });
registerExperimentTask(() => (require("./spamTask") as typeof import("./spamTask")).textLongformerTask, { name: "text-longformer", module: __filename });
