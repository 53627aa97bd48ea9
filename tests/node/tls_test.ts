// Frames over TLS on Node: fromSocket() takes a tls.TLSSocket (a net.Socket
// subclass) on either end. The certificate is made with openssl at test time;
// without openssl these tests are skipped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import tls from "node:tls";
import { FrameReader, readExact, writeAll, writeFrame } from "tcpframe";
import { fromSocket, type NodeConn } from "tcpframe/node";
import { pseudoRandomBytes } from "../_fixtures.ts";
import { makeTestCertificate, TLS_FRAME_SIZES } from "../_tls.ts";

const certificate = await makeTestCertificate();

/**
 * Deno's node:tls (2.9.6) can lose the end of a TLS stream that arrives while
 * the socket is paused for backpressure: 'end' never comes (compare
 * denoland/deno#33524). So under `deno test` this file echoes small frames
 * only; large frames over TLS on Deno are tested with Deno's own TLS, in
 * tests/deno/tls_test.ts.
 */
const onDenoCompat = "Deno" in globalThis;
const sizes = onDenoCompat
  ? TLS_FRAME_SIZES.filter((n) => n <= 16_384)
  : TLS_FRAME_SIZES;
const skip = typeof certificate === "string" ? certificate : false;
const { cert, key } = typeof certificate === "string"
  ? { cert: "", key: "" }
  : certificate;

/**
 * A TLS server on 127.0.0.1 whose connections `serve` gets as NodeConns,
 * and a client NodeConn connected to it once the handshake is done.
 */
async function tlsPair(
  serve: (conn: NodeConn) => Promise<void>,
  options: { maxVersion?: tls.SecureVersion; serverHalfOpen?: boolean } = {},
): Promise<{ conn: NodeConn; served: Promise<void>; close(): void }> {
  let served: Promise<void> = Promise.resolve();
  const server = tls.createServer({
    cert,
    key,
    allowHalfOpen: options.serverHalfOpen ?? true,
    ...(options.maxVersion === undefined
      ? {}
      : { maxVersion: options.maxVersion }),
  }, (socket) => {
    const peer = fromSocket(socket);
    served = serve(peer).finally(() => peer.close());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  // No allowHalfOpen here (tls.connect() does not type it): fromSocket()
  // turns it on.
  const socket = tls.connect({ host: "127.0.0.1", port, ca: cert });
  await once(socket, "secureConnect");
  const conn = fromSocket(socket);
  return {
    conn,
    get served() {
      return served;
    },
    close() {
      conn.close();
      server.close();
    },
  };
}

test(
  "fromSocket() over tls.TLSSocket: FrameReader and writeFrame echo frames of every size (up to 1 MiB on Node)",
  {
    skip,
  },
  async () => {
    const pair = await tlsPair(async (peer) => {
      for await (const frame of new FrameReader(peer)) {
        await writeFrame(peer, frame);
      }
      await peer.closeWrite();
    });
    const { conn } = pair;
    const payloads = sizes.map((n, i) => pseudoRandomBytes(n, i + 1));
    const sending = (async () => {
      for (const payload of payloads) await writeFrame(conn, payload);
      await conn.closeWrite();
    })();
    const echoed: Uint8Array[] = [];
    for await (const frame of new FrameReader(conn)) echoed.push(frame);
    await sending;
    await pair.served;
    assert.deepEqual(echoed, payloads);
    pair.close();
  },
);

test(
  "NodeConn.closeWrite() over TLS 1.2 and 1.3 sends close_notify: the peer reads null and can still reply",
  {
    skip,
  },
  async () => {
    for (const maxVersion of ["TLSv1.2", "TLSv1.3"] as const) {
      // A server created without allowHalfOpen: fromSocket() turns it on.
      for (const serverHalfOpen of [true, false]) {
        const pair = await tlsPair(async (peer) => {
          const request = await readExact(peer, 3);
          assert.equal(await peer.read(new Uint8Array(1)), null);
          await writeAll(peer, request.reverse());
          await peer.closeWrite();
        }, { maxVersion, serverHalfOpen });
        const { conn } = pair;
        assert.equal(
          (conn.socket as tls.TLSSocket).getProtocol(),
          maxVersion,
        );
        await writeAll(conn, new Uint8Array([1, 2, 3]));
        await conn.closeWrite();
        assert.deepEqual(await readExact(conn, 3), new Uint8Array([3, 2, 1]));
        assert.equal(await conn.read(new Uint8Array(1)), null);
        await pair.served;
        pair.close();
      }
    }
  },
);
