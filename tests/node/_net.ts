// Loopback TCP helpers for the Node adapter tests. The tests in tests/node/
// run twice: on Deno through `deno test` (Deno implements node:net, so they
// also check the adapter there), and on Node 20 against the package installed
// from its tarball, through `deno task test:node` (scripts/build_npm.ts).
import process from "node:process";
import type { Reader } from "tcpframe";
import { connect, listen, type NodeConn } from "tcpframe/node";

/** Opens a connected pair of connections on 127.0.0.1: [client, server]. */
export async function tcpPair(): Promise<[NodeConn, NodeConn]> {
  const listener = await listen({ hostname: "127.0.0.1", port: 0 });
  try {
    return await Promise.all([
      connect({ hostname: "127.0.0.1", port: listener.addr.port }),
      listener.accept(),
    ]);
  } finally {
    listener.close();
  }
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads until end of stream; returns every byte. */
export async function readAll(conn: Reader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    parts.push(buffer.slice(0, n));
  }
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/**
 * Records `unhandledRejection` and `uncaughtException` events while `body`
 * runs, so a test can assert that a failure was delivered to the caller and
 * nowhere else.
 */
export async function withoutStrayErrors(
  body: () => Promise<void>,
): Promise<unknown[]> {
  const stray: unknown[] = [];
  const record = (error: unknown) => stray.push(error);
  process.on("unhandledRejection", record);
  process.on("uncaughtException", record);
  try {
    await body();
    await delay(20); // let late events arrive
  } finally {
    process.off("unhandledRejection", record);
    process.off("uncaughtException", record);
  }
  return stray;
}
