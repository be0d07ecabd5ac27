/**
 * Comms and Jupyter widgets through the real protocol: a kernel over ZeroMQ, this test playing the front-end's
 * widget manager (comm_open / comm_msg / comm_close, comm_info, ipywidgets 8's state sync with binary buffers).
 */
import * as assert from "assert";
import type { ExecuteResult, KernelClient } from "./client";
import type { JupyterMessage } from "../../src/kernel/wire";
import { tempDir } from "../helpers";
import { installTestKernelspec, startKernel } from "./harness";

const VIEW_MIME = "application/vnd.jupyter.widget-view+json";

function ofType(outputs: JupyterMessage[], type: string): JupyterMessage[] {
  return outputs.filter((m) => m.header.msg_type === type);
}

/** The comm_open messages of `outputs` by their model name. */
function openedModels(outputs: JupyterMessage[]): { commId: string; target: string; state: Record<string, unknown>; message: JupyterMessage }[] {
  return ofType(outputs, "comm_open").map((m) => {
    const data = m.content.data as { state: Record<string, unknown> };
    return { commId: String(m.content.comm_id), target: String(m.content.target_name), state: data.state, message: m };
  });
}

describe("kernel: comms and widgets (ipywidgets 8 protocol over ZeroMQ)", function () {
  this.timeout(180_000);
  let kernel: KernelClient;

  before(async () => {
    kernel = await startKernel(installTestKernelspec(), tempDir("tsml-notebook-widgets-"));
    const reply = await kernel.request("comm_info_request", {});
    assert.deepStrictEqual(reply.content, { status: "ok", comms: {} }, "a fresh kernel has no comm open");
  });
  after(async () => kernel?.shutdown());

  async function run(code: string): Promise<ExecuteResult> {
    const result = await kernel.execute(code);
    const errors = ofType(result.outputs, "error").map((m) => (m.content.traceback as string[]).join("\n"));
    assert.strictEqual(result.reply.content.status, "ok", `${code}\n${JSON.stringify(result.reply.content)}\n${errors.join("\n")}`);
    return result;
  }

  async function valueOf(expression: string): Promise<string> {
    const { outputs } = await run(expression);
    const [result] = ofType(outputs, "execute_result");
    assert.ok(result, `${expression} has a value`);
    return String((result.content.data as Record<string, unknown>)["text/plain"]);
  }

  async function commInfo(targetName?: string): Promise<Record<string, { target_name: string }>> {
    const reply = await kernel.request("comm_info_request", targetName === undefined ? {} : { target_name: targetName });
    assert.strictEqual(reply.content.status, "ok");
    return reply.content.comms as Record<string, { target_name: string }>;
  }

  /** Sends a comm_msg like a front-end and waits until the kernel is idle after it. */
  async function sendComm(commId: string, data: Record<string, unknown>, buffers: Buffer[] = []): Promise<string> {
    const msgId = await kernel.sendShell("comm_msg", { comm_id: commId, data }, buffers);
    await kernel.waitForIopub((m) => m.parent_header.msg_id === msgId && m.header.msg_type === "status" && m.content.execution_state === "idle");
    return msgId;
  }

  /** Runs a cell that makes `const <name> = new IntSlider(...)`; returns its comm_open messages (layout, style, slider). */
  async function makeSlider(name: string): Promise<{ outputs: JupyterMessage[]; ids: string[] }> {
    const { outputs } = await run(
      `import { IntSlider } from "tsml";\nconst ${name} = new IntSlider({ value: 3, min: 0, max: 10, description: "n" });\n${name}`,
    );
    return { outputs, ids: openedModels(outputs).map((o) => o.commId) };
  }

  it("a cell's slider opens its comm (with its layout and style first) and displays as a widget view", async () => {
    const { outputs } = await makeSlider("shown");
    const opened = openedModels(outputs);
    assert.deepStrictEqual(
      opened.map((o) => o.state._model_name),
      ["LayoutModel", "SliderStyleModel", "IntSliderModel"],
    );
    const [layout, style, slider] = opened;
    assert.ok(opened.every((o) => o.target === "jupyter.widget"));
    assert.ok(
      opened.every((o) => (o.message.metadata as { version?: string }).version === "2.1.0"),
      "comm_open metadata carries the protocol version",
    );
    assert.strictEqual(slider.state._model_module, "@jupyter-widgets/controls");
    assert.strictEqual(slider.state._model_module_version, "2.0.0");
    assert.strictEqual(slider.state._view_name, "IntSliderView");
    assert.strictEqual(layout.state._model_module, "@jupyter-widgets/base");
    assert.strictEqual(slider.state.layout, `IPY_MODEL_${layout.commId}`);
    assert.strictEqual(slider.state.style, `IPY_MODEL_${style.commId}`);
    assert.deepStrictEqual(
      [slider.state.value, slider.state.min, slider.state.max, slider.state.description, slider.state.readout_format],
      [3, 0, 10, "n", "d"],
    );
    const [result] = ofType(outputs, "execute_result");
    assert.deepStrictEqual((result.content.data as Record<string, unknown>)[VIEW_MIME], { version_major: 2, version_minor: 0, model_id: slider.commId });
  });

  it("comm_info lists the open comms with their target_name, filtered by target_name", async () => {
    const { ids } = await makeSlider("listed");
    const all = await commInfo();
    assert.strictEqual(ids.length, 3);
    for (const id of ids) assert.deepStrictEqual(all[id], { target_name: "jupyter.widget" });
    assert.ok(
      Object.values(all).every((c) => c.target_name === "jupyter.widget"),
      JSON.stringify(all),
    );
    assert.deepStrictEqual(Object.keys(await commInfo("jupyter.widget")).sort(), Object.keys(all).sort());
    assert.deepStrictEqual(await commInfo("jupyter.widget.control"), {});
  });

  it("a front-end update sets the kernel-side value, fires observe, and is echoed; a kernel-side set sends an update", async () => {
    const sliderId = (await makeSlider("slider")).ids[2];
    await run('const seen: number[] = [];\nslider.observe("value", (change) => seen.push(change.new));');
    const msgId = await sendComm(sliderId, { method: "update", state: { value: 7 }, buffer_paths: [] });
    assert.strictEqual(await valueOf("JSON.stringify([slider.value, seen])"), "'[7,[7]]'");
    const echo = kernel.iopubReceived((m) => m.parent_header.msg_id === msgId && m.header.msg_type === "comm_msg");
    assert.strictEqual(echo.length, 1);
    assert.deepStrictEqual(echo[0].content.data, { method: "echo_update", state: { value: 7 }, buffer_paths: [] });

    const { outputs } = await run("slider.value = 9;");
    const updates = ofType(outputs, "comm_msg");
    assert.strictEqual(updates.length, 1);
    assert.strictEqual(updates[0].content.comm_id, sliderId);
    assert.deepStrictEqual(updates[0].content.data, { method: "update", state: { value: 9 }, buffer_paths: [] });
    // The kernel clamps like ipywidgets: a value beyond max becomes max, and the front-end is told.
    const clamped = await sendComm(sliderId, { method: "update", state: { value: 50 }, buffer_paths: [] });
    const sent = kernel.iopubReceived((m) => m.parent_header.msg_id === clamped && m.header.msg_type === "comm_msg").map((m) => m.content.data);
    assert.deepStrictEqual(sent, [
      { method: "echo_update", state: { value: 50 }, buffer_paths: [] },
      { method: "update", state: { value: 10 }, buffer_paths: [] },
    ]);
    assert.strictEqual(await valueOf("JSON.stringify(seen)"), "'[7,9,10]'");
  });

  it("request_state answers with the whole state; the control comm's request_states with every widget", async () => {
    const sliderId = (await makeSlider("requested")).ids[2];
    await run("requested.value = 10;");
    const stateMsg = await sendComm(sliderId, { method: "request_state" });
    const [full] = kernel.iopubReceived((m) => m.parent_header.msg_id === stateMsg && m.header.msg_type === "comm_msg");
    const data = full.content.data as { method: string; state: Record<string, unknown> };
    assert.strictEqual(data.method, "update");
    assert.strictEqual(data.state._model_name, "IntSliderModel");
    assert.strictEqual(data.state.value, 10);

    const controlId = "control-comm-1";
    const openId = await kernel.sendShell("comm_open", { comm_id: controlId, target_name: "jupyter.widget.control", data: {} });
    await kernel.waitForIopub((m) => m.parent_header.msg_id === openId && m.header.msg_type === "status" && m.content.execution_state === "idle");
    assert.deepStrictEqual(await commInfo("jupyter.widget.control"), { [controlId]: { target_name: "jupyter.widget.control" } });
    const requestId = await sendComm(controlId, { method: "request_states" });
    const [states] = kernel.iopubReceived((m) => m.parent_header.msg_id === requestId && m.header.msg_type === "comm_msg");
    const content = states.content.data as {
      method: string;
      states: Record<string, { model_name: string; model_module: string; state: Record<string, unknown> }>;
    };
    assert.strictEqual(content.method, "update_states");
    assert.deepStrictEqual(Object.keys(content.states).sort(), Object.keys(await commInfo("jupyter.widget")).sort(), "every open widget");
    assert.deepStrictEqual(
      [content.states[sliderId].model_name, content.states[sliderId].model_module, content.states[sliderId].state.value],
      ["IntSliderModel", "@jupyter-widgets/controls", 10],
    );
    await kernel.sendShell("comm_close", { comm_id: controlId, data: {} });
    assert.deepStrictEqual(await commInfo("jupyter.widget.control"), {});
  });

  it("binary buffers round-trip: state buffers at nested paths, front-end buffers put back, custom messages with buffers", async () => {
    const { outputs } = await run(
      [
        'import { Widget, CONTROLS_MODULE } from "tsml/widgets";',
        "interface Blob { data: Uint8Array; meta: { nested: unknown[] } }",
        "class Blob extends Widget {",
        '  constructor() { super({ modelModule: CONTROLS_MODULE, modelName: "BlobModel", viewModule: null, viewName: null }, { data: new Uint8Array([1, 2, 3]), meta: { nested: [1, new Float32Array([0.5])] } }); }',
        "}",
        "const blob = new Blob();",
        "const received: number[][] = [];",
        "blob.onCustomMessage((content, buffers) => { received.push(...buffers.map((b) => Array.from(b))); blob.send({ echo: content }, buffers); });",
      ].join("\n"),
    );
    const [open] = ofType(outputs, "comm_open");
    const data = open.content.data as { state: Record<string, unknown>; buffer_paths: unknown[] };
    assert.deepStrictEqual(data.buffer_paths, [["data"], ["meta", "nested", 1]]);
    assert.ok(!("data" in data.state), "a buffer in an object is removed from the JSON state");
    assert.deepStrictEqual(data.state.meta, { nested: [1, null] }, "a buffer in a list is replaced by null");
    assert.deepStrictEqual([...open.buffers[0]], [1, 2, 3]);
    assert.deepStrictEqual([...new Float32Array(new Uint8Array(open.buffers[1]).buffer)], [0.5]);

    const blobId = String(open.content.comm_id);
    await sendComm(blobId, { method: "update", state: { meta: { nested: [2, null] } }, buffer_paths: [["data"], ["meta", "nested", 1]] }, [
      Buffer.from([4, 5, 6, 7]),
      Buffer.from([8]),
    ]);
    assert.strictEqual(
      await valueOf("JSON.stringify([Array.from(blob.data), blob.meta.nested[0], Array.from(blob.meta.nested[1] as Uint8Array)])"),
      "'[[4,5,6,7],2,[8]]'",
    );

    const customId = await sendComm(blobId, { method: "custom", content: { kind: "bytes" } }, [Buffer.from([9, 10])]);
    const [reply] = kernel.iopubReceived((m) => m.parent_header.msg_id === customId && m.header.msg_type === "comm_msg");
    assert.deepStrictEqual(reply.content.data, { method: "custom", content: { echo: { kind: "bytes" } } });
    assert.deepStrictEqual([...reply.buffers[0]], [9, 10]);
    assert.strictEqual(await valueOf("JSON.stringify(received)"), "'[[9,10]]'");
  });

  it("a comm_msg arriving while a cell awaits is handled at once: a button click ends a cell that waits for it", async () => {
    const { outputs } = await run(
      'import { Button } from "tsml";\nconst stop = new Button({ description: "Stop" });\nlet clicks = 0;\nstop.onClick(() => clicks++);\nstop',
    );
    const buttonId = openedModels(outputs).find((o) => o.state._model_name === "ButtonModel")!.commId;
    const { msgId, done } = await kernel.startExecute(
      'let turns = 0;\nconsole.log("waiting for a click");\nwhile (clicks === 0) { turns++; await new Promise((r) => setTimeout(r, 5)); }\n`clicked after ${turns > 0 ? "waiting" : "no wait"}`',
    );
    // Click once the cell runs its loop (it printed before entering it).
    await kernel.waitForIopub(
      (m) => m.parent_header.msg_id === msgId && m.header.msg_type === "stream" && String(m.content.text).includes("waiting for a click"),
    );
    const clickId = await kernel.sendShell("comm_msg", { comm_id: buttonId, data: { method: "custom", content: { event: "click" } } });
    const { reply, outputs: cellOutputs } = await done;
    assert.strictEqual(reply.content.status, "ok");
    const [result] = ofType(cellOutputs, "execute_result");
    assert.strictEqual((result.content.data as Record<string, unknown>)["text/plain"], "'clicked after waiting'");
    // The click has its busy/idle (ipywidgets' front-end waits for it), then the running cell is announced busy again.
    const clickStatus = kernel.iopubReceived((m) => m.parent_header.msg_id === clickId && m.header.msg_type === "status").map((m) => m.content.execution_state);
    assert.deepStrictEqual(clickStatus, ["busy", "idle"]);
    const afterClick = kernel.iopubReceived(() => true);
    const idleAt = afterClick.findIndex((m) => m.parent_header.msg_id === clickId && m.content.execution_state === "idle");
    const next = afterClick.slice(idleAt + 1).find((m) => m.header.msg_type === "status");
    assert.deepStrictEqual([next?.parent_header.msg_id, next?.content.execution_state], [msgId, "busy"]);
  });

  it("an Output widget captures a cell's prints through msg_id; interact reruns into its Output when a control changes", async () => {
    const captured = await run('import { Output } from "tsml";\nconst out = new Output();\nawait out.capture(() => console.log("inside"));');
    const cellId = captured.reply.parent_header.msg_id;
    const outId = openedModels(captured.outputs).find((o) => o.state._model_name === "OutputModel")!.commId;
    const order = captured.outputs
      .filter((m) => (m.header.msg_type === "comm_msg" && m.content.comm_id === outId) || m.header.msg_type === "stream")
      .map((m) => (m.header.msg_type === "stream" ? `stream:${m.content.text}` : `msg_id:${(m.content.data as { state: { msg_id: string } }).state.msg_id}`));
    assert.deepStrictEqual(order, [`msg_id:${cellId}`, "stream:inside\n", "msg_id:"]);

    const made = await run(
      'import { interact } from "tsml";\nconst ui = interact(({ n, lr, mode }) => `${n} ${lr.toExponential(0)} ${mode}`, { n: [1, 5], lr: [1e-5, 1e-3], mode: ["adamw", "sgd"] });\nawait ui.settled();',
    );
    const models = openedModels(made.outputs).map((o) => o.state._model_name);
    for (const model of ["IntSliderModel", "FloatLogSliderModel", "DropdownModel", "OutputModel", "VBoxModel"])
      assert.ok(models.includes(model), `interact made a ${model}: ${models}`);
    const first = ofType(made.outputs, "display_data").map((m) => (m.content.data as Record<string, string>)["text/plain"]);
    assert.deepStrictEqual(first, ["3 1e-4 adamw"]);
    const nId = JSON.parse((await valueOf("JSON.stringify(ui.controls.n.modelId)")).slice(1, -1));
    const changeId = await kernel.sendShell("comm_msg", { comm_id: nId, data: { method: "update", state: { value: 5 }, buffer_paths: [] } });
    await run("await ui.settled();");
    const rerun = kernel.iopubReceived((m) => m.parent_header.msg_id === changeId && m.header.msg_type === "display_data");
    assert.deepStrictEqual(
      rerun.map((m) => (m.content.data as Record<string, string>)["text/plain"]),
      ["5 1e-4 adamw"],
      "the rerun's output belongs to the comm_msg (the Output captures it)",
    );
    const outputMsgIds = kernel
      .iopubReceived((m) => m.parent_header.msg_id === changeId && m.header.msg_type === "comm_msg")
      .map((m) => (m.content.data as { state?: { msg_id?: string } }).state?.msg_id)
      .filter((v) => v !== undefined);
    assert.deepStrictEqual(outputMsgIds, [changeId, ""]);
  });

  it("the dashboard's Stop button, clicked while a training runs in a cell, ends it with stoppedReason and no leaked tensor", async () => {
    const { outputs } = await run(
      [
        'import * as tf from "@tensorflow/tfjs";',
        'import { Trainer, classifierFromFunction, trainingDashboard } from "tsml";',
        "type Batch = { x: tf.Tensor2D; y: tf.Tensor1D };",
        "const w = tf.variable(tf.zeros([2, 2]));",
        "const bias = tf.variable(tf.zeros([2]));",
        "const model = classifierFromFunction<Batch>([w, bias], (b) => tf.tidy(() => b.x.matMul(w).add(bias)), (b) => b.y);",
        'const trainData = { size: 8, collate: (idx: number[]) => ({ x: tf.tensor2d(idx.map((i) => [i % 2, 1 - (i % 2)]), [idx.length, 2]), y: tf.tensor1d(idx.map((i) => i % 2), "int32") }) };',
        "const dashboard = trainingDashboard();",
        "dashboard",
      ].join("\n"),
    );
    const buttonId = openedModels(outputs).find((o) => o.state._model_name === "ButtonModel")!.commId;
    const { msgId, done } = await kernel.startExecute(
      [
        "const tensorsAtStep: number[] = [];",
        'const trainer = new Trainer({ model, trainData, args: { perDeviceBatchSize: 2, maxSteps: 1_000_000, progress: "none" },',
        '  callbacks: [dashboard, { onStepEnd: (info) => { tensorsAtStep.push(tf.memory().numTensors); if (info.step === 3) console.log("training runs"); } }] });',
        "const result = await trainer.train();",
        "const flat = tensorsAtStep.every((n) => n === tensorsAtStep[0]);",
        "trainer.dispose();",
        "JSON.stringify({ reason: result.stoppedReason, steps: result.globalStep, logged: trainer.history.records.at(-1)?.step, flat, button: dashboard.stopButton.description })",
      ].join("\n"),
    );
    await kernel.waitForIopub((m) => m.parent_header.msg_id === msgId && m.header.msg_type === "stream" && String(m.content.text).includes("training runs"));
    await kernel.sendShell("comm_msg", { comm_id: buttonId, data: { method: "custom", content: { event: "click" } } });
    const { reply, outputs: cellOutputs } = await done;
    assert.strictEqual(reply.content.status, "ok", JSON.stringify(reply.content));
    const [result] = ofType(cellOutputs, "execute_result");
    const summary = JSON.parse(String((result.content.data as Record<string, string>)["text/plain"]).slice(1, -1)) as {
      reason: string;
      steps: number;
      logged: number;
      flat: boolean;
      button: string;
    };
    assert.match(summary.reason, new RegExp(`stopped from the dashboard's Stop button after step ${summary.steps}$`));
    assert.ok(summary.steps > 3 && summary.steps < 1_000_000, `stopped part way: ${summary.steps}`);
    assert.strictEqual(summary.logged, summary.steps, "the stopping step is in the history");
    assert.strictEqual(summary.flat, true, "tf.memory().numTensors stays flat across steps");
    assert.strictEqual(summary.button, "Stopped");
  });

  it("link keeps two sliders equal in the kernel, jslink makes a LinkModel; a front-end comm_close and an unknown target close the comm", async () => {
    const { outputs } = await run(
      'import { link, IntSlider } from "tsml";\nconst a = new IntSlider({ value: 1 });\nconst b = new IntSlider({ value: 2 });\nlink(a, "value", b, "value");\nJSON.stringify([a.value, b.value])',
    );
    assert.strictEqual((ofType(outputs, "execute_result")[0].content.data as Record<string, string>)["text/plain"], "'[1,1]'");
    const aId = openedModels(outputs).filter((o) => o.state._model_name === "IntSliderModel")[0].commId;
    await sendComm(aId, { method: "update", state: { value: 42 }, buffer_paths: [] });
    assert.strictEqual(await valueOf("JSON.stringify([a.value, b.value])"), "'[42,42]'");

    const js = await run('import { jslink } from "tsml";\njslink(a, "value", b, "value");');
    const [linkModel] = openedModels(js.outputs);
    const bId = openedModels(outputs).filter((o) => o.state._model_name === "IntSliderModel")[1].commId;
    assert.deepStrictEqual(
      [linkModel.state._model_name, linkModel.state._model_module, linkModel.state.source, linkModel.state.target],
      ["LinkModel", "@jupyter-widgets/controls", [`IPY_MODEL_${aId}`, "value"], [`IPY_MODEL_${bId}`, "value"]],
    );

    await kernel.sendShell("comm_close", { comm_id: aId, data: {} });
    assert.strictEqual(await valueOf("a.closed"), "true");
    assert.ok(!(aId in (await commInfo())));

    const unknownId = await kernel.sendShell("comm_open", { comm_id: "nobody-1", target_name: "no.such.target", data: {} });
    const closed = await kernel.waitForIopub((m) => m.parent_header.msg_id === unknownId && m.header.msg_type === "comm_close");
    assert.strictEqual(closed.content.comm_id, "nobody-1");
  });
});
