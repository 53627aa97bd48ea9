/**
 * Parsing and checking the echo CLI's command line.
 *
 * This is the only module of `src/echo/` that imports a `node:` module:
 * `node:util`'s `parseArgs`, which Deno and Node both provide.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { ProxyVersions } from "../proxy_protocol.ts";
import {
  type ClientCommand,
  type ClientSource,
  DEFAULT_CLIENT_TIMEOUT_MS,
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNS,
  DEFAULT_MAX_FRAME,
  type EchoCommand,
  type Endpoint,
  type ServerCommand,
} from "./options.ts";

/**
 * A command line that cannot be run; the message is one line, for the user.
 * `runCli()` prints it with the usage text and exits with 2.
 */
export class UsageError extends Error {
  /**
   * Creates an error.
   *
   * @param message What is wrong, in one line.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const OPTIONS = {
  "help": { type: "boolean", short: "h" },
  "max-frame": { type: "string" },
  "idle-timeout": { type: "string" },
  "max-conns": { type: "string" },
  "frame-timeout": { type: "string" },
  "min-rate": { type: "string" },
  "proxy-protocol": { type: "string" },
  "reuse-port": { type: "boolean" },
  "stdin": { type: "boolean" },
  "size": { type: "string" },
  "count": { type: "string" },
  "timeout": { type: "string" },
  "trace": { type: "boolean" },
} as const;

type Values = ReturnType<typeof _parse>["values"];

const SERVER_ONLY = [
  "idle-timeout",
  "max-conns",
  "frame-timeout",
  "min-rate",
  "proxy-protocol",
  "reuse-port",
] as const;
const CLIENT_ONLY = ["stdin", "size", "count", "timeout", "trace"] as const;

/** The largest length a 4-byte length field can carry. */
const MAX_U32 = 0xffff_ffff;
/** The largest delay `setTimeout` honours. */
const MAX_DELAY_MS = 0x7fff_ffff;

/**
 * Parses the echo CLI's arguments (without the program name).
 *
 * @param argv The arguments, e.g. `["client", "9000", "hello"]` or
 * `["client", "unix:/tmp/echo.sock", "hello"]`.
 * @returns The command, with every default filled in.
 * @throws {UsageError} The command line is wrong; the message says how.
 *
 * @example
 * ```ts
 * import { parseEchoArgs } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * const command = parseEchoArgs(["client", "--trace", "9000", "hi"]);
 * assert.equal(command.mode, "client");
 * if (command.mode === "client" && "host" in command) {
 *   assert.equal(command.host, "127.0.0.1");
 *   assert.equal(command.port, 9000);
 *   assert.deepEqual(command.source, { kind: "messages", messages: ["hi"] });
 *   assert.equal(command.trace, true);
 * }
 * const unix = parseEchoArgs(["server", "unix:/tmp/echo.sock"]);
 * assert.ok(unix.mode === "server" && "path" in unix);
 * assert.equal(unix.path, "/tmp/echo.sock");
 * ```
 */
export function parseEchoArgs(argv: readonly string[]): EchoCommand {
  const { values, positionals } = _parse(argv);
  if (values.help) return { mode: "help" };
  const [mode, ...rest] = positionals;
  switch (mode) {
    case "server":
      return _server(values, rest);
    case "client":
      return _client(values, rest);
    case undefined:
      throw new UsageError("Missing mode: expected server or client");
    default:
      throw new UsageError(
        `Unknown mode ${JSON.stringify(mode)}: expected server or client`,
      );
  }
}

function _parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: _joinDashValues(argv),
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_")) {
      // parseArgs explains at length; keep its first sentence.
      const message = (error as Error).message.split("\n")[0]!;
      throw new UsageError(message.replace(/\. To specify .*$/, ""));
    }
    throw error;
  }
}

/**
 * `--max-conns -1` as `--max-conns=-1`: parseArgs refuses a value that
 * starts with "-" as "ambiguous"; a value that is not one of our options is
 * taken as the value, so the number check can name the flag and the value.
 */
function _joinDashValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    const option = name === undefined
      ? undefined
      : (OPTIONS as Record<string, { type: string }>)[name];
    if (
      option?.type === "string" && next !== undefined &&
      next.startsWith("-") && next !== "--" && !_isOption(next)
    ) {
      out.push(`${arg}=${next}`);
      i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** Whether `arg` names one of our options: `--size`, `--size=1`, `-h`. */
function _isOption(arg: string): boolean {
  if (arg === "-h") return true;
  if (!arg.startsWith("--")) return false;
  return arg.slice(2).split("=")[0]! in OPTIONS;
}

function _server(values: Values, rest: string[]): ServerCommand {
  _refuse(values, CLIENT_ONLY, "server");
  if (rest.length === 0) throw new UsageError("server: missing <port>");
  const first = _address(rest[0]!, 0);
  const endpoint: Endpoint | undefined = first ??
    (rest.length === 1
      ? { host: DEFAULT_HOST, port: _integer("port", rest[0]!, 0, 65535) }
      : {
        host: _host(rest[0]!),
        port: _integer("port", rest[1]!, 0, 65535),
      });
  const expected = first === undefined ? 2 : 1;
  if (rest.length > expected) {
    throw new UsageError(
      `server: too many arguments: expected ${
        first === undefined
          ? "[host] <port>"
          : `one address (${JSON.stringify(rest[0])})`
      }, got ${rest.length}`,
    );
  }
  const reusePort = values["reuse-port"] ?? false;
  if (reusePort && "path" in endpoint) {
    throw new UsageError(
      "server: --reuse-port is for a TCP port, not a unix:<path>",
    );
  }
  return {
    mode: "server",
    ...endpoint,
    reusePort,
    proxyProtocol: _proxyProtocol(values["proxy-protocol"]),
    frameTimeoutMs: _optional(
      values["frame-timeout"],
      "--frame-timeout",
      DEFAULT_FRAME_TIMEOUT_MS,
      0,
      MAX_DELAY_MS,
    ),
    minRate: _optional(values["min-rate"], "--min-rate", 0, 0, MAX_U32),
    maxFrame: _maxFrame(values),
    idleTimeoutMs: _optional(
      values["idle-timeout"],
      "--idle-timeout",
      DEFAULT_IDLE_TIMEOUT_MS,
      0,
      MAX_DELAY_MS,
    ),
    maxConns: _optional(
      values["max-conns"],
      "--max-conns",
      DEFAULT_MAX_CONNS,
      1,
      1_000_000,
    ),
  };
}

function _client(values: Values, rest: string[]): ClientCommand {
  _refuse(values, SERVER_ONLY, "client");
  const first = rest.length > 0 ? _address(rest[0]!, 1) : undefined;
  let endpoint: Endpoint;
  let messages: string[];
  if (first !== undefined) {
    endpoint = first;
    messages = rest.slice(1);
  } else {
    // `client 9000 hello`: a first argument that is all digits is the port.
    const hostGiven = rest.length > 0 && !/^\d+$/.test(rest[0]!);
    const portText = rest[hostGiven ? 1 : 0];
    if (portText === undefined) throw new UsageError("client: missing <port>");
    endpoint = {
      host: hostGiven ? _host(rest[0]!) : DEFAULT_HOST,
      port: _integer("port", portText, 1, 65535),
    };
    messages = rest.slice(hostGiven ? 2 : 1);
  }
  const maxFrame = _maxFrame(values);
  const source = _source(values, messages, maxFrame);
  return {
    mode: "client",
    ...endpoint,
    source,
    maxFrame,
    timeoutMs: _optional(
      values.timeout,
      "--timeout",
      DEFAULT_CLIENT_TIMEOUT_MS,
      0,
      MAX_DELAY_MS,
    ),
    trace: values.trace ?? false,
  };
}

function _source(
  values: Values,
  messages: string[],
  maxFrame: number,
): ClientSource {
  const generated = values.size !== undefined || values.count !== undefined;
  const kinds = [messages.length > 0, values.stdin === true, generated]
    .filter(Boolean).length;
  if (kinds === 0) {
    throw new UsageError(
      "client: nothing to send: give messages, --stdin or --size",
    );
  }
  if (kinds > 1) {
    throw new UsageError(
      "client: give only one of messages, --stdin or --size/--count",
    );
  }
  if (values.stdin) return { kind: "stdin" };
  if (generated) {
    if (values.size === undefined) {
      throw new UsageError("client: --count needs --size");
    }
    const size = _integer("--size", values.size, 0, maxFrame);
    const count = _optional(values.count, "--count", 1, 1, 2 ** 32);
    return { kind: "generated", size, count };
  }
  const encoder = new TextEncoder();
  messages.forEach((message, i) => {
    const bytes = encoder.encode(message).byteLength;
    if (bytes > maxFrame) {
      throw new UsageError(
        `client: message ${
          i + 1
        } is ${bytes} bytes, over --max-frame ${maxFrame}`,
      );
    }
  });
  return { kind: "messages", messages };
}

function _refuse(
  values: Values,
  names: readonly (keyof Values)[],
  mode: string,
): void {
  for (const name of names) {
    if (values[name] !== undefined) {
      throw new UsageError(`${mode}: --${name} is not a ${mode} option`);
    }
  }
}

/**
 * A whole address in one argument, as `[listen-ok]` prints it:
 * `unix:<path>`, `[v6]:port` or `host:port` (one colon); `undefined` for
 * anything else (a host alone, a port alone).
 */
function _address(text: string, minPort: number): Endpoint | undefined {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    if (path === "") {
      throw new UsageError(
        'Invalid address "unix:": expected unix:<path>',
      );
    }
    return { path };
  }
  const match = /^(\[[^\]]*\]|[^:\[\]]+):(\d+)$/.exec(text);
  if (match === null) return undefined;
  return {
    host: _host(match[1]!),
    port: _integer("port", match[2]!, minPort, 65535),
  };
}

/** A host as given, or an IPv6 address without its brackets: `[::1]`. */
function _host(host: string): string {
  if (host === "") throw new UsageError("Host must not be empty");
  if (host.startsWith("[") || host.endsWith("]")) {
    const inner = host.slice(1, -1);
    if (
      !host.startsWith("[") || !host.endsWith("]") || !inner.includes(":")
    ) {
      throw new UsageError(
        `Invalid host ${
          JSON.stringify(host)
        }: brackets are for an IPv6 address, as in [::1]`,
      );
    }
    return inner;
  }
  return host;
}

/** `--proxy-protocol v1|v2|any`, as the server option takes it. */
function _proxyProtocol(text: string | undefined): ProxyVersions | undefined {
  switch (text) {
    case undefined:
      return undefined;
    case "v1":
      return 1;
    case "v2":
      return 2;
    case "any":
      return "any";
    default:
      throw new UsageError(
        `Invalid --proxy-protocol ${
          JSON.stringify(text)
        }: expected v1, v2 or any`,
      );
  }
}

function _maxFrame(values: Values): number {
  return _optional(
    values["max-frame"],
    "--max-frame",
    DEFAULT_MAX_FRAME,
    1,
    MAX_U32,
  );
}

function _optional(
  text: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  return text === undefined ? fallback : _integer(name, text, min, max);
}

function _integer(
  name: string,
  text: string,
  min: number,
  max: number,
): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new UsageError(
      `Invalid ${name} ${
        JSON.stringify(text)
      }: expected an integer from ${min} to ${max}`,
    );
  }
  return value;
}
