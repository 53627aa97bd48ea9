/**
 * Parsing and checking the echo CLI's command line.
 *
 * This is the only module of `src/echo/` that imports a `node:` module:
 * `node:util`'s `parseArgs`, which Deno and Node both provide.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type ClientCommand,
  type ClientSource,
  DEFAULT_CLIENT_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNS,
  DEFAULT_MAX_FRAME,
  type EchoCommand,
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
  "stdin": { type: "boolean" },
  "size": { type: "string" },
  "count": { type: "string" },
  "timeout": { type: "string" },
  "trace": { type: "boolean" },
} as const;

type Values = ReturnType<typeof _parse>["values"];

const SERVER_ONLY = ["idle-timeout", "max-conns"] as const;
const CLIENT_ONLY = ["stdin", "size", "count", "timeout", "trace"] as const;

/** The largest length a 4-byte length field can carry. */
const MAX_U32 = 0xffff_ffff;
/** The largest delay `setTimeout` honours. */
const MAX_DELAY_MS = 0x7fff_ffff;

/**
 * Parses the echo CLI's arguments (without the program name).
 *
 * @param argv The arguments, e.g. `["client", "9000", "hello"]`.
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
 * if (command.mode === "client") {
 *   assert.equal(command.host, "127.0.0.1");
 *   assert.equal(command.port, 9000);
 *   assert.deepEqual(command.source, { kind: "messages", messages: ["hi"] });
 *   assert.equal(command.trace, true);
 * }
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
      args: [...argv],
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

function _server(values: Values, rest: string[]): ServerCommand {
  _refuse(values, CLIENT_ONLY, "server");
  if (rest.length === 0) throw new UsageError("server: missing <port>");
  if (rest.length > 2) {
    throw new UsageError(
      `server: too many arguments: expected [host] <port>, got ${rest.length}`,
    );
  }
  const [host, portText] = rest.length === 1
    ? [DEFAULT_HOST, rest[0]!]
    : [rest[0]!, rest[1]!];
  return {
    mode: "server",
    host: _host(host),
    port: _integer("port", portText, 0, 65535),
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
  // `client 9000 hello`: a first argument that is all digits is the port.
  const hostGiven = rest.length > 0 && !/^\d+$/.test(rest[0]!);
  const host = hostGiven ? rest[0]! : DEFAULT_HOST;
  const portText = rest[hostGiven ? 1 : 0];
  if (portText === undefined) throw new UsageError("client: missing <port>");
  const port = _integer("port", portText, 1, 65535);
  const messages = rest.slice(hostGiven ? 2 : 1);
  const maxFrame = _maxFrame(values);
  const source = _source(values, messages, maxFrame);
  return {
    mode: "client",
    host: _host(host),
    port,
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

function _host(host: string): string {
  if (host === "") throw new UsageError("Host must not be empty");
  return host;
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
