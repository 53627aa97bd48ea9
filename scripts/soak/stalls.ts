// Stalls: clients that stop inside a frame header must be closed by the
// server's idle timeout, while an active client on the same server is
// served all along.

import { FrameReader, writeFrame } from "tcpframe";
import type { EchoServerProcess } from "./echo_server.ts";
import { describe } from "./load.ts";
import { Random } from "./random.ts";

/** How many stalled clients, and the bounds. */
export interface StallPlan {
  stalls: number;
  /** The server's `--idle-timeout`, in milliseconds. */
  idleTimeoutMs: number;
  /** The active client sends one frame this often, in milliseconds. */
  activeEveryMs: number;
  seed: number;
  /** A bound on the whole scenario, in milliseconds. */
  timeoutMs: number;
}

/** What a stall run found. */
export interface StallResult {
  /** Stalled clients whose connection the server closed. */
  closed: number;
  /** Stalled clients the server logged with `TIMEOUT`. */
  loggedTimeout: number;
  /** Round trips the active client completed while stalls were open. */
  activeFrames: number;
  failures: string[];
}

/**
 * Opens `plan.stalls` connections that each send 1 to 3 bytes of a 4-byte
 * header and then nothing; meanwhile one client sends a frame every
 * `plan.activeEveryMs` and checks its echo, until every stalled connection
 * has been closed by the server (FIN or reset).
 */
export async function runStalls(
  server: EchoServerProcess,
  plan: StallPlan,
): Promise<StallResult> {
  const random = new Random(plan.seed);
  const signal = AbortSignal.timeout(plan.timeoutMs);
  const result: StallResult = {
    closed: 0,
    loggedTimeout: 0,
    activeFrames: 0,
    failures: [],
  };
  const logFrom = server.run.stderr.lines.length;
  const stalled: Deno.TcpConn[] = [];
  const active = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.port,
    signal,
  });
  // At the bound, close every connection still open: the reads below end.
  const closeAll = () => {
    for (const conn of [...stalled, active]) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  };
  signal.addEventListener("abort", closeAll, { once: true });
  try {
    for (let i = 0; i < plan.stalls; i++) {
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: server.port,
        signal,
      });
      stalled.push(conn);
      await conn.write(
        new Uint8Array([0, 0, 1, 0]).subarray(0, random.int(1, 3)),
      );
    }
    let open = stalled.length;
    const closings = stalled.map(async (conn, i) => {
      try {
        const n = await conn.read(new Uint8Array(16));
        if (n !== null) throw new Error(`read ${n} bytes instead of a close`);
      } catch (error) {
        if (!isReset(error)) {
          if (result.failures.length < 5) {
            result.failures.push(
              signal.aborted
                ? `stalled client ${i}: not closed by the server within ${plan.timeoutMs} ms`
                : `stalled client ${i}: ${describe(error)}`,
            );
          }
          return;
        }
      } finally {
        open--;
      }
      result.closed++;
    });
    const serving = serveActive(active, () => open > 0, plan, signal).catch(
      (error: unknown) => {
        result.failures.push(`the active client: ${describe(error)}`);
        return 0;
      },
    );
    await Promise.all(closings);
    result.activeFrames = await serving;
    if (result.activeFrames === 0) {
      result.failures.push("the active client completed no round trip");
    }
    const peers = stalled.map((conn) => `127.0.0.1:${conn.localAddr.port}`);
    const timeoutLine = /^\[error\] peer=(\S+) TIMEOUT: /;
    const { found, missing } = await server.run.stderr.waitForPeers(
      logFrom,
      peers,
      timeoutLine,
      10_000,
    );
    result.loggedTimeout = found.size;
    if (missing.length > 0) {
      result.failures.push(
        server.run.stderr.missingMessage(missing, timeoutLine),
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
export async function serveActive(
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
export function isReset(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset;
}
