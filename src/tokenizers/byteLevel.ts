/**
 * Byte-level pieces shared by the BPE tokenizer and its trainer: GPT-2's byte <-> printable-character table,
 * its pre-tokenization pattern, and UTF-8 round trips through that table.
 */

/**
 * Whitespace as the Python `regex` module sees `\s` (Unicode White_Space). JavaScript's `\s` differs: it
 * includes U+FEFF and excludes U+0085, so the class is spelled out.
 */
const WS = "\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/** GPT-2 / RoBERTa pre-tokenization: contractions, letter runs, digit runs, other symbols, whitespace. */
const PRE_TOKENIZE = new RegExp(`'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`, "gu");

/** Characters Python's `str.isspace()` accepts (used where HF's slow tokenizer calls strip/isspace). */
export const PY_SPACE = `${WS}\\x1c-\\x1f`;

/** Splits text into GPT-2 pre-tokens (before byte mapping). */
export function preTokenize(text: string): string[] {
  return text.match(PRE_TOKENIZE) ?? [];
}

function buildByteTable(): { byteToChar: string[]; charToByte: Map<string, number> } {
  const printable: number[] = [];
  const ranges: Array<[number, number]> = [
    [0x21, 0x7e],
    [0xa1, 0xac],
    [0xae, 0xff],
  ];
  for (const [lo, hi] of ranges) for (let b = lo; b <= hi; b++) printable.push(b);
  const byteToChar = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    byteToChar[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  const charToByte = new Map(byteToChar.map((c, b) => [c, b] as [string, number]));
  return { byteToChar, charToByte };
}

const { byteToChar: BYTE_TO_CHAR, charToByte: CHAR_TO_BYTE } = buildByteTable();
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: false });

/** The 256 printable characters that stand for the bytes 0..255, in byte order. */
export function byteAlphabet(): string[] {
  return BYTE_TO_CHAR.slice();
}

/** Maps a string's UTF-8 bytes to their printable byte-level characters (e.g. " " -> "Ġ"). */
export function bytesToSymbols(piece: string): string {
  // eslint-disable-next-line no-control-regex -- the ASCII range 0x00-0x7f includes the control characters on purpose
  if (/^[\x00-\x7f]*$/.test(piece)) {
    let ascii = "";
    for (let i = 0; i < piece.length; i++) ascii += BYTE_TO_CHAR[piece.charCodeAt(i)];
    return ascii;
  }
  const bytes = utf8Encoder.encode(piece);
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_CHAR[bytes[i]];
  return out;
}

/**
 * Turns byte-level characters back into text. Invalid UTF-8 becomes U+FFFD (HF's `errors="replace"`);
 * characters outside the byte table (e.g. special-token text) are kept as their own UTF-8.
 */
export function symbolsToText(symbols: string): string {
  const bytes: number[] = [];
  for (const ch of symbols) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b !== undefined) bytes.push(b);
    else for (const x of utf8Encoder.encode(ch)) bytes.push(x);
  }
  return utf8Decoder.decode(Uint8Array.from(bytes));
}
