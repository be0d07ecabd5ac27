/**
 * A restricted interpreter for Python pickles: it understands the opcodes of protocols 2 to 4 that plain data
 * uses (None, bools, ints, floats, strings, tuples, lists, dicts, memo, persistent ids) and calls nothing but
 * the globals its caller allows, each implemented here in TypeScript. Any other global or opcode (INST, OBJ,
 * NEWOBJ, EXT*, bytes, ...) stops loading with an error naming it, so a pickle never runs code.
 * Every length is checked against the input before it is read.
 */

/** A tuple (immutable in Python; kept apart from lists so arguments can be told from data). */
export class PickleTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** An allowed global: a name and, when Python would call it, the TypeScript stand-in for that call. */
export interface PickleGlobal {
  readonly module: string;
  readonly name: string;
  /** Applied by REDUCE with the argument tuple's items. */
  call?(args: readonly unknown[]): unknown;
}

/** What the caller allows and how persistent ids are resolved. */
export interface UnpicklerPolicy {
  /** The allowed global `module.name`, or undefined to refuse it. */
  findGlobal(module: string, name: string): PickleGlobal | undefined;
  /** Human-readable list of the allowed globals, quoted in the refusal message. */
  allowedGlobals: string;
  /** Resolves a persistent id (BINPERSID); throw to refuse it. */
  persistentLoad(pid: unknown): unknown;
  /** Applies BUILD's `state` to `target` (e.g. an OrderedDict's attributes); throw to refuse it. */
  build(target: unknown, state: unknown): void;
}

/** Keys a dict may have (Python's hashable scalars). */
export type PickleKey = string | number | bigint | boolean | null;

const OPCODE_NAMES: Record<number, string> = {
  0x28: "MARK",
  0x2e: "STOP",
  0x30: "POP",
  0x31: "POP_MARK",
  0x32: "DUP",
  0x46: "FLOAT",
  0x49: "INT",
  0x4a: "BININT",
  0x4b: "BININT1",
  0x4c: "LONG",
  0x4d: "BININT2",
  0x4e: "NONE",
  0x50: "PERSID",
  0x51: "BINPERSID",
  0x52: "REDUCE",
  0x53: "STRING",
  0x54: "BINSTRING",
  0x55: "SHORT_BINSTRING",
  0x56: "UNICODE",
  0x58: "BINUNICODE",
  0x61: "APPEND",
  0x62: "BUILD",
  0x63: "GLOBAL",
  0x64: "DICT",
  0x7d: "EMPTY_DICT",
  0x65: "APPENDS",
  0x67: "GET",
  0x68: "BINGET",
  0x69: "INST",
  0x6a: "LONG_BINGET",
  0x6c: "LIST",
  0x5d: "EMPTY_LIST",
  0x6f: "OBJ",
  0x70: "PUT",
  0x71: "BINPUT",
  0x72: "LONG_BINPUT",
  0x73: "SETITEM",
  0x74: "TUPLE",
  0x29: "EMPTY_TUPLE",
  0x75: "SETITEMS",
  0x47: "BINFLOAT",
  0x80: "PROTO",
  0x81: "NEWOBJ",
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
  0x85: "TUPLE1",
  0x86: "TUPLE2",
  0x87: "TUPLE3",
  0x88: "NEWTRUE",
  0x89: "NEWFALSE",
  0x8a: "LONG1",
  0x8b: "LONG4",
  0x42: "BINBYTES",
  0x43: "SHORT_BINBYTES",
  0x8c: "SHORT_BINUNICODE",
  0x8d: "BINUNICODE8",
  0x8e: "BINBYTES8",
  0x8f: "EMPTY_SET",
  0x90: "ADDITEMS",
  0x91: "FROZENSET",
  0x92: "NEWOBJ_EX",
  0x93: "STACK_GLOBAL",
  0x94: "MEMOIZE",
  0x95: "FRAME",
  0x96: "BYTEARRAY8",
  0x97: "NEXT_BUFFER",
  0x98: "READONLY_BUFFER",
};

/** Longest LONG1 integer accepted (bytes); a state dict's integers are sizes and offsets. */
const MAX_LONG_BYTES = 16;

const MARK = Symbol("mark");

function describeValue(value: unknown): string {
  if (value === MARK) return "a MARK";
  if (value === null) return "None";
  if (value instanceof PickleTuple) return `a ${value.items.length}-tuple`;
  if (Array.isArray(value)) return "a list";
  if (value instanceof Map) return "a dict";
  if (typeof value === "object" && value !== null && "module" in value && "name" in value) {
    const g = value as PickleGlobal;
    return `${g.module}.${g.name}`;
  }
  return typeof value === "string" ? `the string ${JSON.stringify(value.slice(0, 40))}` : `${typeof value} ${String(value)}`;
}

function isKey(value: unknown): value is PickleKey {
  return value === null || ["string", "number", "bigint", "boolean"].includes(typeof value);
}

/**
 * Runs the pickle that starts at `start` in `bytes` under `policy` and returns the unpickled value and the offset
 * just past its STOP opcode. `fail` receives a description of the first problem (with its byte offset) and must throw.
 */
export function restrictedUnpickle(bytes: Uint8Array, policy: UnpicklerPolicy, fail: (what: string) => never, start = 0): { value: unknown; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = start;
  let opcodeAt = start;

  const problem = (what: string): never => fail(`${what} (pickle offset ${opcodeAt})`);
  const need = (n: number): number => {
    if (n < 0 || pos + n > bytes.length) problem(`${OPCODE_NAMES[bytes[opcodeAt]]} needs ${n} more bytes but the pickle ends at ${bytes.length}`);
    const at = pos;
    pos += n;
    return at;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) problem(`${OPCODE_NAMES[bytes[opcodeAt]]} on an empty stack`);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) problem(`${OPCODE_NAMES[bytes[opcodeAt]]} on an empty stack`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const mark = marks.pop();
    if (mark === undefined) return problem(`${OPCODE_NAMES[bytes[opcodeAt]]} without a MARK`);
    return stack.splice(mark);
  };
  const text = (length: number): string => {
    const at = need(length);
    try {
      return decoder.decode(bytes.subarray(at, at + length));
    } catch {
      return problem("string is not valid UTF-8");
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) problem("GLOBAL name is not terminated by a newline");
    const value = text(end - pos);
    pos++;
    return value;
  };
  const global = (module: string, name: string): PickleGlobal => {
    const found = policy.findGlobal(module, name);
    if (!found) problem(`refusing global ${module}.${name}: only ${policy.allowedGlobals} are allowed (loading never runs code from the file)`);
    return found!;
  };
  const asList = (value: unknown, op: string): unknown[] => {
    if (!Array.isArray(value)) problem(`${op} needs a list, found ${describeValue(value)}`);
    return value as unknown[];
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof Map)) problem(`SETITEM(S) needs a dict, found ${describeValue(target)}`);
    if (items.length % 2 !== 0) problem("SETITEMS has an odd number of items");
    for (let i = 0; i < items.length; i += 2) {
      if (!isKey(items[i])) problem(`dict key ${describeValue(items[i])} is not a string, number or bool`);
      (target as Map<PickleKey, unknown>).set(items[i] as PickleKey, items[i + 1]);
    }
  };
  const memoGet = (key: number): unknown => {
    if (!memo.has(key)) problem(`memo entry ${key} was never stored`);
    return memo.get(key);
  };
  const memoPut = (key: number): void => {
    memo.set(key, top());
  };

  while (pos < bytes.length) {
    opcodeAt = pos;
    const op = bytes[pos++];
    switch (op) {
      case 0x80: {
        // PROTO
        const version = bytes[need(1)];
        if (version < 2 || version > 5) problem(`pickle protocol ${version} is not supported (expected 2 to 5)`);
        break;
      }
      case 0x95:
        need(8);
        break; // FRAME: a length hint only
      case 0x2e: {
        // STOP
        if (stack.length !== 1 || marks.length !== 0)
          problem(`STOP with ${stack.length} values and ${marks.length} open MARKs on the stack (expected exactly one value)`);
        return { value: stack[0], end: pos };
      }
      case 0x28:
        marks.push(stack.length);
        break; // MARK
      case 0x29:
        stack.push(new PickleTuple([]));
        break; // EMPTY_TUPLE
      case 0x74:
        stack.push(new PickleTuple(popMark()));
        break; // TUPLE
      case 0x85:
        stack.push(new PickleTuple([pop()]));
        break; // TUPLE1
      case 0x86: {
        const b = pop();
        const a = pop();
        stack.push(new PickleTuple([a, b]));
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PickleTuple([a, b, c]));
        break;
      } // TUPLE3
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x61: {
        const value = pop();
        asList(top(), "APPEND").push(value);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        asList(top(), "APPENDS").push(...items);
        break;
      } // APPENDS
      case 0x73: {
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      } // SETITEM
      case 0x75: {
        const items = popMark();
        setItems(top(), items);
        break;
      } // SETITEMS
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x4b:
        stack.push(bytes[need(1)]);
        break; // BININT1
      case 0x4d:
        stack.push(view.getUint16(need(2), true));
        break; // BININT2
      case 0x4a:
        stack.push(view.getInt32(need(4), true));
        break; // BININT
      case 0x47:
        stack.push(view.getFloat64(need(8), false));
        break; // BINFLOAT (big-endian)
      case 0x8a: {
        // LONG1: little-endian two's complement
        const n = bytes[need(1)];
        if (n > MAX_LONG_BYTES) problem(`LONG1 integer of ${n} bytes is larger than a state dict needs (at most ${MAX_LONG_BYTES})`);
        const at = need(n);
        let value = 0n;
        for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[at + i]);
        if (n > 0 && bytes[at + n - 1] & 0x80) value -= 1n << BigInt(8 * n);
        stack.push(value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value);
        break;
      }
      case 0x58:
        stack.push(text(view.getUint32(need(4), true)));
        break; // BINUNICODE
      case 0x8c:
        stack.push(text(bytes[need(1)]));
        break; // SHORT_BINUNICODE
      case 0x8d: {
        // BINUNICODE8
        const length = view.getBigUint64(need(8), true);
        stack.push(text(length > BigInt(bytes.length) ? bytes.length + 1 : Number(length)));
        break;
      }
      case 0x71:
        memoPut(bytes[need(1)]);
        break; // BINPUT
      case 0x72:
        memoPut(view.getUint32(need(4), true));
        break; // LONG_BINPUT
      case 0x94:
        memoPut(memo.size);
        break; // MEMOIZE
      case 0x68:
        stack.push(memoGet(bytes[need(1)]));
        break; // BINGET
      case 0x6a:
        stack.push(memoGet(view.getUint32(need(4), true)));
        break; // LONG_BINGET
      case 0x63: {
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      } // GLOBAL
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") problem("STACK_GLOBAL needs two strings");
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x51:
        stack.push(policy.persistentLoad(pop()));
        break; // BINPERSID
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        if (!(args instanceof PickleTuple)) problem(`REDUCE needs an argument tuple, found ${describeValue(args)}`);
        const fn = callable as PickleGlobal;
        if (typeof callable !== "object" || callable === null || !("module" in callable) || typeof fn.call !== "function") {
          problem(`REDUCE on ${describeValue(callable)}, which is not callable here`);
        }
        stack.push(fn.call!((args as PickleTuple).items));
        break;
      }
      case 0x62: {
        const state = pop();
        policy.build(top(), state);
        break;
      } // BUILD
      default: {
        const name = OPCODE_NAMES[op];
        problem(name ? `opcode ${name} is not allowed (a state dict does not need it)` : `unknown opcode 0x${op.toString(16).padStart(2, "0")}`);
      }
    }
  }
  return problem("the pickle ends without a STOP opcode");
}
