// Frames over TLS on Deno: Deno.listenTls and Deno.connectTls give a
// Listener and Conns that tcpframe takes unchanged. The certificate is made
// with openssl at test time; without openssl these tests are skipped.
import assert from "node:assert/strict";
import { once } from "node:events";
import tls from "node:tls";
import {
  type Conn,
  ConnectionResetError,
  encodeFrame,
  FrameReader,
  type Listener,
  readFrame,
  writeFrame,
} from "tcpframe";
import { pseudoRandomBytes } from "../_fixtures.ts";
import { makeTestCertificate, TLS_FRAME_SIZES } from "../_tls.ts";

const certificate = await makeTestCertificate();

/** Registers a test that needs the certificate, skipped (saying why) without it. */
function tlsTest(
  name: string,
  fn: (cert: string, key: string) => Promise<void>,
): void {
  if (typeof certificate === "string") {
    Deno.test({
      name: `${name} (skipped: ${certificate})`,
      ignore: true,
      fn() {},
    });
  } else {
    Deno.test(name, () => fn(certificate.cert, certificate.key));
  }
}

// Checked by `deno check`: the TLS types are tcpframe's Conn and Listener.
const _asConn: (conn: Deno.TlsConn) => Conn = (conn) => conn;
const _asListener: (
  listener: Deno.TlsListener,
) => Listener<Deno.TlsConn> = (listener) => listener;

/** Accepts one connection and echoes its frames until it half-closes. */
async function echoOne(listener: Listener): Promise<void> {
  const conn = await listener.accept();
  try {
    for await (const frame of new FrameReader(conn)) {
      await writeFrame(conn, frame);
    }
    await conn.closeWrite(); // TLS close_notify, then FIN
  } finally {
    conn.close();
  }
}

tlsTest(
  "FrameReader and writeFrame echo frames of every size over Deno.listenTls and Deno.connectTls, with half-close",
  async (cert, key) => {
    const listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert,
      key,
    });
    const serving = echoOne(listener);
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port: listener.addr.port,
      caCerts: [cert],
    });
    const payloads = TLS_FRAME_SIZES.map((n, i) => pseudoRandomBytes(n, i + 1));
    const sending = (async () => {
      for (const payload of payloads) await writeFrame(conn, payload);
      await conn.closeWrite();
    })();
    const echoed: Uint8Array[] = [];
    for await (const frame of new FrameReader(conn)) echoed.push(frame);
    await Promise.all([sending, serving]);
    assert.deepEqual(echoed, payloads);
    conn.close();
    listener.close();
  },
);

tlsTest(
  "readFrame() over Deno TLS: a peer that closes without close_notify gives ConnectionResetError, never a clean end",
  async (cert, key) => {
    // node:tls's destroy() closes the TCP connection without close_notify, as
    // an attacker who cuts the stream would.
    const server = tls.createServer({ cert, key }, (socket) => {
      socket.write(encodeFrame(new Uint8Array([42])), () => socket.destroy());
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as { port: number };
    const conn = await Deno.connectTls({
      hostname: "127.0.0.1",
      port,
      caCerts: [cert],
    });
    assert.deepEqual(await readFrame(conn), new Uint8Array([42]));
    // The cut falls on a frame boundary: only TLS can tell it from an end.
    await assert.rejects(readFrame(conn), (error) => {
      assert.ok(error instanceof ConnectionResetError, `got ${error}`);
      assert.equal((error.cause as Error).name, "UnexpectedEof");
      return true;
    });
    conn.close();
    server.close();
  },
);
