// Helpers for the echo CLI tests over real sockets: the CLI in this process
// (runCli with Deno's runtime and captured output) and as a real process
// (the `echo` task's command line, stopped by its own PID).
import { denoEchoRuntime, runCli } from "../../src/deno/echo.ts";

const ROOT = new URL("../../", import.meta.url);

/** Text written to a captured output, split into lines as it arrives. */
export class Lines {
  text = "";
  #waiters = new Set<() => void>();

  write(text: string): void {
    this.text += text;
    for (const waiter of this.#waiters) waiter();
  }

  get lines(): string[] {
    return this.text.split("\n").filter((line) => line !== "");
  }

  /** Resolves once `count` lines match `pattern`. */
  async waitForCount(
    pattern: RegExp,
    count: number,
    timeoutMs = 10_000,
  ): Promise<void> {
    const matching = () => this.lines.filter((l) => pattern.test(l)).length;
    const deadline = Date.now() + timeoutMs;
    while (matching() < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `Fewer than ${count} lines match ${pattern} after ${timeoutMs} ms in:\n${this.text}`,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, 50);
        this.#waiters.add(wake);
      });
    }
  }

  /**
   * Resolves with the first line matching `pattern`; rejects after
   * `timeoutMs` (a bound on a hang, not a timing assertion) or when `ended`
   * settles first.
   */
  waitFor(
    pattern: RegExp,
    timeoutMs = 10_000,
    ended?: Promise<unknown>,
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.lines.find((l) => pattern.test(l));
        if (line !== undefined) finish(() => resolve(line));
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(
                `No line matching ${pattern} within ${timeoutMs} ms in:\n${this.text}`,
              ),
            )
          ),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        settle();
      };
      // A last look once the process has ended; rejecting after a resolve
      // does nothing.
      ended?.then(() => {
        check();
        finish(() =>
          reject(
            new Error(`Ended before a line matching ${pattern}:\n${this.text}`),
          )
        );
      });
      this.#waiters.add(check);
      check();
    });
  }
}

/** The CLI run in this process, on real sockets, with captured output. */
export interface InProcessRun {
  stdout: Lines;
  stderr: Lines;
  exit: Promise<number>;
  /** Plays SIGINT (the server's shutdown). */
  signal(): void;
}

/** Runs `runCli(args)` with Deno's runtime and captured output. */
export function runInProcess(args: string[]): InProcessRun {
  const stdout = new Lines();
  const stderr = new Lines();
  let handler: (() => void) | null = null;
  const exit = runCli(args, {
    ...denoEchoRuntime(),
    stdout,
    stderr,
    onShutdown(h) {
      handler = h;
      return () => (handler = null);
    },
  });
  return { stdout, stderr, exit, signal: () => handler?.() };
}

/** An in-process echo server on 127.0.0.1, port 0. */
export interface TestServer extends InProcessRun {
  port: number;
  /** SIGINT, then waits for the exit code. */
  stop(): Promise<number>;
}

/** Starts `server 127.0.0.1 0 ...flags` in this process. */
export async function startServer(...flags: string[]): Promise<TestServer> {
  const run = runInProcess(["server", "127.0.0.1", "0", ...flags]);
  const line = await run.stdout.waitFor(/^\[listen-ok\] /, 10_000, run.exit);
  const port = Number(line.match(/^\[listen-ok\] 127\.0\.0\.1:(\d+)$/)![1]);
  return {
    ...run,
    port,
    stop: () => {
      run.signal();
      return run.exit;
    },
  };
}

/** Runs the client in this process; resolves when it exits. */
export async function runClient(
  args: string[],
): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const run = runInProcess(["client", ...args]);
  const code = await run.exit;
  return { code, stdout: run.stdout.lines, stderr: run.stderr.lines };
}

/**
 * The `echo` task's command line from deno.json, with `deno` replaced by
 * this Deno: the tests run the CLI with exactly the task's permissions.
 */
export async function echoTaskArgs(): Promise<string[]> {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", ROOT)),
  ) as { tasks: Record<string, string> };
  const [deno, ...args] = config.tasks.echo!.split(/\s+/);
  if (deno !== "deno") throw new Error(`Unexpected echo task: ${deno}`);
  return args;
}

/** A real CLI process. */
export interface CliProcess {
  child: Deno.ChildProcess;
  stdout: Lines;
  stderr: Lines;
  /** The exit status, once the process has ended and its pipes closed. */
  status: Promise<Deno.CommandStatus>;
  /** Kills it by its PID (SIGKILL) if still running, and waits. */
  kill(): Promise<void>;
}

/**
 * Spawns the CLI (`deno run -N src/deno/echo.ts ...args`), with `input` as
 * its standard input when given, and `flags` (more permissions) after `run`.
 */
export async function spawnCli(
  args: string[],
  input?: string,
  flags: readonly string[] = [],
): Promise<CliProcess> {
  const [run, ...taskArgs] = await echoTaskArgs();
  return await spawnProcess(
    Deno.execPath(),
    [run!, ...flags, ...taskArgs, ...args],
    input,
  );
}

/**
 * Spawns `program` with `args` in the checkout, its output captured as
 * lines, with `input` as its standard input when given.
 */
export async function spawnProcess(
  program: string,
  args: readonly string[],
  input?: string,
): Promise<CliProcess> {
  const child = new Deno.Command(program, {
    args: [...args],
    cwd: ROOT,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
  }
  const stdout = new Lines();
  const stderr = new Lines();
  const pump = async (stream: ReadableStream<Uint8Array>, into: Lines) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      into.write(text);
    }
  };
  const pumped = Promise.all([
    pump(child.stdout, stdout),
    pump(child.stderr, stderr),
  ]);
  const status = child.status.then(async (s) => {
    await pumped;
    return s;
  });
  let done = false;
  status.then(() => (done = true));
  return {
    child,
    stdout,
    stderr,
    status,
    async kill() {
      if (!done) {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await status;
    },
  };
}

/**
 * Starts `server <host> <port> ...args` as a real process (`flags` after
 * `run`, such as `--unstable-net`) and waits for its `[listen-ok]` line;
 * resolves with the process and the port it printed.
 */
export async function startServerProcess(
  args: readonly string[] = [],
  options: { host?: string; port?: number; flags?: readonly string[] } = {},
): Promise<{ process: CliProcess; port: number }> {
  const host = options.host ?? "127.0.0.1";
  const process = await spawnCli(
    ["server", host, String(options.port ?? 0), ...args],
    undefined,
    options.flags,
  );
  try {
    const line = await process.stdout.waitFor(
      /^\[listen-ok\] /,
      30_000,
      process.status,
    );
    const port = Number(line.match(/^\[listen-ok\] \S+:(\d+)$/)![1]);
    return { process, port };
  } catch (error) {
    await process.kill();
    throw error;
  }
}

/**
 * Stops a process by its PID with SIGTERM and waits at most `timeoutMs` for
 * it; kills it (SIGKILL) after that. Resolves with its exit code.
 */
export async function stopProcess(
  process: CliProcess,
  timeoutMs = 15_000,
): Promise<number> {
  try {
    process.child.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  const status = await Promise.race([process.status, bound]);
  clearTimeout(timer);
  if (status === null) {
    await process.kill();
    throw new Error(`The process did not exit within ${timeoutMs} ms`);
  }
  return status.code;
}
