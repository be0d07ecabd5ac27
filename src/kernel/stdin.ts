/**
 * Input from the notebook user: `await input("prompt")` and `await password("prompt")` in a cell send an
 * input_request on the stdin channel to the client that sent the running execute_request, and resolve with the
 * text of its input_reply. A client that said `allow_stdin: false` (nbconvert, most non-interactive runners) gets a
 * clear error instead of a prompt nobody answers.
 */
import type { InputRequestContent, Received } from "./messages";
import type { JupyterMessage } from "./wire";

/** What asking for input needs from the kernel: the running request, and a way to send on stdin. */
export interface StdinHost {
  /** The execute_request whose cell is asking. */
  currentRequest(): JupyterMessage | undefined;
  /** Sends an input_request to the client of `parent` (flushing the cell's output first, so the prompt follows it). */
  sendInputRequest(content: InputRequestContent, parent: JupyterMessage): Promise<void>;
}

/** The error a cell gets when its client cannot answer input requests. */
class StdinNotAllowedError extends Error {
  constructor(what: string) {
    super(
      `${what}: this client cannot answer input requests (its execute_request says allow_stdin: false, as nbconvert ` +
        "and other non-interactive runners do). Run the cell in a notebook or console, or put the value in the code.",
    );
    this.name = "StdinNotAllowedError";
  }
}

/** Pending input requests and the `input`/`password` globals. */
export class StdinChannel {
  private pending: { resolve(value: string): void } | undefined;

  constructor(private readonly host: StdinHost) {}

  /** Asks the user for a line of text (`password`: the front-end hides what is typed). */
  async ask(prompt: unknown = "", password = false): Promise<string> {
    const what = `${password ? "password" : "input"}(${JSON.stringify(String(prompt))})`;
    const request = this.host.currentRequest();
    if (!request) throw new Error(`${what}: no cell is running`);
    if ((request.content as Received<{ allow_stdin: boolean }>).allow_stdin !== true) throw new StdinNotAllowedError(what);
    const answered = new Promise<string>((resolve) => (this.pending = { resolve }));
    await this.host.sendInputRequest({ prompt: String(prompt), password }, request);
    return answered;
  }

  /** Handles a message from the stdin channel: an input_reply answers the pending request. */
  onMessage(message: JupyterMessage): void {
    if (message.header.msg_type !== "input_reply" || !this.pending) return;
    const { resolve } = this.pending;
    this.pending = undefined;
    resolve(String((message.content as Received<{ value: string }>).value ?? ""));
  }

  /** Installs the globals `input(prompt)` and `password(prompt)`. */
  installGlobals(): void {
    Object.assign(globalThis, {
      input: (prompt?: string) => this.ask(prompt, false),
      password: (prompt?: string) => this.ask(prompt, true),
    });
  }
}
