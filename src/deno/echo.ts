/**
 * The echo server and client from the source document's `echo.cpp`, done
 * right, as a Deno CLI:
 *
 * ```sh
 * deno run -N jsr:@tcpframe/tcpframe/echo server 0.0.0.0 9000
 * deno run -N jsr:@tcpframe/tcpframe/echo client 127.0.0.1 9000 HELLO-WORLD
 * ```
 *
 * Same command line and log lines as the source (`[listen-ok]`, `[accept]`,
 * `[done]`, `[connected]`, `[echoed]`; client exit codes 1 connect, 2 send,
 * 3 receive), without its shortcuts: the server serves every connection at
 * once and every frame until the peer half-closes, writes each echo batch in
 * one call, closes idle peers, caps frames and connections, and shuts down
 * cleanly on SIGINT/SIGTERM; the client pipelines its frames, half-closes,
 * and checks every echo. `--help` lists the options.
 *
 * `-N` (`--allow-net`) is the only permission it needs over TCP: sockets,
 * and host name resolution through `getaddrinfo()`. A Unix domain socket
 * (`server unix:/tmp/echo.sock`) also needs read and write permission for
 * its path: `-R=/tmp/echo.sock -W=/tmp/echo.sock`.
 *
 * The logic lives in runtime-neutral modules; this module only supplies
 * Deno's sockets, signals, standard I/O and exit code.
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import { splitLines } from "../echo/lines.ts";
import type { EchoRuntime, TextOutput } from "../echo/runtime.ts";
import { runCli } from "../echo/cli.ts";

export type { EchoRuntime, TextOutput } from "../echo/runtime.ts";
// The runtime interface refers to these; they are the same types as in ".".
export type { Conn, Listener, NetAddr, Reader, Writer } from "../types.ts";
export { runCli } from "../echo/cli.ts";

const SHUTDOWN_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM"];

/**
 * The {@linkcode EchoRuntime} of Deno: `Deno.listen`/`Deno.connect` (TCP
 * and `transport: "unix"`), `getaddrinfo()` through `node:dns`'s `lookup`
 * (so `/etc/hosts` counts, and `localhost` gives every address in the
 * system's order), SIGINT and SIGTERM through `Deno.addSignalListener`, and
 * synchronous writes to stdout and stderr.
 *
 * @returns A new runtime object; spread it to override a part (tests
 * capture `stdout`, say).
 *
 * @example Run a server and a client in one process
 * ```ts
 * import { denoEchoRuntime, runCli } from "@tcpframe/tcpframe/echo";
 * import assert from "node:assert/strict";
 *
 * const out: string[] = [];
 * let shutdown = () => {};
 * const runtime = {
 *   ...denoEchoRuntime(),
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
export function denoEchoRuntime(): EchoRuntime {
  return {
    command: "deno run -N jsr:@tcpframe/tcpframe/echo",
    listen: (hostname, port, options) =>
      Promise.resolve(
        Deno.listen(
          options?.reusePort
            ? { hostname, port, transport: "tcp", reusePort: true }
            : { hostname, port, transport: "tcp" },
        ),
      ),
    connect: (hostname, port, signal) =>
      Deno.connect(
        signal === undefined ? { hostname, port } : { hostname, port, signal },
      ),
    listenUnix: (path) =>
      Promise.resolve(Deno.listen({ transport: "unix", path })),
    connectUnix(path, signal) {
      // A Unix connect does not wait on the network: it succeeds or fails
      // at once, so the signal is only checked before it.
      signal?.throwIfAborted();
      return Deno.connect({ transport: "unix", path });
    },
    async resolve(hostname) {
      const found = await lookup(hostname, { all: true, verbatim: true });
      return found.map((entry) => entry.address);
    },
    onShutdown(handler) {
      const added: Deno.Signal[] = [];
      for (const signal of SHUTDOWN_SIGNALS) {
        try {
          Deno.addSignalListener(signal, handler);
          added.push(signal);
        } catch {
          // SIGTERM does not exist on Windows.
        }
      }
      return () => {
        for (const signal of added) Deno.removeSignalListener(signal, handler);
      };
    },
    stdout: _output(Deno.stdout),
    stderr: _output(Deno.stderr),
    stdinLines: () =>
      splitLines(Deno.stdin.readable.pipeThrough(new TextDecoderStream())),
    isTerminal: () => Deno.stderr.isTerminal(),
    now: () => performance.now(),
  };
}

function _output(file: { writeSync(p: Uint8Array): number }): TextOutput {
  const encoder = new TextEncoder();
  return {
    write(text) {
      let bytes = encoder.encode(text);
      try {
        while (bytes.byteLength > 0) {
          bytes = bytes.subarray(file.writeSync(bytes));
        }
      } catch {
        // The reader of a pipe went away (`| head`): nothing to tell.
      }
    },
  };
}

if (import.meta.main) Deno.exit(await runCli(Deno.args, denoEchoRuntime()));
