/** A real redis-server for the queue tests: loopback only, a free port, persistence (AOF) in a temporary folder. */
import { ChildProcess, spawn } from "child_process";
import * as net from "net";

/** A TCP port on 127.0.0.1 that nothing listens on (at the moment of the call). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A redis-server started by a test; `stop` ends it (SIGTERM: it writes its data first), `start` brings it back. */
export class RedisServer {
  private child: ChildProcess | undefined;
  private output = "";

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly password: string | undefined,
  ) {}

  /**
   * Starts redis-server on a free loopback port, persisting into `dir` (append-only file, fsync on every write),
   * requiring `password` when one is given.
   */
  static async start(dir: string, password?: string): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), dir, password);
    await server.start();
    return server;
  }

  /** The server's URL. */
  get url(): string {
    return `redis://${this.password ? `:${this.password}@` : ""}127.0.0.1:${this.port}`;
  }

  /** Starts the server (again) and resolves once it accepts connections. */
  async start(): Promise<void> {
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--save",
      "",
      "--daemonize",
      "no",
    ];
    if (this.password) args.push("--requirepass", this.password);
    const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${this.output}`)), 10_000);
      const onData = (data: Buffer): void => {
        this.output += data.toString();
        if (this.output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.on("error", (error) => reject(new Error(`cannot start redis-server (apt-get install redis-server): ${error.message}`)));
      child.on("exit", (code) => reject(new Error(`redis-server exited with ${code}:\n${this.output}`)));
    });
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) the server: a network partition, as its clients see it. */
  freeze(frozen: boolean): void {
    this.child?.kill(frozen ? "SIGSTOP" : "SIGCONT");
  }

  /** Stops the server (SIGTERM, a clean shutdown) and resolves once it has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}
