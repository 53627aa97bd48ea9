// What stalls and trickles share: connections that misbehave until the
// server closes them, while one active client must be served all along; then
// every misbehaving peer must have its line in the server's log.

import { FrameReader, writeFrame } from "tcpframe";
import type { EchoServerProcess } from "./echo_server.ts";
import { describe } from "./load.ts";

/** How many misbehaving clients, what they do, and the bounds. */
export interface MisbehavingPlan {
  /** Misbehaving connections. */
  count: number;
  /** The active client sends one frame this often, in milliseconds. */
  activeEveryMs: number;
  /** A bound on the whole scenario, in milliseconds. */
  timeoutMs: number;
  /** The server's log line for each closed peer; group 1 is the peer. */
  logLine: RegExp;
  /** What to call a client in failure messages: "stalled client". */
  what: string;
  /**
   * Misbehaves on `conn` until `closed()` is true (the server closed it);
   * errors of writes after that are the client's business.
   */
  misbehave(
    conn: Deno.TcpConn,
    i: number,
    closed: () => boolean,
  ): Promise<void>;
}

/** What a run found. */
export interface MisbehavingResult {
  /** Clients whose connection the server closed. */
  closed: number;
  /** Clients whose peer address the server logged with `logLine`. */
  logged: number;
  /** The longest a client was held, from its connect, in milliseconds. */
  longestHeldMs: number;
  /** Round trips the active client completed meanwhile. */
  activeFrames: number;
  failures: string[];
}

/**
 * Opens `plan.count` connections that each `misbehave()` until the server
 * closes them (FIN or reset); meanwhile one client makes a round trip every
 * `plan.activeEveryMs`; then waits (bounded) for the log lines.
 */
export async function runMisbehaving(
  server: EchoServerProcess,
  plan: MisbehavingPlan,
): Promise<MisbehavingResult> {
  const signal = AbortSignal.timeout(plan.timeoutMs);
  const result: MisbehavingResult = {
    closed: 0,
    logged: 0,
    longestHeldMs: 0,
    activeFrames: 0,
    failures: [],
  };
  const logFrom = server.run.stderr.lines.length;
  const clients: Deno.TcpConn[] = [];
  const active = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.port,
    signal,
  });
  // At the bound, close every connection still open: the reads below end.
  const closeAll = () => {
    for (const conn of [...clients, active]) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  };
  signal.addEventListener("abort", closeAll, { once: true });
  try {
    const opened: number[] = [];
    for (let i = 0; i < plan.count; i++) {
      clients.push(
        await Deno.connect({
          hostname: "127.0.0.1",
          port: server.port,
          signal,
        }),
      );
      opened.push(performance.now());
    }
    let open = clients.length;
    const runs = clients.map(async (conn, i) => {
      let closed = false;
      const closing = conn.read(new Uint8Array(16)).then((n) => {
        if (n !== null) throw new Error(`read ${n} bytes instead of a close`);
      }, (error) => {
        if (!isReset(error)) throw error;
      }).finally(() => (closed = true));
      closing.catch(() => {}); // awaited below; not unhandled meanwhile
      try {
        await plan.misbehave(conn, i, () => closed);
        await closing;
        result.closed++;
        result.longestHeldMs = Math.max(
          result.longestHeldMs,
          performance.now() - opened[i]!,
        );
      } catch (error) {
        if (result.failures.length < 5) {
          result.failures.push(
            signal.aborted
              ? `${plan.what} ${i}: not closed by the server within ${plan.timeoutMs} ms`
              : `${plan.what} ${i}: ${describe(error)}`,
          );
        }
      } finally {
        open--;
      }
    });
    const serving = serveActive(active, () => open > 0, plan, signal).catch(
      (error: unknown) => {
        result.failures.push(`the active client: ${describe(error)}`);
        return 0;
      },
    );
    await Promise.all(runs);
    result.activeFrames = await serving;
    if (result.activeFrames === 0) {
      result.failures.push("the active client completed no round trip");
    }
    const peers = clients.map((conn) => `127.0.0.1:${conn.localAddr.port}`);
    const { found, missing } = await server.run.stderr.waitForPeers(
      logFrom,
      peers,
      plan.logLine,
      10_000,
    );
    result.logged = found.size;
    if (missing.length > 0) {
      result.failures.push(
        server.run.stderr.missingMessage(missing, plan.logLine),
      );
    }
  } catch (error) {
    result.failures.push(describe(error));
  } finally {
    signal.removeEventListener("abort", closeAll);
    closeAll();
  }
  return result;
}

/**
 * One round trip every `plan.activeEveryMs` while `going()`; then the
 * half-close and the server's close. Resolves with the round trips.
 */
async function serveActive(
  conn: Deno.TcpConn,
  going: () => boolean,
  plan: { activeEveryMs: number },
  signal: AbortSignal,
): Promise<number> {
  const reader = new FrameReader(conn);
  let frames = 0;
  while (going()) {
    const payload = new TextEncoder().encode(`active ${frames}`);
    await writeFrame(conn, payload, { signal });
    const echo = await reader.read({ signal });
    if (
      echo === null || new TextDecoder().decode(echo) !== `active ${frames}`
    ) {
      throw new Error(`the active client's echo ${frames} is wrong or missing`);
    }
    frames++;
    await new Promise((resolve) => setTimeout(resolve, plan.activeEveryMs));
  }
  await conn.closeWrite();
  if (await reader.read({ signal }) !== null) {
    throw new Error("the active client got an extra echo");
  }
  return frames;
}

/** A reset seen by a reader: the server closed with bytes unread. */
function isReset(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset;
}
