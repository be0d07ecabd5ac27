/** The shared helpers: one positive-integer check, one groupBy, the ANSI colours and their removal. */
import * as assert from "assert";
import { ANSI, ansiToHTML, colour, groupBy, isPositiveInteger, requirePositiveInteger, stripAnsi } from "../../src/util";

describe("util: isPositiveInteger / requirePositiveInteger", () => {
  it("accepts integers >= 1 and rejects everything else", () => {
    const accepted = [1, 2, 4096, Number.MAX_SAFE_INTEGER];
    const rejected: unknown[] = [0, -1, 1.5, NaN, Infinity, "3", null, undefined, [2]];
    assert.deepStrictEqual(
      accepted.map(isPositiveInteger),
      accepted.map(() => true),
    );
    assert.deepStrictEqual(
      rejected.map(isPositiveInteger),
      rejected.map(() => false),
    );
  });

  it("names the option and the value it got", () => {
    assert.doesNotThrow(() => requirePositiveInteger(3, "liveChart: everySteps"));
    assert.throws(() => requirePositiveInteger(0.5, "liveChart: everySteps"), /^Error: liveChart: everySteps must be a positive integer, got 0\.5$/);
    assert.throws(() => requirePositiveInteger(undefined, "earlyStopping: patience"), /earlyStopping: patience must be a positive integer, got undefined/);
  });
});

describe("util: groupBy", () => {
  it("groups by key in first-seen order and keeps each group's order", () => {
    const items = [
      { run: "b", i: 0 },
      { run: "a", i: 1 },
      { run: "b", i: 2 },
      { run: "c", i: 3 },
      { run: "a", i: 4 },
    ];
    const groups = groupBy(items, (x) => x.run);
    assert.deepStrictEqual([...groups.keys()], ["b", "a", "c"]);
    assert.deepStrictEqual(
      [...groups.values()].map((g) => g.map((x) => x.i)),
      [[0, 2], [1, 4], [3]],
    );
    assert.strictEqual([...groups.values()].flat().length, items.length);
    assert.strictEqual(groupBy([], String).size, 0);
  });
});

describe("util: colour / stripAnsi", () => {
  it("colours text with an SGR code and a reset, and leaves empty text empty", () => {
    assert.strictEqual(colour("RangeError", ANSI.red), "\x1b[1;31mRangeError\x1b[0m");
    assert.strictEqual(colour("", ANSI.green), "");
  });

  it("strips every SGR escape and erase-line, keeping the text", () => {
    const line = `${colour("RangeError", ANSI.red)}: too far\x1b[K`;
    assert.strictEqual(stripAnsi(line), "RangeError: too far");
    assert.strictEqual(stripAnsi("\x1b[38;5;28;01mdef\x1b[39;00m f"), "def f");
    assert.strictEqual(stripAnsi("plain [1;31m text"), "plain [1;31m text", "brackets without ESC stay");
  });
});

describe("util: ansiToHTML", () => {
  /** The text a browser shows for `html`: tags dropped, entities decoded. */
  const shown = (html: string) =>
    html
      .replace(/<[^>]*>/g, "")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&#x27;|&#39;/g, "'")
      .replace(/&amp;/g, "&");

  it("shows the text without escapes, HTML special characters escaped, each colour as a styled span", () => {
    const text = `${colour("TypeError", ANSI.red)}: a <b> & "c" at ${colour("In[3]:2", ANSI.green)} in ${colour("fit", ANSI.cyan)}`;
    const html = ansiToHTML(text);
    assert.ok(!html.includes("\x1b") && !html.includes("<b>"), html);
    assert.strictEqual(shown(html), stripAnsi(text));
    const spans = [...html.matchAll(/<span style="([^"]*)">([^<]*)<\/span>/g)].map((m) => [m[2], /color:/.test(m[1])]);
    assert.deepStrictEqual(spans, [
      ["TypeError", true],
      ["In[3]:2", true],
      ["fit", true],
    ]);
  });

  it("does not carry a colour left open into the next text", () => {
    assert.match(ansiToHTML("\x1b[1;31mopen red"), /<span style="[^"]*color:[^"]*">open red<\/span>/);
    assert.strictEqual(ansiToHTML("plain"), "plain");
  });
});
