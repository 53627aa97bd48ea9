// The echo CLIs as real processes, for tests/node/echo_*_test.ts: the npm
// package's `tcpframe-echo` bin, found through the installed `tcpframe`
// package (`deno task test:node` installs the tarball into a scratch project
// and runs these tests there), and the Deno CLI of the source checkout, whose
// location scripts/build_npm.ts passes in TCPFRAME_DENO and TCPFRAME_REPO.
// Where `tcpframe` is not an installed package (these files also run under
// `deno test`, with `tcpframe` mapped to the sources) the tests are skipped
// with that reason; an installed package without a working bin fails them.
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, readFileSync, realpathSync } from "node:fs";
import { join, sep } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** How to start a CLI: a command line and a working directory. */
export interface CliCommand {
  command: string;
  args: string[];
  cwd?: string;
}

/** The installed bin, or why there is none to test. */
export type BinLocation =
  | { skip: string }
  | { link: string; file: string; start: CliCommand };

const PACKAGE = "tcpframe";
const BIN = "tcpframe-echo";

/**
 * Finds `node_modules/.bin/tcpframe-echo` next to the installed `tcpframe`
 * package, checks that it is the package's `bin` entry, and says how to run
 * it: the link itself on Node (its shebang and exec bit are part of what is
 * tested), the same file with `bun` under Bun (the shebang names `node`).
 *
 * @throws {Error} `tcpframe` is an installed package but its bin is missing
 * or broken.
 */
export function locateEchoBin(): BinLocation {
  const entry = fileURLToPath(import.meta.resolve(PACKAGE));
  const marker = `${sep}node_modules${sep}${PACKAGE}${sep}`;
  const at = entry.lastIndexOf(marker);
  if (at < 0) {
    return {
      skip:
        `"${PACKAGE}" resolves to ${entry}, not an installed package: the ${BIN} bin is tested by deno task test:node`,
    };
  }
  const nodeModules = entry.slice(0, at + `${sep}node_modules`.length);
  const packageDir = join(nodeModules, PACKAGE);
  const manifest = JSON.parse(
    readFileSync(join(packageDir, "package.json"), "utf8"),
  ) as { bin?: Record<string, string> };
  const relative = manifest.bin?.[BIN];
  if (relative === undefined) {
    throw new Error(`${packageDir}/package.json has no bin "${BIN}"`);
  }
  const file = join(packageDir, relative);
  const link = join(nodeModules, ".bin", BIN);
  accessSync(link, constants.X_OK); // throws when missing or not executable
  if (realpathSync(link) !== realpathSync(file)) {
    throw new Error(`${link} does not lead to ${file}`);
  }
  const start = process.versions.bun === undefined
    ? { command: link, args: [] }
    : { command: process.execPath, args: [file] };
  return { link, file, start };
}

/**
 * The Deno CLI of the source checkout, started with the `echo` task's
 * command line from its deno.json (as tests/deno/_echo.ts does), or why it
 * cannot be started here.
 */
export function locateDenoEcho(): CliCommand | { skip: string } {
  const deno = process.env.TCPFRAME_DENO;
  const repo = process.env.TCPFRAME_REPO;
  if (deno === undefined || repo === undefined) {
    return {
      skip:
        "TCPFRAME_DENO and TCPFRAME_REPO are not set (deno task test:node sets them)",
    };
  }
  const config = JSON.parse(
    readFileSync(join(repo, "deno.json"), "utf8"),
  ) as { tasks: Record<string, string> };
  const [first, ...args] = (config.tasks.echo ?? "").split(/\s+/);
  if (first !== "deno") {
    throw new Error(`Unexpected echo task in ${repo}/deno.json: ${first}`);
  }
  return { command: deno, args, cwd: repo };
}

/** A CLI process whose output is collected as it arrives. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  /** Exit code (`null` when killed by a signal) and signal, once closed. */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  #done = false;
  readonly #waiters = new Set<() => void>();

  constructor(start: CliCommand, args: string[], input?: string) {
    this.child = spawn(start.command, [...start.args, ...args], {
      ...(start.cwd === undefined ? {} : { cwd: start.cwd }),
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    this.child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      this.stdout += text;
      this.#notify();
    });
    this.child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      this.stderr += text;
      this.#notify();
    });
    this.exited = new Promise((resolve, reject) => {
      this.child.once("error", reject);
      this.child.once("close", (code, signal) => {
        this.#done = true;
        this.#notify();
        resolve({ code, signal });
      });
    });
    if (input !== undefined) {
      this.child.stdin!.on("error", () => {}); // it may exit without reading
      this.child.stdin!.end(input);
    }
  }

  /** Everything it printed, for assertion messages. */
  get output(): string {
    return `stdout:\n${this.stdout}\nstderr:\n${this.stderr}`;
  }

  /**
   * Resolves with the first stdout line matching `pattern`; rejects when the
   * process ends first or after `timeoutMs` (a bound on a hang, not a
   * timing assertion).
   */
  waitForLine(
    pattern: RegExp,
    timeoutMs = 30_000,
    from: "stdout" | "stderr" = "stdout",
  ): Promise<string> {
    return this.#waitFor(
      () => this[from].split("\n").find((line) => pattern.test(line)),
      `a ${from} line matching ${pattern}`,
      timeoutMs,
    );
  }

  /** Resolves once `count` stdout lines match `pattern`. */
  async waitForCount(
    pattern: RegExp,
    count: number,
    timeoutMs = 30_000,
  ): Promise<void> {
    await this.#waitFor(
      () =>
        this.stdout.split("\n").filter((line) => pattern.test(line)).length >=
            count
          ? true
          : undefined,
      `${count} stdout lines matching ${pattern}`,
      timeoutMs,
    );
  }

  /** Sends `signal` to the process by its PID. */
  signal(signal: NodeJS.Signals): void {
    if (!this.#done) this.child.kill(signal);
  }

  /** Kills it by its PID (SIGKILL) if still running, and waits. */
  async kill(): Promise<void> {
    if (!this.#done) this.child.kill("SIGKILL");
    await this.exited.catch(() => {});
  }

  #notify(): void {
    for (const waiter of this.#waiters) waiter();
  }

  #waitFor<T>(
    found: () => T | undefined,
    what: string,
    timeoutMs: number,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(
                `No ${what} within ${timeoutMs} ms; ${this.output}`,
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
      const check = () => {
        const value = found();
        if (value !== undefined) return finish(() => resolve(value));
        if (this.#done) {
          finish(() =>
            reject(new Error(`Exited before ${what}; ${this.output}`))
          );
        }
      };
      this.#waiters.add(check);
      check();
    });
  }
}

/** The result of a CLI run to its end. */
export interface CliResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a CLI to its end, with `input` as its standard input when given.
 * Kills it by its PID and rejects if it runs longer than `timeoutMs`.
 */
export async function runCliProcess(
  start: CliCommand,
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const { input, timeoutMs = 30_000 } = options;
  const cli = new CliProcess(start, args, input);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void cli.kill();
  }, timeoutMs);
  try {
    const { code, signal } = await cli.exited;
    if (timedOut) {
      throw new Error(
        `${args.join(" ")} ran longer than ${timeoutMs} ms; ${cli.output}`,
      );
    }
    return { code, signal, stdout: cli.stdout, stderr: cli.stderr };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts `server 127.0.0.1 0 ...flags` and reads the real port from its
 * `[listen-ok]` line; the process is killed if it does not get there.
 */
export async function startServerProcess(
  start: CliCommand,
  ...flags: string[]
): Promise<{ server: CliProcess; port: number }> {
  const server = new CliProcess(start, ["server", "127.0.0.1", "0", ...flags]);
  try {
    const line = await server.waitForLine(/^\[listen-ok\] /);
    const match = line.match(/^\[listen-ok\] 127\.0\.0\.1:(\d+)$/);
    if (match === null) throw new Error(`Unexpected line: ${line}`);
    return { server, port: Number(match[1]) };
  } catch (error) {
    await server.kill();
    throw error;
  }
}

/** Fails if the output holds an uncaught error or a stack trace. */
export function assertNoStackTrace(output: string): void {
  if (/^\s+at |Uncaught|panicked|node:internal/m.test(output)) {
    throw new Error(`Unexpected stack trace or uncaught error in:\n${output}`);
  }
}
