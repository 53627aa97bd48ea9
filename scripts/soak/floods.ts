// Floods: clients that send empty or 1-byte frames as fast as they can and
// never read the echoes. The server must stop reading them once a
// connection's echo queue is full, so its memory stays bounded.

import type { EchoServerProcess } from "./echo_server.ts";
import { mib, readRss } from "./rss.ts";

/** How many flooding clients, and for how long. */
export interface FloodPlan {
  clients: number;
  /** Each client floods this long, in milliseconds. */
  durationMs: number;
  /** The payload size of every frame: 0 or 1. */
  payload: 0 | 1;
  /** Fail if the server's RSS grows by more than this, in bytes. */
  growthLimit: number;
}

/** What a flood run found. */
export interface FloodResult {
  /** Frames the clients got into the connection (sent, never read back). */
  framesSent: number;
  /** The server's RSS before, and at its highest during the flood. */
  rssBefore: number;
  rssPeak: number;
  failures: string[];
}

/**
 * Opens `plan.clients` connections that write frames of `plan.payload`
 * bytes (64 KiB of them per write) for `plan.durationMs` and never read,
 * sampling the server's RSS every 50 ms; then closes them.
 */
export async function runFloods(
  server: EchoServerProcess,
  plan: FloodPlan,
): Promise<FloodResult> {
  const frame = 4 + plan.payload;
  const chunk = new Uint8Array(Math.floor(65536 / frame) * frame);
  for (let at = 0; at < chunk.byteLength; at += frame) {
    chunk[at + 3] = plan.payload;
  }
  const result: FloodResult = {
    framesSent: 0,
    rssBefore: (await readRss(server.run.pid)) ?? 0,
    rssPeak: 0,
    failures: [],
  };
  const conns = await Promise.all(
    Array.from(
      { length: plan.clients },
      () => Deno.connect({ hostname: "127.0.0.1", port: server.port }),
    ),
  );
  const until = Date.now() + plan.durationMs;
  const flood = async (conn: Deno.TcpConn) => {
    try {
      while (Date.now() < until) {
        const n = await conn.write(chunk);
        result.framesSent += Math.floor(n / frame);
      }
    } catch {
      // Closed at the end of the flood while a write waited.
    }
  };
  const sampling = (async () => {
    while (Date.now() < until) {
      const rss = await readRss(server.run.pid);
      if (rss !== null) result.rssPeak = Math.max(result.rssPeak, rss);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const flooding = Promise.all(conns.map(flood));
  await sampling;
  // Writes blocked on a full connection end here.
  for (const conn of conns) conn.close();
  await flooding;
  const growth = result.rssPeak - result.rssBefore;
  if (growth > plan.growthLimit) {
    result.failures.push(
      `RSS grew by ${
        mib(growth)
      } under ${plan.clients} floods of ${plan.payload}-byte frames (limit ${
        mib(plan.growthLimit)
      })`,
    );
  }
  if (result.framesSent === 0) result.failures.push("no frame was sent");
  return result;
}
