// Garbage: clients that send bytes that are not a clean run of frames
// (giant lengths, frames cut short, headers cut short, pure noise). The
// server must log each with the code a reference parser predicts.

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

/** How many garbage clients, and the bounds. */
export interface GarbagePlan extends BatchPlan {
  /** The server's `--max-frame`. */
  maxFrame: number;
}

/**
 * What a u32 big-endian length-prefixed decoder with the cap `maxFrame`
 * reports for `bytes` followed by the end of the stream.
 */
export function expectedOutcome(
  bytes: Uint8Array,
  maxFrame: number,
): "FRAME_TOO_LARGE" | "UNEXPECTED_EOF" | "clean" {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.byteLength) {
    if (bytes.byteLength - at < 4) return "UNEXPECTED_EOF";
    const length = view.getUint32(at);
    if (length > maxFrame) return "FRAME_TOO_LARGE";
    at += 4 + length;
    if (at > bytes.byteLength) return "UNEXPECTED_EOF";
  }
  return "clean";
}

/** Garbage that does not end cleanly: a few good frames, then a bad end. */
export function garbage(random: Random, maxFrame: number): Uint8Array {
  for (;;) {
    const parts: Uint8Array[] = [];
    for (let i = random.int(0, 3); i > 0; i--) {
      parts.push(encodeFrame(random.bytes(random.int(0, 2048))));
    }
    switch (random.int(0, 3)) {
      case 0: { // a giant length, then noise
        const giant =
          [0xffff_ffff, 0x8000_0000, maxFrame + 1][random.int(0, 3)] ??
            random.int(maxFrame + 1, 0xffff_ffff);
        const header = new Uint8Array(4);
        new DataView(header.buffer).setUint32(0, giant);
        parts.push(header, random.bytes(random.int(0, 1024)));
        break;
      }
      case 1: { // a length, then fewer bytes
        const length = random.int(1, Math.min(maxFrame, 65_536));
        const header = new Uint8Array(4);
        new DataView(header.buffer).setUint32(0, length);
        parts.push(header, random.bytes(random.int(0, length - 1)));
        break;
      }
      case 2: // a header cut short
        parts.push(random.bytes(random.int(1, 3)));
        break;
      default: // noise
        parts.push(random.bytes(random.int(1, 4096)));
    }
    const bytes = concat(parts);
    if (expectedOutcome(bytes, maxFrame) !== "clean") return bytes;
  }
}

/**
 * Runs `plan.clients` garbage clients, `plan.batch` at a time: each sends
 * its bytes, half-closes and reads until the server closes. Checks that the
 * server logged `[error] peer=<addr> <code>` with the predicted code.
 */
export async function runGarbage(
  server: EchoServerProcess,
  plan: GarbagePlan,
): Promise<FaultResult> {
  return await inBatches(server, plan, async (batch) => {
    const { count, random, logFrom, signal, result } = batch;
    const expected = new Map<string, string>();
    const clients = await Promise.allSettled(
      Array.from({ length: count }, async () => {
        const bytes = garbage(random, plan.maxFrame);
        const conn = await Deno.connect({
          hostname: "127.0.0.1",
          port: server.port,
          signal,
        });
        expected.set(
          `127.0.0.1:${conn.localAddr.port}`,
          expectedOutcome(bytes, plan.maxFrame),
        );
        const close = () => conn.close();
        signal.addEventListener("abort", close, { once: true });
        try {
          await writeAll(conn, bytes, { signal });
          await conn.closeWrite();
          const sink = new Uint8Array(16 * 1024);
          while (await conn.read(sink) !== null) {
            // Echoes of the good frames before the garbage.
          }
        } catch (error) {
          // A reset (the server closed with bytes unread) is fine: only its
          // log counts. The bound is not.
          if (signal.aborted) {
            throw new Error(`not closed by the server: ${describe(error)}`);
          }
        } finally {
          if (!signal.aborted) {
            signal.removeEventListener("abort", close);
            conn.close();
          }
        }
      }),
    );
    for (const client of clients) {
      if (client.status === "rejected" && result.failures.length < 5) {
        result.failures.push(`a garbage client: ${describe(client.reason)}`);
      }
    }
    await logFor(
      server,
      logFrom,
      expected,
      result,
      (peer, code) =>
        code === expected.get(peer)
          ? undefined
          : `expected ${expected.get(peer)}`,
    );
  });
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
