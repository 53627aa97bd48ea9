// Trickles (slowloris): clients that announce a frame and then send it a
// byte now and then, faster than the idle timeout would notice, must be
// closed by the server's frame deadline (--frame-timeout), while an active
// client on the same server is served all along.

import type { EchoServerProcess } from "./echo_server.ts";
import { type MisbehavingResult, runMisbehaving } from "./misbehaving.ts";

/** How many trickling clients, and the bounds. */
export interface TricklePlan {
  tricklers: number;
  /** Each trickler sends one byte this often, in milliseconds. */
  byteEveryMs: number;
  /** The active client sends one frame this often, in milliseconds. */
  activeEveryMs: number;
  /** A bound on the whole scenario, in milliseconds. */
  timeoutMs: number;
}

/** A 4-byte header announcing 4096 bytes; the payload then trickles. */
const HEADER = new Uint8Array([0, 0, 0x10, 0]);

/**
 * Opens `plan.tricklers` connections that each send a frame header and then
 * one payload byte every `plan.byteEveryMs` until the server closes them;
 * meanwhile one client makes a round trip every `plan.activeEveryMs`. A
 * trickler counts as logged when the server says `Frame not complete`.
 */
export function runTrickles(
  server: EchoServerProcess,
  plan: TricklePlan,
): Promise<MisbehavingResult> {
  return runMisbehaving(server, {
    count: plan.tricklers,
    activeEveryMs: plan.activeEveryMs,
    timeoutMs: plan.timeoutMs,
    logLine: /^\[error\] peer=(\S+) TIMEOUT: Frame not complete /,
    what: "trickler",
    async misbehave(conn, _i, closed) {
      await conn.write(HEADER);
      for (let sent = 0; !closed() && sent < 4096; sent++) {
        await new Promise((resolve) => setTimeout(resolve, plan.byteEveryMs));
        if (closed()) break;
        await conn.write(new Uint8Array([sent & 0xff])).catch(() => {});
      }
    },
  });
}
