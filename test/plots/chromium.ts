/** Opens a page in headless Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe, no ws). */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Readable, Writable } from "stream";

/** The Chromium binary (Debian package `chromium`, installed in CI). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** A DevTools session attached to one page. */
export interface PageSession {
  /** Evaluates an expression in the page and returns its JSON value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Sends a DevTools protocol command to the page (real input events: Input.dispatchMouseEvent, ...). */
  cdp(method: string, params?: object): Promise<unknown>;
  /** Saves a PNG screenshot of the page to `file`. */
  screenshot(file: string): Promise<void>;
  /** Console errors, uncaught exceptions and failed requests seen so far. */
  errors: string[];
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** Launches headless Chromium with a fresh profile and opens `url`; throws a clear error when Chromium is missing. */
export async function openPage(url: string): Promise<PageSession> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`headless Chromium not found at ${CHROMIUM}: install it with "apt-get install -y chromium" (CI does)`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "tsml-chromium-"));
  const browser: ChildProcess = spawn(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--remote-debugging-pipe",
      `--user-data-dir=${profile}`,
      "about:blank",
    ],
    { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
  );
  const toBrowser = browser.stdio[3] as Writable;
  const fromBrowser = browser.stdio[4] as Readable;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const errors: string[] = [];
  let nextId = 0;
  let buffer = "";
  fromBrowser.setEncoding("utf8");
  fromBrowser.on("data", (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf("\0")) >= 0) {
      const message = JSON.parse(buffer.slice(0, end));
      buffer = buffer.slice(end + 1);
      if (message.id !== undefined) {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(`CDP: ${message.error.message}`));
        else waiter?.resolve(message.result);
      } else if (message.method === "Runtime.consoleAPICalled" && message.params.type === "error") {
        errors.push(message.params.args.map((a: { value?: unknown; description?: string }) => a.value ?? a.description).join(" "));
      } else if (message.method === "Runtime.exceptionThrown") {
        errors.push(message.params.exceptionDetails.exception?.description ?? message.params.exceptionDetails.text);
      } else if (message.method === "Log.entryAdded" && message.params.entry.level === "error") {
        errors.push(`${message.params.entry.text} ${message.params.entry.url ?? ""}`);
      }
    }
  });
  const exited = new Promise<void>((resolve) => browser.once("exit", () => resolve()));
  const send = (method: string, params: object = {}, sessionId?: string) =>
    new Promise<unknown>((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      toBrowser.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + "\0");
    });
  const close = async () => {
    // A graceful Browser.close lets Chromium flush and stop its helper processes before the profile is removed.
    const graceful = send("Browser.close").catch(() => undefined);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
    await Promise.race([graceful.then(() => exited), timeout]);
    if (browser.exitCode === null && browser.signalCode === null) browser.kill("SIGKILL");
    await exited;
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  };
  try {
    const { targetId } = (await send("Target.createTarget", { url: "about:blank" })) as { targetId: string };
    const { sessionId } = (await send("Target.attachToTarget", { targetId, flatten: true })) as { sessionId: string };
    await send("Runtime.enable", {}, sessionId);
    await send("Log.enable", {}, sessionId);
    await send("Page.enable", {}, sessionId);
    await send("Page.navigate", { url }, sessionId);
    const evaluate = async <T>(expression: string): Promise<T> => {
      const result = (await send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true }, sessionId)) as {
        result: { value: T };
        exceptionDetails?: { text: string; exception?: { description?: string } };
      };
      if (result.exceptionDetails) {
        throw new Error(`page evaluation failed: ${result.exceptionDetails.text} ${result.exceptionDetails.exception?.description ?? ""}`.trim());
      }
      return result.result.value;
    };
    const cdp = (method: string, params: object = {}) => send(method, params, sessionId);
    const screenshot = async (file: string) => {
      const { data } = (await cdp("Page.captureScreenshot", { format: "png", captureBeyondViewport: true })) as { data: string };
      fs.writeFileSync(file, Buffer.from(data, "base64"));
    };
    return { evaluate, errors, close, cdp, screenshot };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Polls `probe` in the page until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(page: PageSession, probe: string, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await page.evaluate<T>(probe).catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${probe}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
