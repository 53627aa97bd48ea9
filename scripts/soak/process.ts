// A child process of the echo CLI (server or client): started from an argv
// array, its output kept as lines, stopped by its own PID.

import { LogLines } from "./log_lines.ts";

/** A running child process with its stdout and stderr as lines. */
export class ChildRun {
  readonly pid: number;
  readonly stdout = new LogLines();
  readonly stderr = new LogLines();
  /** The exit status, once the process has ended and its pipes are read. */
  readonly status: Promise<Deno.CommandStatus>;
  #ended = false;

  /** Spawns `argv[0]` with the rest of `argv`, in `cwd`. */
  constructor(argv: readonly string[], cwd: string | URL) {
    const [program, ...args] = argv;
    if (program === undefined) throw new TypeError("Empty command");
    const child = new Deno.Command(program, {
      args,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.pid = child.pid;
    const pumped = Promise.all([
      this.stdout.pump(child.stdout),
      this.stderr.pump(child.stderr),
    ]);
    this.status = child.status.then(async (status) => {
      await pumped;
      this.#ended = true;
      return status;
    });
  }

  /** Whether the process has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Sends `signal` to the process by its PID, unless it has ended. */
  kill(signal: Deno.Signal): void {
    if (this.#ended) return;
    try {
      Deno.kill(this.pid, signal);
    } catch {
      // It ended in the meantime.
    }
  }

  /**
   * Waits for the exit status for at most `timeoutMs`; on the bound, kills
   * the process (SIGKILL) and rejects saying what hung.
   */
  async exited(what: string, timeoutMs: number): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill("SIGKILL");
        reject(new Error(`${what} did not exit within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.status, bound]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Output that only a crash writes: a stack frame, Deno's top-level
 * `error: Uncaught ...`, Node's crash banner, a Rust panic. The server's own
 * `[error]` lines do not match.
 */
const CRASH = /^\s+at |Uncaught|^error: |unhandled|^Node\.js v|panicked/i;

/** The lines of `text` that look like a crash or an uncaught error. */
export function crashLines(text: string): string[] {
  return text.split("\n").filter((line) => CRASH.test(line));
}
