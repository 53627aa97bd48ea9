/**
 * The echo server and client as a Node CLI: the npm package's
 * `tcpframe-echo` command.
 *
 * ```sh
 * npx tcpframe-echo server 127.0.0.1 9000
 * npx tcpframe-echo client 127.0.0.1 9000 HELLO-WORLD "second frame"
 * ```
 *
 * The same command line, log lines and exit codes as the Deno CLI
 * (`deno run -N jsr:@tcpframe/tcpframe/echo`): the logic lives in
 * runtime-neutral modules, and this module only supplies Node's sockets
 * (through `tcpframe/node`), name resolution, signals, standard I/O and exit
 * code. Run as a program it runs the CLI; imported, it only exports
 * {@linkcode nodeEchoRuntime}.
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import { realpathSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runCli } from "../echo/cli.ts";
import { splitLines } from "../echo/lines.ts";
import type { EchoRuntime, TextOutput } from "../echo/runtime.ts";
import { ConnectionRefusedError } from "../errors.ts";
import { connect } from "./connect.ts";
import { listen } from "./listen.ts";

export type { EchoRuntime, TextOutput } from "../echo/runtime.ts";
// The runtime interface refers to these; they are the same types as in ".".
export type { Conn, Listener, NetAddr, Reader, Writer } from "../types.ts";

const SHUTDOWN_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * The {@linkcode EchoRuntime} of Node: `listen()` and `connect()` from
 * `tcpframe/node` (TCP and Unix domain sockets), `getaddrinfo()` through
 * `node:dns`'s `lookup` (so `/etc/hosts` counts, and `localhost` gives every
 * address in the system's order), SIGINT and SIGTERM through `process.on`, and `process.stdout` and
 * `process.stderr` (a reader that went away, as with `| head`, is ignored).
 *
 * @returns A new runtime object; spread it to override a part (tests
 * capture `stdout`, say).
 *
 * @example Run a server and a client in one process
 * ```ts
 * import { nodeEchoRuntime } from "./echo.ts";
 * import { runCli } from "../echo/cli.ts";
 * import assert from "node:assert/strict";
 *
 * const out: string[] = [];
 * let shutdown = () => {};
 * const runtime = {
 *   ...nodeEchoRuntime(),
 *   stdout: { write: (text: string) => void out.push(text) },
 *   onShutdown(handler: () => void) {
 *     shutdown = handler; // stands in for SIGINT
 *     return () => {};
 *   },
 * };
 * const serving = runCli(["server", "127.0.0.1", "0"], runtime);
 * while (out.length === 0) await new Promise((r) => setTimeout(r, 5));
 * const port = out[0]!.match(/^\[listen-ok\] 127\.0\.0\.1:(\d+)\n$/)![1]!;
 *
 * const code = await runCli(["client", port, "hello", "world"], runtime);
 * assert.equal(code, 0);
 * assert.ok(out.includes("[echoed] hello\n"));
 * assert.ok(out.includes("[echoed] world\n"));
 *
 * shutdown();
 * assert.equal(await serving, 0);
 * ```
 */
export function nodeEchoRuntime(): EchoRuntime {
  return {
    command: "tcpframe-echo",
    listen(hostname, port, options) {
      if (options?.reusePort) {
        // Node's own reusePort arrived in 22.12; the way on every version
        // is one port shared by node:cluster workers (README: Scale-out).
        return Promise.reject(
          new Error(
            "--reuse-port is not available on Node: run workers with node:cluster instead",
          ),
        );
      }
      return listen({ hostname, port });
    },
    async connect(hostname, port, signal) {
      try {
        return await connect(
          signal === undefined
            ? { hostname, port }
            : { hostname, port, signal },
        );
      } catch (error) {
        // `[connect-fail] Connection refused to <addr>`, as on Deno: the
        // adapter's message already names the address.
        throw error instanceof ConnectionRefusedError
          ? new ConnectionRefusedError(undefined, { cause: error.cause })
          : error;
      }
    },
    listenUnix: (path) => listen({ path }),
    connectUnix: (path, signal) =>
      connect(signal === undefined ? { path } : { path, signal }),
    async resolve(hostname) {
      const found = await lookup(hostname, { all: true, verbatim: true });
      return found.map((entry) => entry.address);
    },
    onShutdown(handler) {
      for (const signal of SHUTDOWN_SIGNALS) process.on(signal, handler);
      return () => {
        for (const signal of SHUTDOWN_SIGNALS) process.off(signal, handler);
      };
    },
    stdout: _output(process.stdout),
    stderr: _output(process.stderr),
    stdinLines: () =>
      splitLines(process.stdin.setEncoding("utf8") as AsyncIterable<string>),
    isTerminal: () => process.stderr.isTTY === true,
    now: () => performance.now(),
  };
}

function _output(stream: NodeJS.WriteStream): TextOutput {
  // EPIPE and the like arrive as 'error' events; unhandled, they would crash.
  if (stream.listenerCount("error") === 0) stream.on("error", () => {});
  return {
    write(text) {
      if (!stream.destroyed) stream.write(text);
    },
  };
}

/** Resolves once everything written to `stream` so far has been handed on. */
function _flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed) resolve();
    else stream.write("", () => resolve());
  });
}

/**
 * Whether this module is the program that was started: `import.meta.main`
 * where the runtime has it (Deno, Bun, Node >= 24.2), else whether
 * `process.argv[1]` (perhaps npm's `.bin` symlink) is this file.
 */
function _isMain(): boolean {
  const main = (import.meta as { main?: unknown }).main;
  if (typeof main === "boolean") return main;
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) ===
      realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (_isMain()) {
  process.exitCode = await runCli(process.argv.slice(2), nodeEchoRuntime());
  // Exit as the Deno CLI does, even if standard input is still open, but
  // only once every log line has been written.
  await Promise.all([_flushed(process.stdout), _flushed(process.stderr)]);
  process.exit();
}
