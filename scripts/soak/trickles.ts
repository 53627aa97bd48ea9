// Trickles (slowloris): clients that announce a frame and then send it a
// byte now and then, faster than the idle timeout would notice, must be
// closed by the server's frame deadline (--frame-timeout), while an active
// client on the same server is served all along.

import type { EchoServerProcess } from "./echo_server.ts";
import { describe } from "./load.ts";
import { isReset, serveActive } from "./stalls.ts";

/** How many trickling clients, and the bounds. */
export interface TricklePlan {
  tricklers: number;
  /** The server's `--frame-timeout`, in milliseconds. */
  frameTimeoutMs: number;
  /** Each trickler sends one byte this often, in milliseconds. */
  byteEveryMs: number;
  /** The active client sends one frame this often, in milliseconds. */
  activeEveryMs: number;
  /** A bound on the whole scenario, in milliseconds. */
  timeoutMs: number;
}

/** What a trickle run found. */
export interface TrickleResult {
  /** Tricklers whose connection the server closed. */
  closed: number;
  /** Tricklers the server logged with the frame deadline's TIMEOUT. */
  loggedFrameTimeout: number;
  /** The longest a trickler was held, from its first byte, in milliseconds. */
  longestHeldMs: number;
  /** Round trips the active client completed while tricklers were open. */
  activeFrames: number;
  failures: string[];
}

/** A 4-byte header announcing 4096 bytes; the payload then trickles. */
const HEADER = new Uint8Array([0, 0, 0x10, 0]);

/**
 * Opens `plan.tricklers` connections that each send a frame header and then
 * one payload byte every `plan.byteEveryMs`, until the server closes them;
 * meanwhile one client makes a round trip every `plan.activeEveryMs`.
 */
export async function runTrickles(
  server: EchoServerProcess,
  plan: TricklePlan,
): Promise<TrickleResult> {
  const signal = AbortSignal.timeout(plan.timeoutMs);
  const result: TrickleResult = {
    closed: 0,
    loggedFrameTimeout: 0,
    longestHeldMs: 0,
    activeFrames: 0,
    failures: [],
  };
  const logFrom = server.run.stderr.lines.length;
  const tricklers: Deno.TcpConn[] = [];
  const active = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.port,
    signal,
  });
  const closeAll = () => {
    for (const conn of [...tricklers, active]) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  };
  signal.addEventListener("abort", closeAll, { once: true });
  try {
    for (let i = 0; i < plan.tricklers; i++) {
      tricklers.push(
        await Deno.connect({
          hostname: "127.0.0.1",
          port: server.port,
          signal,
        }),
      );
    }
    let open = tricklers.length;
    const trickling = tricklers.map(async (conn, i) => {
      const started = performance.now();
      let closed = false;
      const closing = conn.read(new Uint8Array(16)).then(
        (n) => {
          if (n !== null) throw new Error(`read ${n} bytes instead of a close`);
        },
        (error) => {
          if (!isReset(error)) throw error;
        },
      ).finally(() => (closed = true));
      closing.catch(() => {}); // awaited below; not unhandled meanwhile
      try {
        await conn.write(HEADER);
        for (let sent = 0; !closed && sent < 4096; sent++) {
          await new Promise((resolve) => setTimeout(resolve, plan.byteEveryMs));
          if (closed) break;
          await conn.write(new Uint8Array([sent & 0xff])).catch(() => {});
        }
        await closing;
        result.closed++;
        result.longestHeldMs = Math.max(
          result.longestHeldMs,
          performance.now() - started,
        );
      } catch (error) {
        if (result.failures.length < 5) {
          result.failures.push(
            signal.aborted
              ? `trickler ${i}: not closed by the server within ${plan.timeoutMs} ms`
              : `trickler ${i}: ${describe(error)}`,
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
    await Promise.all(trickling);
    result.activeFrames = await serving;
    if (result.activeFrames === 0) {
      result.failures.push("the active client completed no round trip");
    }
    const peers = tricklers.map((conn) => `127.0.0.1:${conn.localAddr.port}`);
    const deadlineLine = /^\[error\] peer=(\S+) TIMEOUT: Frame not complete /;
    const { found, missing } = await server.run.stderr.waitForPeers(
      logFrom,
      peers,
      deadlineLine,
      10_000,
    );
    result.loggedFrameTimeout = found.size;
    if (missing.length > 0) {
      result.failures.push(
        server.run.stderr.missingMessage(missing, deadlineLine),
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
