/**
 * The echo CLI's commands and their defaults.
 *
 * @module
 */

import type { ProxyVersions } from "../proxy_protocol.ts";

/** The host used when the command line names none: loopback only. */
export const DEFAULT_HOST = "127.0.0.1";

/** The largest frame accepted or sent: the source document's `1u<<20` cap. */
export const DEFAULT_MAX_FRAME = 1_048_576;

/**
 * How long a connection may move no bytes before the server closes it, in
 * milliseconds: long enough for a person typing, short enough that a stalled
 * peer does not hold a connection for ever.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/**
 * How long a frame may take from its first byte to its last, in
 * milliseconds: a peer that trickles a byte now and then is closed like a
 * silent one.
 */
export const DEFAULT_FRAME_TIMEOUT_MS = 30_000;

/**
 * How many connections the server serves at once. Each costs a read buffer
 * (64 KiB) plus at most a frame or two in flight, so 1024 idle connections
 * stay well under 100 MiB.
 */
export const DEFAULT_MAX_CONNS = 1024;

/**
 * The client's deadline for the whole exchange, in milliseconds: a server
 * that accepts and then says nothing cannot hang the client. Large
 * transfers pass `--timeout 0`.
 */
export const DEFAULT_CLIENT_TIMEOUT_MS = 30_000;

/**
 * How long a shutting-down server lets open connections finish before it
 * closes them, in milliseconds.
 */
export const SHUTDOWN_GRACE_MS = 2_000;

/** A TCP address on the command line: `[host] <port>`. */
export interface TcpEndpoint {
  /** A host name or a numeric address (IPv6 without brackets). */
  host: string;
  /** The port. */
  port: number;
}

/** A Unix domain socket on the command line: `unix:<path>`. */
export interface UnixEndpoint {
  /** The socket file's path. */
  path: string;
}

/** Where a server listens or a client connects. */
export type Endpoint = TcpEndpoint | UnixEndpoint;

/** The server's settings, wherever it listens. */
export interface ServerSettings {
  /** The mode. */
  mode: "server";
  /** The largest frame accepted; a larger length closes the connection. */
  maxFrame: number;
  /** Close a connection that moved no bytes this long; `0` never does. */
  idleTimeoutMs: number;
  /** Connections served at once; more are closed at once. */
  maxConns: number;
  /** Close a connection whose frame takes this long; `0` never does. */
  frameTimeoutMs: number;
  /** The slowest a frame may arrive, in bytes per second; `0`: any. */
  minRate: number;
  /** Read a PROXY protocol header first, of these versions. */
  proxyProtocol: ProxyVersions | undefined;
  /** Share the port with other processes (`SO_REUSEPORT`). */
  reusePort: boolean;
}

/**
 * `server [host] <port>` or `server unix:<path>`: serve echoes until SIGINT
 * or SIGTERM. Port `0` lets the OS pick one (printed by `[listen-ok]`).
 */
export type ServerCommand = ServerSettings & Endpoint;

/** What a client sends. */
export type ClientSource =
  | {
    /** The messages given on the command line, one frame each. */
    kind: "messages";
    /** The messages. */
    messages: string[];
  }
  | {
    /** One frame per line of standard input. */
    kind: "stdin";
  }
  | {
    /** Generated payloads, verified by checksum. */
    kind: "generated";
    /** Bytes per payload. */
    size: number;
    /** How many payloads. */
    count: number;
  };

/** The client's settings, wherever it connects. */
export interface ClientSettings {
  /** The mode. */
  mode: "client";
  /** What to send. */
  source: ClientSource;
  /** The largest frame sent or accepted back. */
  maxFrame: number;
  /** The deadline for the whole exchange; `0` for none. */
  timeoutMs: number;
  /** Print read/write call statistics at the end. */
  trace: boolean;
}

/**
 * `client [host] <port> ...` or `client unix:<path> ...`: send frames, read
 * the echoes, verify them.
 */
export type ClientCommand = ClientSettings & Endpoint;

/** `--help`. */
export interface HelpCommand {
  /** The mode. */
  mode: "help";
}

/** A parsed command line. */
export type EchoCommand = ServerCommand | ClientCommand | HelpCommand;
