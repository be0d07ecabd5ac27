/**
 * The one check for names and paths that come from input (run and grid names, Hub revisions and commits, job
 * folders): a name is one path component, a relative path stays inside its root, anything else is an error naming
 * what was given, so nothing read from a command line, a job or a server can make tsml write outside its folder.
 */
import * as path from "path";

/**
 * `name` when it is a single path component (not empty, not "." or "..", no "/", "\\" or NUL); else an error
 * naming `what` and the value, e.g. `--name "../x" must be one folder name ...`.
 */
export function requirePathComponent(name: string, what: string): string {
  if (typeof name !== "string" || name === "" || name === "." || name === ".." || /[/\\\0]/.test(name)) {
    throw new Error(`${what} ${JSON.stringify(name)} must be one folder or file name (not empty, not "." or "..", no "/" or "\\")`);
  }
  return name;
}

/**
 * The absolute path of `target` (relative to `root`, or absolute) when it lies strictly inside `root`; else an
 * error naming `what`, the value and the root. With `relativeOnly`, an absolute `target` is refused too.
 */
export function pathInside(root: string, target: string, what: string, relativeOnly = false): string {
  const base = path.resolve(root);
  const fail = (why: string): never => {
    throw new Error(`${what} ${JSON.stringify(target)} ${why} (it must stay inside ${base})`);
  };
  if (typeof target !== "string" || target === "" || target.includes("\0")) fail("is not a path");
  if (relativeOnly && path.isAbsolute(target)) fail("is an absolute path");
  if (target.split(/[/\\]/).includes("..")) fail('contains ".."');
  const resolved = path.resolve(base, target);
  const relative = path.relative(base, resolved);
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) fail("is not inside it");
  return resolved;
}
