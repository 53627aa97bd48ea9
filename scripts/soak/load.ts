// Load: many concurrent clients, each sending frames of mixed sizes and
// checking every echo (length and FNV-1a checksum) and the server's close.

import { FrameReader, writeFrames } from "tcpframe";
import { fnv1a, generatePayload } from "../../src/echo/_payloads.ts";
import { mixedSize, Random } from "./random.ts";

/** How big a load to put on the server. */
export interface LoadPlan {
  clients: number;
  framesPerClient: number;
  /** The largest payload, in bytes. */
  maxPayload: number;
  /**
   * Connections opened at once: less than the server's listen backlog
   * (511 for Deno and Node), since a full accept queue drops SYNs and the
   * kernel retries them only after a second.
   */
  connectBatch: number;
  seed: number;
  /** A bound on the whole load, in milliseconds. */
  timeoutMs: number;
}

/** What a load run found. */
export interface LoadResult {
  /** Frames planned. */
  framesPlanned: number;
  /** Echoes whose length and checksum matched, in order. */
  framesExact: number;
  /** How long connecting every client took, in milliseconds (a report). */
  connectMs: number;
  /** Clients whose echoes were all exact, followed by the server's close. */
  clientsOk: number;
  /** One line per failed client (the first few). */
  failures: string[];
}

interface Expected {
  size: number;
  checksum: number;
}

/**
 * Connects `plan.clients` clients in batches of `plan.connectBatch`
 * (waiting for `accepted(peers)` after each, so the accept queue never
 * overflows), holds them all open, then runs every exchange at once: all
 * frames pipelined, half-close, read the echoes to the server's close.
 */
export async function runLoad(
  port: number,
  plan: LoadPlan,
  accepted: (peers: string[]) => Promise<void>,
): Promise<LoadResult> {
  const random = new Random(plan.seed);
  const signal = AbortSignal.timeout(plan.timeoutMs);
  const conns: Deno.TcpConn[] = [];
  const result: LoadResult = {
    framesPlanned: plan.clients * plan.framesPerClient,
    framesExact: 0,
    connectMs: 0,
    clientsOk: 0,
    failures: [],
  };
  try {
    const connecting = performance.now();
    for (let i = 0; i < plan.clients; i += plan.connectBatch) {
      const batch = await Promise.all(
        Array.from(
          { length: Math.min(plan.connectBatch, plan.clients - i) },
          () => Deno.connect({ hostname: "127.0.0.1", port, signal }),
        ),
      );
      conns.push(...batch);
      await accepted(batch.map((conn) => `127.0.0.1:${conn.localAddr.port}`));
    }
    result.connectMs = performance.now() - connecting;
    const outcomes = await Promise.all(conns.map((conn, client) => {
      const payloads = Array.from(
        { length: plan.framesPerClient },
        (_, i) =>
          generatePayload(
            (plan.seed + client * plan.framesPerClient + i) >>> 0,
            mixedSize(random, plan.maxPayload),
          ),
      );
      return exchange(conn, payloads, plan.maxPayload, signal).then(
        (exact) => ({ client, exact, error: undefined }),
        (error: unknown) => ({ client, exact: 0, error }),
      );
    }));
    for (const { client, exact, error } of outcomes) {
      result.framesExact += exact;
      if (error === undefined) {
        result.clientsOk++;
      } else if (result.failures.length < 5) {
        result.failures.push(`client ${client}: ${describe(error)}`);
      }
    }
  } catch (error) {
    result.failures.push(
      `connecting client ${conns.length + 1} of ${plan.clients}: ${
        describe(error)
      }`,
    );
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // Closed by the exchange.
      }
    }
  }
  return result;
}

/**
 * Sends `payloads` and half-closes while reading the echoes; resolves with
 * the number of exact echoes once the server has closed after the last one,
 * throws at the first difference.
 */
async function exchange(
  conn: Deno.TcpConn,
  payloads: Uint8Array[],
  maxPayload: number,
  signal: AbortSignal,
): Promise<number> {
  const expected: Expected[] = payloads.map((p) => ({
    size: p.byteLength,
    checksum: fnv1a(p),
  }));
  const sending = (async () => {
    await writeFrames(conn, payloads, { signal });
    await conn.closeWrite();
  })();
  const receiving = (async () => {
    const reader = new FrameReader(conn, { maxFrameSize: maxPayload });
    let exact = 0;
    for (;;) {
      const echo = await reader.read({ signal });
      if (echo === null) break;
      const want = expected[exact];
      if (want === undefined) {
        throw new Error(`an extra echo after ${exact} frames`);
      }
      if (echo.byteLength !== want.size || fnv1a(echo) !== want.checksum) {
        throw new Error(
          `echo ${exact} differs: ${echo.byteLength} bytes, checksum ${
            fnv1a(echo)
          }; sent ${want.size} bytes, checksum ${want.checksum}`,
        );
      }
      exact++;
    }
    if (exact !== expected.length) {
      throw new Error(
        `the server closed after ${exact} of ${expected.length} echoes`,
      );
    }
    return exact;
  })();
  const [sent, received] = await Promise.allSettled([sending, receiving]);
  if (received.status === "rejected") throw received.reason;
  if (sent.status === "rejected") throw sent.reason;
  return received.value;
}

/** An error in one line. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${typeof code === "string" ? code : error.name}: ${error.message}`;
  }
  return String(error);
}
