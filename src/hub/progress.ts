/**
 * A download progress bar on stderr: redrawn in place (at most 10 times a second) on a terminal, and on
 * anything else (logs, CI, a notebook's stderr) one line when the download starts and one when it ends.
 */

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Progress display of one file's download. */
export class DownloadProgress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private readonly terminal = process.stderr.isTTY === true;

  /** Announces the download of `label` (`total` bytes), resuming from `initial` bytes. */
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly initial: number,
  ) {
    if (!this.terminal) {
      const resume = initial > 0 ? `, resuming at ${megabytes(initial)}` : "";
      process.stderr.write(`Downloading ${label} (${megabytes(total)}${resume})\n`);
    }
  }

  /** Shows that `downloaded` bytes of the file are on disk. */
  update(downloaded: number): void {
    const now = Date.now();
    if (!this.terminal || now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const fraction = this.total > 0 ? Math.min(1, downloaded / this.total) : 0;
    const width = 24;
    const filled = Math.round(fraction * width);
    const rate = (downloaded - this.initial) / Math.max(0.001, (now - this.started) / 1000);
    const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
    process.stderr.write(
      `\r${this.label} ${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${megabytes(downloaded)}/${megabytes(this.total)} ${megabytes(rate)}/s`,
    );
  }

  /** Ends the display (the bar's line, or one summary line). */
  finish(downloaded: number): void {
    const seconds = (Date.now() - this.started) / 1000;
    const rate = (downloaded - this.initial) / Math.max(0.001, seconds);
    const summary = `${this.label}: ${megabytes(downloaded)} in ${seconds.toFixed(1)} s (${megabytes(rate)}/s)`;
    process.stderr.write(this.terminal ? `\r${summary}\x1b[K\n` : `${summary}\n`);
  }
}
