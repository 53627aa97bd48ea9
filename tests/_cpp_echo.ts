// Builds and runs the C++23 reference echo (tests/fixtures/echo.cpp) for
// interop tests. Uses only `node:` modules, so it works from Deno and Node.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  accessSync,
  constants,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SOURCE_URL = new URL("./fixtures/echo.cpp", import.meta.url);
const CXX = "g++";
const CXX_FLAGS = ["-std=c++23", "-O2", "-Wall"] as const;
const PROBE_TIMEOUT_MS = 20_000;
const COMPILE_TIMEOUT_MS = 180_000;
/** What the fixture needs from the compiler and its library. */
const CXX23_PROBE = `#include <expected>
#include <span>
int main() { std::expected<int, int> e{1}; return *e - 1; }
`;

interface ExecResult {
  /** Exit code; `null` when the command could not start or was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the command could not start (e.g. `ENOENT`). */
  spawnError?: string;
}

function exec(
  file: string,
  args: readonly string[],
  timeout: number,
  input?: string,
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { timeout, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        if (typeof code === "string") {
          resolve({ code: null, stdout, stderr, spawnError: code });
        } else {
          resolve({ code: child.exitCode, stdout, stderr });
        }
      },
    );
    // A command that exits without reading its input (g++ --version) makes
    // this write fail with EPIPE; the exit code tells what happened.
    child.stdin?.on("error", () => {});
    child.stdin?.end(input ?? "");
  });
}

function firstLine(text: string): string {
  return text.trim().split("\n", 1)[0] ?? "";
}

let building: Promise<{ path: string } | { skip: string }> | undefined;

/**
 * Compiles tests/fixtures/echo.cpp with `g++ -std=c++23 -O2 -Wall` into a
 * cache directory under `os.tmpdir()`, keyed by the sha256 of the source, the
 * flags and the compiler's version line; a cached binary is reused. Each
 * build compiles to a unique temporary name and renames it into place, so
 * concurrent test processes do not race. Memoized per process.
 *
 * @returns The binary's path, or `{ skip }` with the reason when the tools
 * are missing: no `g++`, a `g++` without C++23 (`<expected>`), or no
 * `stdbuf` (needed to see the binary's stdout lines as they happen).
 * @throws {Error} The tools are present but the fixture failed to compile.
 */
export function buildReferenceEcho(): Promise<
  { path: string } | { skip: string }
> {
  building ??= build();
  return building;
}

async function build(): Promise<{ path: string } | { skip: string }> {
  const version = await exec(CXX, ["--version"], PROBE_TIMEOUT_MS);
  if (version.code !== 0) {
    return {
      skip: version.spawnError === "ENOENT"
        ? `${CXX} not found on PATH`
        : `${CXX} --version failed: ${
          version.spawnError ?? firstLine(version.stderr)
        }`,
    };
  }
  const probe = await exec(
    CXX,
    ["-std=c++23", "-fsyntax-only", "-x", "c++", "-"],
    PROBE_TIMEOUT_MS,
    CXX23_PROBE,
  );
  if (probe.code !== 0) {
    return {
      skip: `${CXX} lacks C++23 (${firstLine(version.stdout)}): ${
        firstLine(probe.stderr) || "-std=c++23 probe failed"
      }`,
    };
  }
  const stdbuf = await exec("stdbuf", ["--version"], PROBE_TIMEOUT_MS);
  if (stdbuf.code !== 0) {
    return {
      skip: "stdbuf (GNU coreutils) not found: needed to line-buffer " +
        "the reference echo's piped stdout",
    };
  }

  const source = readFileSync(SOURCE_URL);
  const key = createHash("sha256")
    .update(source)
    .update("\0" + CXX_FLAGS.join(" ") + "\0" + firstLine(version.stdout))
    .digest("hex")
    .slice(0, 32);
  const dir = join(tmpdir(), "tcpframe-cpp-echo", key);
  const binary = join(dir, "echo");
  if (isExecutable(binary)) return { path: binary };

  mkdirSync(dir, { recursive: true });
  const unique = `${process.pid}-${randomBytes(6).toString("hex")}`;
  // Compile the exact bytes that were hashed.
  const sourceCopy = join(dir, `echo.${unique}.cpp`);
  const output = join(dir, `echo.${unique}.tmp`);
  try {
    writeFileSync(sourceCopy, source);
    const compiled = await exec(
      CXX,
      [...CXX_FLAGS, sourceCopy, "-o", output],
      COMPILE_TIMEOUT_MS,
    );
    if (compiled.code !== 0) {
      throw new Error(
        `Cannot compile tests/fixtures/echo.cpp: ${CXX} exited with ${
          compiled.code ?? compiled.spawnError ?? "a signal"
        }\n${compiled.stderr}`,
      );
    }
    renameSync(output, binary);
  } finally {
    rmSync(sourceCopy, { force: true });
    rmSync(output, { force: true });
  }
  return { path: binary };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds a free TCP port on 127.0.0.1 by listening on port 0 and closing.
 * Another process may take it before it is used; callers retry.
 *
 * @returns A port that was free a moment ago.
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null
        ? address.port
        : 0;
      server.close(() =>
        port > 0
          ? resolve(port)
          : reject(new Error("Cannot find a free port: no address"))
      );
    });
  });
}

/** A running reference echo server. */
export interface ReferenceServer {
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number;
  /** The server's process (`stdbuf` execs the binary: same PID). */
  readonly process: ChildProcess;
  /** Everything it printed so far. */
  output(): { stdout: string; stderr: string };
  /**
   * Waits until a stdout line matches `pattern`, counting lines already
   * printed.
   *
   * @returns The matching line.
   * @throws {Error} The timeout passed or the server exited first.
   */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /**
   * Kills the process by its own PID (SIGTERM, then SIGKILL after 5 s) and
   * waits until it and its pipes are closed. Safe to call twice.
   */
  stop(): Promise<void>;
}

/** Options for {@linkcode startReferenceServer}. */
export interface StartReferenceServerOptions {
  /**
   * The port to listen on; a free one is found when omitted. The reference
   * server accepts port 0 but then prints `[listen-ok] 127.0.0.1:0`, not the
   * port it got, so 0 is refused here.
   *
   * @default {undefined}
   */
  port?: number;
  /**
   * How long to wait for `[listen-ok]`.
   *
   * @default {10_000}
   */
  timeoutMs?: number;
}

/**
 * Starts `<path> server 127.0.0.1 <port>` under `stdbuf -oL` and waits for
 * its `[listen-ok] 127.0.0.1:<port>` line. When the port was not given and
 * the bind fails (another process took the free port), retries up to 3
 * times with a new port.
 *
 * @param path The binary from {@linkcode buildReferenceEcho}.
 * @param options The port and the start-up timeout.
 * @returns The running server; call `stop()` when done.
 * @throws {Error} It exited or did not report `[listen-ok]` in time; the
 * process is stopped first.
 * @throws {RangeError} `options.port` is not in 1..65535.
 */
export async function startReferenceServer(
  path: string,
  options: StartReferenceServerOptions = {},
): Promise<ReferenceServer> {
  const { port, timeoutMs = 10_000 } = options;
  if (
    port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)
  ) {
    throw new RangeError(
      `Cannot start the reference server: port must be in 1..65535, got ${port}`,
    );
  }
  for (let attempt = 1;; attempt++) {
    const server = spawnServer(path, port ?? await findFreePort());
    try {
      await server.waitForLine(
        new RegExp(`^\\[listen-ok\\] 127\\.0\\.0\\.1:${server.port}$`),
        timeoutMs,
      );
      return server;
    } catch (error) {
      await server.stop();
      const { stderr } = server.output();
      if (port === undefined && attempt < 3 && stderr.includes("[bind-fail]")) {
        continue;
      }
      throw new Error(
        `Cannot start the reference server on 127.0.0.1:${server.port}: ${
          (error as Error).message
        }\nstderr: ${stderr}`,
      );
    }
  }
}

function spawnServer(path: string, port: number): ReferenceServer {
  const child = spawn(
    "stdbuf",
    ["-oL", path, "server", "127.0.0.1", String(port)],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((listener) => listener());
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    notify();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });
  let isClosed = false;
  const closed = new Promise<void>((resolve) => {
    child.once("close", () => {
      isClosed = true;
      notify();
      resolve();
    });
  });

  return {
    port,
    process: child,
    output: () => ({ stdout, stderr }),
    waitForLine(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = stdout.split("\n").find((l) => pattern.test(l));
          if (line !== undefined) return done(() => resolve(line));
          if (isClosed || spawnError) {
            return done(() =>
              reject(
                new Error(
                  `The reference server exited (${
                    spawnError?.message ??
                      `code ${child.exitCode}, signal ${child.signalCode}`
                  }) before printing a line matching ${pattern}`,
                ),
              )
            );
          }
        };
        const timer = setTimeout(
          () =>
            done(() =>
              reject(
                new Error(
                  `No line matching ${pattern} within ${timeoutMs} ms`,
                ),
              )
            ),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async stop() {
      if (!isClosed) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
        }
        const timer = setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill("SIGKILL");
          }
        }, 5_000);
        await closed;
        clearTimeout(timer);
      }
    },
  };
}

/** What a run of the reference client did. */
export interface ReferenceClientResult {
  /** Exit code: 0 ok, 1 connect, 2 send, 3 receive; `null` when killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Whether it was killed for running longer than the timeout. */
  timedOut: boolean;
}

/**
 * Runs `<path> client <host> <port> <message>` (under `stdbuf -oL`, so its
 * lines survive being killed), killing it by its own PID after `timeoutMs`.
 *
 * @param path The binary from {@linkcode buildReferenceEcho}.
 * @param host The server's host, e.g. `127.0.0.1`.
 * @param port The server's port.
 * @param message The payload of the one frame it sends (no NUL bytes).
 * @param timeoutMs How long it may run.
 * @returns Its exit code and output.
 */
export function runReferenceClient(
  path: string,
  host: string,
  port: number,
  message: string,
  timeoutMs = 10_000,
): Promise<ReferenceClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "stdbuf",
      ["-oL", path, "client", host, String(port), message],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}
