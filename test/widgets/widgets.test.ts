/** Widget models outside a kernel (state kept locally): fields, observe, coercion, interact's controls, buffers. */
import { strict as assert } from "assert";
import { Checkbox, Dropdown, FloatLogSlider, FloatSlider, IntSlider, interact, putBuffers, removeBuffers, Text, VBox } from "../../src/widgets";

describe("widgets: models outside a kernel", () => {
  it("removeBuffers takes binary values out at their paths (dropped from objects, null in lists); putBuffers puts them back", () => {
    const bytes = new Uint8Array([1, 2]);
    const floats = new Float32Array([0.5]);
    const split = removeBuffers({ a: 1, data: bytes, nested: { list: [3, floats, "x"] } });
    assert.deepEqual(split.state, { a: 1, nested: { list: [3, null, "x"] } });
    assert.deepEqual(split.buffer_paths, [["data"], ["nested", "list", 1]]);
    assert.equal(split.buffers.length, 2);
    assert.deepEqual([...split.buffers[0]], [1, 2]);
    assert.deepEqual([...new Float32Array(split.buffers[1].buffer, split.buffers[1].byteOffset, 1)], [0.5]);
    putBuffers(split.state, split.buffer_paths, split.buffers);
    assert.equal((split.state as Record<string, unknown>).data, split.buffers[0]);
    assert.equal((split.state.nested as { list: unknown[] }).list[1], split.buffers[1]);
    assert.throws(() => putBuffers({}, [["a"], ["b"]], [bytes]), /names 2 buffer paths but carries 1 buffers/);
  });

  it("fields are accessors; observe sees each change once with old and new; sliders clamp and round", () => {
    const slider = new IntSlider({ value: 5, min: 0, max: 10 });
    const changes: [number, number][] = [];
    const stop = slider.observe("value", (change) => changes.push([change.old, change.new]));
    slider.value = 7.6;
    slider.value = 8; // the same value after rounding: no change
    slider.value = 99;
    stop();
    slider.value = 1;
    assert.deepEqual(changes, [
      [5, 8],
      [8, 10],
    ]);
    assert.equal(slider.value, 1);
    assert.throws(() => slider.observe("nothing" as never, () => undefined), /IntSliderModel has no field "nothing"/);
    assert.throws(() => new FloatSlider({ min: 2, max: 1 }), /min <= max, got min 2 and max 1/);
    assert.match(slider.describe(), /^IntSlider\(.*value=1.*\)$/);
  });

  it("a Dropdown syncs the index and maps it to its labels; a bad label is refused naming the options", () => {
    const dropdown = new Dropdown({ options: ["adamw", "sgd"], value: "sgd" });
    assert.deepEqual([dropdown.index, dropdown.value], [1, "sgd"]);
    const seen: (string | undefined)[] = [];
    dropdown.onChange((value) => seen.push(value));
    dropdown.value = "adamw";
    assert.deepEqual([dropdown.index, seen], [0, ["adamw"]]);
    assert.throws(() => (dropdown.value = "lion"), /"lion" is not one of the options \["adamw","sgd"\]/);
    assert.throws(() => new Dropdown({ options: ["a"], value: "b" }), /value "b" is not one of the options/);
  });

  it("interact picks controls as ipywidgets does: a log slider across decades, integers, options, booleans, text; reruns on change", async () => {
    const calls: string[] = [];
    const ui = interact((v) => void calls.push(JSON.stringify(v)), {
      lr: [1e-5, 1e-3],
      layers: [1, 12],
      dropout: [0, 0.5],
      optimizer: ["adamw", "sgd"],
      warmup: true,
      name: "run",
    });
    assert.ok(ui instanceof VBox);
    assert.ok(ui.controls.lr instanceof FloatLogSlider);
    assert.ok(ui.controls.layers instanceof IntSlider);
    assert.ok(ui.controls.dropout instanceof FloatSlider);
    assert.ok(ui.controls.optimizer instanceof Dropdown);
    assert.ok(ui.controls.warmup instanceof Checkbox);
    assert.ok(ui.controls.name instanceof Text);
    await ui.settled();
    assert.equal(calls.length, 1);
    const first = JSON.parse(calls[0]) as { lr: number; layers: number; dropout: number; optimizer: string; warmup: boolean; name: string };
    assert.ok(Math.abs(first.lr - 1e-4) < 1e-12, `the log slider starts at the geometric middle: ${first.lr}`);
    assert.deepEqual([first.layers, first.dropout, first.optimizer, first.warmup, first.name], [7, 0.25, "adamw", true, "run"]);
    ui.controls.layers.value = 3;
    await ui.settled();
    assert.equal(calls.length, 2);
    assert.equal((JSON.parse(calls[1]) as { layers: number }).layers, 3);
    assert.throws(() => interact(() => undefined, { bad: [3, 1] }), /bad is \[3,1\]; expected \[min, max\]/);
  });
});
