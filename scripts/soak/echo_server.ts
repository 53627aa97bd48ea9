// The echo server under test: a real process, started from its command's
// argv, watched (log lines, RSS) and stopped by its PID with SIGTERM.

import { ChildRun, crashLines } from "./process.ts";
import { RssSampler } from "./rss.ts";

/** How to run one echo CLI: the argv before `server` or `client`. */
export interface EchoCommand {
  /** A short name for the summary: `deno`, `node`. */
  name: string;
  /** The program and its leading arguments, e.g. `["node", "echo.js"]`. */
  argv: readonly string[];
  /** The working directory. */
  cwd: string | URL;
}

/** What the server process showed when it was stopped. */
export interface ServerReport {
  /** The exit code after SIGTERM. */
  code: number;
  /** Lines that look like a crash or an uncaught error. */
  crashes: string[];
  /** Standard error lines that are not `[error]`/`[reject]` log lines. */
  strayStderr: string[];
  /**
   * Connections still open when SIGTERM arrived, from the server's
   * `[shutdown]` line (every client had closed by then: 0 is right).
   */
  openAtShutdown: number | null;
  /** RSS samples taken (none: /proc could not be read). */
  rssSamples: number;
  /** RSS peak and last sample, in bytes. */
  peakRss: number;
  endRss: number;
}

/** Log lines the server may write to standard error. */
const SERVER_STDERR = /^\[(error|reject)\] /;

/** A running echo server process on 127.0.0.1. */
export class EchoServerProcess {
  readonly run: ChildRun;
  readonly port: number;
  readonly rss: RssSampler;

  private constructor(run: ChildRun, port: number) {
    this.run = run;
    this.port = port;
    this.rss = new RssSampler(run.pid);
  }

  /**
   * Starts `server 127.0.0.1 0 ...flags` and waits (at most `timeoutMs`)
   * for its `[listen-ok]` line.
   */
  static async start(
    command: EchoCommand,
    flags: readonly string[],
    timeoutMs = 30_000,
  ): Promise<EchoServerProcess> {
    const run = new ChildRun(
      [...command.argv, "server", "127.0.0.1", "0", ...flags],
      command.cwd,
    );
    try {
      const line = await run.stdout.waitFor(/^\[listen-ok\] /, timeoutMs);
      const port = line.match(/^\[listen-ok\] 127\.0\.0\.1:(\d+)$/)?.[1];
      if (port === undefined) throw new Error(`Unexpected line: ${line}`);
      return new EchoServerProcess(run, Number(port));
    } catch (error) {
      run.kill("SIGKILL");
      await run.status;
      throw new Error(
        `${command.name} server did not start: ${
          (error as Error).message
        }\nstderr:\n${run.stderr.text}`,
      );
    }
  }

  /**
   * Waits (bounded) until every `[accept]` has its `[done]` or `[error]`
   * line, so the server has seen every client go; then stops the server
   * with SIGTERM (by its PID) and reports.
   */
  async stop(timeoutMs = 30_000): Promise<ServerReport> {
    const count = (lines: readonly string[], pattern: RegExp) =>
      lines.filter((line) => pattern.test(line)).length;
    await this.run.stdout.until(
      () =>
        count(this.run.stdout.lines, /^\[accept\] /) ===
          count(this.run.stdout.lines, /^\[done\] /) +
            count(this.run.stderr.lines, /^\[error\] peer=/),
      "every accepted connection ended",
      10_000,
    ).catch(() => {}); // the [shutdown] line tells
    await this.rss.sample();
    const endRss = this.rss.last;
    await this.rss.stop();
    this.run.kill("SIGTERM");
    const status = await this.run.exited("the server after SIGTERM", timeoutMs);
    const all = `${this.run.stdout.text}\n${this.run.stderr.text}`;
    const open = all.match(
      /^\[shutdown\] stopped accepting; (\d+) open connections/m,
    )?.[1];
    return {
      code: status.code,
      openAtShutdown: open === undefined ? null : Number(open),
      crashes: crashLines(all),
      strayStderr: this.run.stderr.lines.filter((line) =>
        !SERVER_STDERR.test(line)
      ),
      rssSamples: this.rss.samples,
      peakRss: this.rss.peak,
      endRss,
    };
  }

  /** Kills the server (SIGKILL) by its PID and waits for it. */
  async kill(): Promise<void> {
    await this.rss.stop();
    this.run.kill("SIGKILL");
    await this.run.status;
  }
}
