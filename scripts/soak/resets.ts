// Resets: clients that abort the connection (RST) in the middle of a frame.
// Half reset with node:net's resetAndDestroy() (SO_LINGER 0: a bare RST);
// half close a Deno.Conn that holds an echo it never read (the kernel then
// sends RST instead of FIN). The server must log each and keep serving.

import net from "node:net";
import { encodeFrame, writeAll } from "tcpframe";
import type { EchoServerProcess } from "./echo_server.ts";
import {
  type BatchPlan,
  type FaultResult,
  inBatches,
  logFor,
} from "./fault_log.ts";
import { describe } from "./load.ts";
import type { Random } from "./random.ts";

/** How many resetting clients, and the bounds. */
export type ResetPlan = BatchPlan;

/**
 * Codes a reset mid-frame may be logged with: the reset itself, or (when
 * the RST follows a FIN, or the runtime reads it as an end of stream) a
 * frame cut short. Either way the connection is logged and closed.
 */
const RESET_CODES = new Set(["CONNECTION_RESET", "UNEXPECTED_EOF"]);

interface Resetter {
  peer: string;
  /** How it resets, for the tally. */
  how: "resetAndDestroy" | "close unread";
  reset(): void;
}

/**
 * Runs `plan.clients` clients, `plan.batch` at a time: each sends a header
 * and part of its payload, waits until the server has accepted the whole
 * batch, then resets. Checks the server logged each with a reset code.
 */
export async function runResets(
  server: EchoServerProcess,
  plan: ResetPlan,
): Promise<FaultResult> {
  return await inBatches(server, plan, async (batch) => {
    const { done, count, random, logFrom, signal, result } = batch;
    const acceptFrom = server.run.stdout.lines.length;
    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, i) => {
        const length = random.int(2, 20 * 1024);
        const partial = encodeFrame(random.bytes(length)).subarray(
          0,
          4 + random.int(1, length - 1),
        );
        return (done + i) % 2 === 0
          ? nodeResetter(server.port, partial, signal)
          : unreadResetter(server.port, partial, random, signal);
      }),
    );
    const resetters: Resetter[] = [];
    for (const client of started) {
      if (client.status === "fulfilled") {
        resetters.push(client.value);
      } else if (result.failures.length < 5) {
        result.failures.push(`a resetting client: ${describe(client.reason)}`);
      }
    }
    const accept = /^\[accept\] peer=(\S+)$/;
    const { missing } = await server.run.stdout.waitForPeers(
      acceptFrom,
      resetters.map((r) => r.peer),
      accept,
      plan.timeoutMs,
    );
    if (missing.length > 0) {
      result.failures.push(server.run.stdout.missingMessage(missing, accept));
    }
    // Let the server read what was sent, and the echoes reach the clients
    // that will not read them (a reset does not depend on it).
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const resetter of resetters) resetter.reset();
    await logFor(
      server,
      logFrom,
      new Map(resetters.map((r) => [r.peer, r.how])),
      result,
      (_, code) => RESET_CODES.has(code) ? undefined : "expected a reset",
      (peer, code) => `${resetters.find((r) => r.peer === peer)?.how} ${code}`,
    );
  });
}

/** A node:net socket that sends `partial`; `reset()` is resetAndDestroy(). */
function nodeResetter(
  port: number,
  partial: Uint8Array,
  signal: AbortSignal,
): Promise<Resetter> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const fail = (error: unknown) => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(error);
    };
    const onAbort = () => fail(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("error", fail);
    socket.once("connect", () => {
      socket.write(partial, (error) => {
        if (error) return fail(error);
        signal.removeEventListener("abort", onAbort);
        socket.off("error", fail);
        socket.on("error", () => {}); // the reset is ours
        resolve({
          peer: `127.0.0.1:${socket.localPort}`,
          how: "resetAndDestroy",
          reset: () => socket.resetAndDestroy(),
        });
      });
    });
  });
}

/**
 * A Deno.Conn that sends one whole frame (whose echo it never reads) and
 * `partial`; `reset()` closes it with the echo unread.
 */
async function unreadResetter(
  port: number,
  partial: Uint8Array,
  random: Random,
  signal: AbortSignal,
): Promise<Resetter> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port, signal });
  try {
    const whole = encodeFrame(random.bytes(random.int(1, 1024)));
    const bytes = new Uint8Array(whole.byteLength + partial.byteLength);
    bytes.set(whole);
    bytes.set(partial, whole.byteLength);
    await writeAll(conn, bytes, { signal });
  } catch (error) {
    conn.close();
    throw error;
  }
  return {
    peer: `127.0.0.1:${conn.localAddr.port}`,
    how: "close unread",
    reset: () => conn.close(),
  };
}
