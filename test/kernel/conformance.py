"""Debian's jupyter_kernel_test run against the "TypeScript ML" kernel.

Run by test/kernel/conformance.test.ts with /usr/bin/python3 -m unittest, with JUPYTER_PATH pointing at a
temporary prefix where the kernelspec was installed under the name in $TSML_KERNEL_NAME.

Skipped on purpose (jupyter_kernel_test skips a test whose sample is left empty):
  - test_pager (code_page_something): the kernel has no pager payloads; documentation comes from inspect_request.
"""
import os
import unittest

import jupyter_kernel_test
from jupyter_kernel_test.msgspec_v5 import validate_message


class TypeScriptMLKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = os.environ.get("TSML_KERNEL_NAME", "tsml")
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("oh no")'

    completion_samples = [
        {"text": "Math.ma", "matches": {"max"}},
        {"text": "const fooBarBaz = 1; fooBar", "matches": {"fooBarBaz"}},
    ]

    complete_code_samples = ["1 + 1", "const x = 3;", "function f() { return 1; }"]
    incomplete_code_samples = ["function f() {", "const a = [1, 2,", "if (true) {", "const s = `abc", "/* an open comment"]
    invalid_code_samples = ["const = ;", "1 +* 2", 'const s = "abc', "let 1x = 2;"]

    code_clear_output = "clearOutput()"

    code_display_data = [
        {"code": 'display({ [Symbol.for("Jupyter.display")]: () => ({ "text/html": "<b>hi</b>", "text/plain": "hi" }) })', "mime": "text/html"},
        {"code": 'display({ [Symbol.for("Jupyter.display")]: () => ({ "image/svg+xml": "<svg xmlns=\'http://www.w3.org/2000/svg\'/>" }) })', "mime": "image/svg+xml"},
    ]

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"a" + "b"', "result": "'ab'"},
        {"code": "[1, 2, 3].map((x) => x * 2)", "result": "[ 2, 4, 6 ]"},
        {"code": '({ [Symbol.for("Jupyter.display")]: () => ({ "text/markdown": "**md**", "text/plain": "md" }) })', "mime": "text/markdown", "result": "**md**"},
    ]

    code_history_pattern = "6 *"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "Math.max"

    code_generate_error = 'throw new Error("expected failure")'

    # Comms (jupyter_kernel_test has no comm checks of its own): comm_info, and a comm_msg from the client.

    def run_collecting(self, code):
        """Runs `code`; returns its execute_reply and the iopub messages it caused."""
        outputs = []
        reply = self.kc.execute_interactive(code, timeout=60, output_hook=outputs.append)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        return reply, outputs

    def comm_info(self, **kwargs):
        msg_id = self.kc.comm_info(**kwargs)
        reply = self.get_non_kernel_info_reply(timeout=10)
        validate_message(reply, "comm_info_reply", msg_id)
        return reply["content"]["comms"]

    def test_comm_info_lists_open_comms(self):
        self.flush_channels()
        before = self.comm_info()
        _, outputs = self.run_collecting('import { Checkbox } from "tsml";\nconst box = new Checkbox({ value: true });')
        opened = [m["content"] for m in outputs if m["msg_type"] == "comm_open"]
        self.assertEqual([o["data"]["state"]["_model_name"] for o in opened], ["LayoutModel", "CheckboxStyleModel", "CheckboxModel"])
        comms = self.comm_info()
        self.assertEqual(len(comms), len(before) + 3)
        for o in opened:
            self.assertEqual(comms[o["comm_id"]], {"target_name": "jupyter.widget"})
        self.assertEqual(self.comm_info(target_name="jupyter.widget.control"), {})

    def test_comm_msg_updates_a_widget(self):
        self.flush_channels()
        _, outputs = self.run_collecting('import { IntSlider } from "tsml";\nconst knob = new IntSlider({ value: 1 });')
        knob = [m["content"] for m in outputs if m["msg_type"] == "comm_open"][-1]
        message = self.kc.session.msg("comm_msg", {"comm_id": knob["comm_id"], "data": {"method": "update", "state": {"value": 7}, "buffer_paths": []}})
        self.kc.shell_channel.send(message)
        _, outputs = self.run_collecting("knob.value")
        results = [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"]
        self.assertEqual(results, ["7"])


if __name__ == "__main__":
    unittest.main()
