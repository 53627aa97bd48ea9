/**
 * The echo CLI, runtime-neutral: `runCli(argv, runtime)`.
 *
 * @module
 */

import type { Conn, Listener } from "../types.ts";
import { formatAddress, formatHostPort, formatUnixPath } from "./_address.ts";
import { Deadline } from "./_deadline.ts";
import { lookupFailure, messageOf } from "./_describe_error.ts";
import { ProgressLine } from "./_progress.ts";
import { parseEchoArgs, UsageError } from "./args.ts";
import { CountingConn, formatIoStats } from "./counting_conn.ts";
import { dial } from "./dial.ts";
import { EchoExchange, type EchoPayloads } from "./exchange.ts";
import { type EchoLog, logTo } from "./log.ts";
import type { ClientCommand, ServerCommand } from "./options.ts";
import type { EchoRuntime } from "./runtime.ts";
import { serveEcho } from "./server.ts";
import { usage } from "./usage.ts";

/** Exit code: success. */
export const EXIT_OK = 0;
/** Exit code: connecting (or, for the server, listening) failed. */
export const EXIT_CONNECT = 1;
/** Exit code: sending failed, or a bad command line. */
export const EXIT_SEND = 2;
/** Exit code: receiving failed, or fewer or different echoes came back. */
export const EXIT_RECEIVE = 3;
/** Exit code: a bad command line (the same as {@linkcode EXIT_SEND}). */
export const EXIT_USAGE = 2;

/**
 * Runs the echo CLI: `server [host] <port>` or
 * `client [host] <port> <message>...`, or the same with `unix:<path>` for
 * a Unix domain socket; see `--help`.
 *
 * The server runs until `runtime.onShutdown` fires (SIGINT, SIGTERM), then
 * stops accepting, lets open connections finish for a short grace period,
 * and resolves to 0. The client resolves to its exit code: 0 every echo came
 * back intact, 1 connect failed, 2 send failed, 3 receive failed (including
 * fewer or different echoes than sent). A bad command line prints a one-line
 * error and the usage to stderr and resolves to 2.
 *
 * @param argv The arguments without the program name.
 * @param runtime What the runtime supplies: sockets, signals, stdio, clock.
 * @returns The process exit code.
 *
 * @example A client whose connection is refused exits with 1
 * ```ts
 * import { denoEchoRuntime, runCli } from "@tcpframe/tcpframe/echo";
 * import assert from "node:assert/strict";
 *
 * const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = closed.addr.port;
 * closed.close(); // nobody listens there now
 *
 * let output = "";
 * const sink = { write: (text: string) => void (output += text) };
 * const runtime = { ...denoEchoRuntime(), stdout: sink, stderr: sink };
 * assert.equal(await runCli(["client", String(port), "hello"], runtime), 1);
 * assert.equal(
 *   output.split("\n")[0],
 *   `[connect-fail] Connection refused to 127.0.0.1:${port}`,
 * );
 * ```
 */
export async function runCli(
  argv: readonly string[],
  runtime: EchoRuntime,
): Promise<number> {
  let command;
  try {
    command = parseEchoArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    runtime.stderr.write(
      `error: ${error.message}\n\n${usage(runtime.command)}`,
    );
    return EXIT_USAGE;
  }
  const log = logTo(runtime.stdout, runtime.stderr);
  switch (command.mode) {
    case "help":
      runtime.stdout.write(usage(runtime.command));
      return EXIT_OK;
    case "server":
      return await _server(command, runtime, log);
    case "client":
      return await _client(command, runtime, log);
  }
}

async function _server(
  command: ServerCommand,
  runtime: EchoRuntime,
  log: EchoLog,
): Promise<number> {
  const listener = await _listen(command, runtime, log);
  if (listener === null) return EXIT_CONNECT;
  log.info(`[listen-ok] ${formatAddress(listener.addr)}`);
  const server = serveEcho(listener, {
    maxFrame: command.maxFrame,
    idleTimeoutMs: command.idleTimeoutMs,
    frameTimeoutMs: command.frameTimeoutMs,
    minRate: command.minRate,
    proxyProtocol: command.proxyProtocol,
    maxConns: command.maxConns,
    log,
  });
  const off = runtime.onShutdown(() => void server.shutdown());
  try {
    await server.finished;
  } finally {
    off();
  }
  log.info("[shutdown] done");
  return EXIT_OK;
}

/**
 * Binds the first address of the host that works, like the source, or the
 * Unix socket path.
 */
async function _listen(
  command: ServerCommand,
  runtime: EchoRuntime,
  log: EchoLog,
): Promise<Listener | null> {
  if ("path" in command) {
    const shown = formatUnixPath(command.path);
    try {
      return await runtime.listenUnix(command.path);
    } catch (error) {
      log.error(`[bind-fail] ${messageOf(error)} -> ${shown}`);
      log.error(`[error] listen: cannot listen on ${shown}`);
      return null;
    }
  }
  const { host, port } = command;
  let addresses: string[];
  try {
    addresses = await runtime.resolve(host);
  } catch (error) {
    log.error(
      `[error] listen: cannot resolve ${host}: ${lookupFailure(error)}`,
    );
    return null;
  }
  for (const address of addresses) {
    try {
      return await (command.reusePort
        ? runtime.listen(address, port, { reusePort: true })
        : runtime.listen(address, port));
    } catch (error) {
      log.error(
        `[bind-fail] ${messageOf(error)} -> ${formatHostPort(address, port)}`,
      );
    }
  }
  log.error(`[error] listen: cannot listen on ${formatHostPort(host, port)}`);
  return null;
}

async function _client(
  command: ClientCommand,
  runtime: EchoRuntime,
  log: EchoLog,
): Promise<number> {
  const deadline = new Deadline(command.timeoutMs);
  try {
    let conn: Conn;
    try {
      ({ conn } = await dial(command, {
        resolve: (host) => runtime.resolve(host),
        connect: (host, port, signal) => runtime.connect(host, port, signal),
        connectUnix: (path, signal) => runtime.connectUnix(path, signal),
        log,
        signal: deadline.signal,
      }));
    } catch (error) {
      log.error(`[error] connect: ${messageOf(error)}`);
      return EXIT_CONNECT;
    }
    const counting = command.trace ? new CountingConn(conn) : undefined;
    const exchange = new EchoExchange(
      counting ?? conn,
      _payloads(command, runtime),
      { maxFrame: command.maxFrame, signal: deadline.signal, log },
    );
    const started = runtime.now();
    const progress = runtime.isTerminal()
      ? new ProgressLine(
        runtime.stderr,
        () => _progressText(exchange, runtime.now() - started),
      )
      : undefined;
    let result;
    try {
      result = await exchange.run();
    } finally {
      progress?.stop();
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    const seconds = (runtime.now() - started) / 1000;
    const { source } = command;
    if (result.outcome === "ok" && source.kind === "generated") {
      log.info(
        `[verified] ${source.count} frames of ${source.size} bytes echoed intact (FNV-1a checksums match) in ${
          seconds.toFixed(3)
        } s, ${_rate(result.bytesSent + result.bytesEchoed, seconds)}`,
      );
    }
    if (counting !== undefined) {
      for (
        const line of formatIoStats(
          counting.stats,
          result.framesSent,
          result.framesEchoed,
        )
      ) log.info(line);
    }
    switch (result.outcome) {
      case "ok":
        return EXIT_OK;
      case "send-failed":
        log.error(`[error] send: ${result.message}`);
        return EXIT_SEND;
      case "receive-failed":
        log.error(`[error] receive: ${result.message}`);
        return EXIT_RECEIVE;
    }
  } finally {
    deadline.clear();
  }
}

function _payloads(command: ClientCommand, runtime: EchoRuntime): EchoPayloads {
  const { source } = command;
  switch (source.kind) {
    case "messages":
      return { kind: "messages", messages: source.messages };
    case "stdin":
      return { kind: "lines", lines: runtime.stdinLines() };
    case "generated":
      return { kind: "generated", size: source.size, count: source.count };
  }
}

function _progressText(exchange: EchoExchange, ms: number): string {
  const total = exchange.total;
  const bytes = exchange.bytesSent + exchange.bytesEchoed;
  return `[progress] sent ${exchange.framesSent}${
    total === undefined ? "" : `/${total}`
  } frames, echoed ${exchange.framesEchoed}, ${
    _rate(bytes, ms / 1000)
  } both ways`;
}

function _rate(bytes: number, seconds: number): string {
  const mib = bytes / (1024 * 1024);
  return seconds > 0
    ? `${(mib / seconds).toFixed(1)} MiB/s`
    : `${mib.toFixed(1)} MiB`;
}
