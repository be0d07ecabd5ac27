/** A real Jupyter server for browser tests: Debian's classic Notebook server on a free loopback port with a token. */
import { ChildProcess, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as net from "net";
import * as path from "path";
import type { TestKernelspec } from "./harness";

/** A running server: its base URL, token, and how to stop it. */
export interface NotebookServer {
  base: string;
  token: string;
  /** What the server printed (for failure messages). */
  log(): string;
  /** Stops the server (SIGTERM, SIGKILL after 10 s) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `python3 -m notebook` serving `notebookDir`, with `home` as its HOME and config dirs, and `extraArgs`;
 * resolves when it answers.
 */
export async function startNotebookServer(spec: TestKernelspec, notebookDir: string, home: string, extraArgs: string[] = []): Promise<NotebookServer> {
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  let output = "";
  const server: ChildProcess = spawn(
    "/usr/bin/python3",
    [
      "-m",
      "notebook",
      "--no-browser",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0",
      `--NotebookApp.token=${token}`,
      `--notebook-dir=${notebookDir}`,
      // CI containers run as root, which the server refuses without this flag.
      ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
      ...extraArgs,
    ],
    {
      cwd: notebookDir,
      env: {
        ...spec.env,
        HOME: home,
        JUPYTER_CONFIG_DIR: path.join(home, "config"),
        JUPYTER_RUNTIME_DIR: path.join(home, "runtime"),
        IPYTHONDIR: path.join(home, "ipython"),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  server.stdout!.on("data", (chunk) => (output += String(chunk)));
  server.stderr!.on("data", (chunk) => (output += String(chunk)));
  const stop = async () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    const timer = setTimeout(() => server.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForServer(`${base}/api/status?token=${token}`, server, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { base, token, log: () => output, stop };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForServer(url: string, server: ChildProcess, log: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`jupyter notebook exited with code ${server.exitCode}:\n${log()}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`jupyter notebook did not answer ${url} within ${timeoutMs} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
