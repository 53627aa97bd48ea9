/**
 * tcpframe on Node: `node:net` sockets as tcpframe `Conn`s.
 *
 * {@linkcode connect} and {@linkcode listen} have the shapes of
 * `Deno.connect` and `Deno.listen`, and {@linkcode fromSocket} wraps a
 * socket you already have, so code written against tcpframe's `Conn` and
 * `Listener` runs on both runtimes. Every connection reads on demand, waits
 * for `'drain'` when writing, half-closes with `closeWrite()`, and reports
 * the same error classes as on Deno.
 *
 * This module is the only part of tcpframe that imports `node:*`.
 *
 * @example A request and a reply over loopback
 * ```ts
 * import { readExact, writeAll } from "@tcpframe/tcpframe";
 * import { connect, listen } from "@tcpframe/tcpframe/node";
 * import assert from "node:assert/strict";
 *
 * const listener = await listen({ port: 0 });
 * const serving = (async () => {
 *   const peer = await listener.accept();
 *   const name = await readExact(peer, 5);
 *   await writeAll(peer, new TextEncoder().encode(`hello ${new TextDecoder().decode(name)}`));
 *   await peer.closeWrite();
 *   peer.close();
 * })();
 *
 * const conn = await connect({ port: listener.addr.port });
 * await writeAll(conn, new TextEncoder().encode("world"));
 * const reply = await readExact(conn, 11);
 * assert.equal(new TextDecoder().decode(reply), "hello world");
 * assert.equal(await conn.read(new Uint8Array(1)), null); // end of stream
 * conn.close();
 * await serving;
 * listener.close();
 * ```
 *
 * @module
 */

export * from "./conn.ts";
export * from "./connect.ts";
export * from "./listen.ts";
