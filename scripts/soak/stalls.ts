// Stalls: clients that stop inside a frame header must be closed by the
// server's idle timeout, while an active client on the same server is
// served all along.

import type { EchoServerProcess } from "./echo_server.ts";
import { runMisbehaving } from "./misbehaving.ts";
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
  const result = await runMisbehaving(server, {
    count: plan.stalls,
    activeEveryMs: plan.activeEveryMs,
    timeoutMs: plan.timeoutMs,
    logLine: /^\[error\] peer=(\S+) TIMEOUT: /,
    what: "stalled client",
    async misbehave(conn) {
      await conn.write(
        new Uint8Array([0, 0, 1, 0]).subarray(0, random.int(1, 3)),
      );
    },
  });
  return {
    closed: result.closed,
    loggedTimeout: result.logged,
    activeFrames: result.activeFrames,
    failures: result.failures,
  };
}
