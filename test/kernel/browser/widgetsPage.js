// The browser side of test/kernel/widgetsBrowser.test.ts (bundled by esbuild; not compiled by tsc): ipywidgets' own
// front-end (@jupyter-widgets/html-manager with the controls and output models) talking to a kernel through a real
// Jupyter server with @jupyterlab/services, the client library JupyterLab uses. The page exposes `window.tsmlPage`.
import { KernelManager, ServerConnection } from "@jupyterlab/services";
import { HTMLManager } from "@jupyter-widgets/html-manager";
import { shims } from "@jupyter-widgets/base";
import "@jupyter-widgets/controls/css/widgets-base.css";
import "@fortawesome/fontawesome-free/css/all.min.css";

const VIEW_MIME = "application/vnd.jupyter.widget-view+json";

/** An HTMLManager whose comms are the kernel's (what jupyterlab-manager does for JupyterLab). */
class KernelWidgetManager extends HTMLManager {
  constructor(kernel) {
    super();
    this.kernel = kernel;
    kernel.registerCommTarget("jupyter.widget", (comm, msg) => {
      void this.handle_comm_open(new shims.services.Comm(comm), msg);
    });
  }

  async _create_comm(targetName, modelId, data, metadata, buffers) {
    const comm = this.kernel.createComm(targetName, modelId);
    if (data || metadata) comm.open(data, metadata, buffers);
    return new shims.services.Comm(comm);
  }

  async _get_comm_info() {
    const reply = await this.kernel.requestCommInfo({ target_name: "jupyter.widget" });
    return reply.content.comms;
  }
}

let kernel;
let manager;

/**
 * Runs `code` in the kernel; displays every widget view it outputs in a new block (`#cell-<n>`); resolves with the
 * reply's status, the text outputs and n.
 */
async function run(code) {
  const block = document.createElement("div");
  block.className = "cell";
  const cells = document.getElementById("cells");
  const index = cells.children.length;
  block.id = `cell-${index}`;
  cells.appendChild(block);
  const texts = [];
  const views = [];
  const future = kernel.requestExecute({ code, stop_on_error: true });
  future.onIOPub = (msg) => {
    const type = msg.header.msg_type;
    if (type === "display_data" || type === "execute_result") {
      const view = msg.content.data[VIEW_MIME];
      if (view) {
        const el = document.createElement("div");
        block.appendChild(el);
        views.push(manager.get_model(view.model_id).then((model) => manager.create_view(model)).then((v) => manager.display_view(v, el)));
      } else if (msg.content.data["text/plain"] !== undefined) texts.push(String(msg.content.data["text/plain"]));
    } else if (type === "stream") texts.push(msg.content.text);
    else if (type === "error") texts.push(`${msg.content.ename}: ${msg.content.evalue}`);
  };
  const reply = await future.done;
  await Promise.all(views);
  return { status: reply.content.status, texts, cell: index };
}

window.tsmlPage = {
  /** Starts a kernel of `kernelName` through the server this page came from. */
  async start(kernelName, token) {
    const serverSettings = ServerConnection.makeSettings({ baseUrl: `${location.origin}/`, wsUrl: `ws://${location.host}/`, token });
    const kernels = new KernelManager({ serverSettings });
    kernel = await kernels.startNew({ name: kernelName });
    manager = new KernelWidgetManager(kernel);
    await kernel.info;
    return kernel.id;
  },
  run,
  /** Starts `code` without waiting; `running` resolves as `run` does. */
  start_run(code) {
    this.running = run(code);
    return true;
  },
  running: undefined,
  async shutdown() {
    await kernel.shutdown();
    return true;
  },
};
