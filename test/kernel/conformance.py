"""Debian's jupyter_kernel_test run against the "TypeScript ML" kernel.

Run by test/kernel/conformance.test.ts with /usr/bin/python3 -m unittest, with JUPYTER_PATH pointing at a
temporary prefix where the kernelspec was installed under the name in $TSML_KERNEL_NAME.

Skipped on purpose (jupyter_kernel_test skips a test whose sample is left empty):
  - test_pager (code_page_something): the kernel has no pager payloads; documentation comes from inspect_request.
"""
import os
import unittest

import jupyter_kernel_test


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


if __name__ == "__main__":
    unittest.main()
