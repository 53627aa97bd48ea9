// Faults on real TCP on 127.0.0.1, with Deno.Conn: writes to a reset
// connection, and payloads cut short by a reset. A peer resets in one of two
// ways: node:net's resetAndDestroy() (SO_LINGER 0, a bare RST), or closing a
// Deno.Conn with bytes it never read (Deno sends FIN, then the kernel answers
// with RST for the unread bytes).
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import {
  ConnectionResetError,
  encodeFrame,
  FrameReader,
  readFrame,
  UnexpectedEofError,
  writeAll,
  writeFrame,
  writeFrames,
} from "tcpframe";
import { tcpPair } from "./_tcp.ts";
import { assertResetOrBrokenPipe, writeUntilFailure } from "../_fixtures.ts";

/** Gives timers and late promise callbacks a chance to run. */
function pause(ms = 1): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `body`, recording `unhandledrejection` events (and keeping them from
 * failing the run), so a test can assert that every failure reached its
 * caller.
 */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const stray: unknown[] = [];
  const record = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    stray.push(event.reason);
  };
  globalThis.addEventListener("unhandledrejection", record);
  try {
    await body();
    await pause(10); // let late rejections surface
  } finally {
    globalThis.removeEventListener("unhandledrejection", record);
  }
  return stray;
}

/** A Deno.Conn whose peer is a node:net socket, which can send a bare RST. */
async function connToNodePeer(): Promise<[Deno.TcpConn, net.Socket]> {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  const accepted = once(server, "connection") as Promise<[net.Socket]>;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const [socket] = await accepted;
  server.close();
  return [conn, socket];
}

/** The first 3 payload bytes of a frame that announces 100. */
const cutShort = encodeFrame(
  new Uint8Array(100).map((_, i) => i + 1),
).subarray(0, 7);

function isPayloadCutShort(error: unknown): boolean {
  assert.ok(error instanceof UnexpectedEofError, `got ${String(error)}`);
  assert.equal(error.bytesRead, 3);
  assert.equal(error.expected, 100);
  assert.deepEqual(error.partial, new Uint8Array([1, 2, 3]));
  assert.match(error.message, /^Cannot read frame payload: /);
  return true;
}

Deno.test("writeFrame() to a Deno.Conn the peer reset (bare RST) rejects with CONNECTION_RESET or BROKEN_PIPE, never unhandled", async () => {
  const [conn, peer] = await connToNodePeer();
  const stray = await unhandledDuring(async () => {
    peer.resetAndDestroy();
    const failure = await writeUntilFailure(() =>
      writeFrame(conn, new Uint8Array(1024))
    );
    assertResetOrBrokenPipe(failure);
    // Every later write fails too, the same way.
    assertResetOrBrokenPipe(
      await writeUntilFailure(() => writeFrames(conn, [new Uint8Array(8)])),
    );
  });
  assert.deepEqual(stray, []);
  conn.close();
});

Deno.test("writeAll() to a Deno.Conn the peer closed with unread bytes (FIN, RST) rejects with CONNECTION_RESET or BROKEN_PIPE, never unhandled", async () => {
  const [client, server] = await tcpPair();
  const stray = await unhandledDuring(async () => {
    await writeAll(client, new Uint8Array(64)); // the server never reads these
    server.close();
    const failure = await writeUntilFailure(() =>
      writeAll(client, new Uint8Array(64 * 1024))
    );
    assertResetOrBrokenPipe(failure);
  });
  assert.deepEqual(stray, []);
  client.close();
});

Deno.test("FrameReader on a Deno.Conn whose peer resets mid-payload (bare RST) rejects with ConnectionResetError, never a short frame", async () => {
  const [conn, peer] = await connToNodePeer();
  const stray = await unhandledDuring(async () => {
    await new Promise<void>((resolve, reject) =>
      peer.write(cutShort, (error) => error ? reject(error) : resolve())
    );
    peer.resetAndDestroy();
    const reader = new FrameReader(conn);
    await assert.rejects(reader.read(), (error) => {
      assert.ok(error instanceof ConnectionResetError, `got ${error}`);
      assert.equal(error.code, "CONNECTION_RESET");
      return true;
    });
    await assert.rejects(reader.read(), ConnectionResetError); // sticky
  });
  assert.deepEqual(stray, []);
  conn.close();
});

/**
 * A Deno.Conn whose peer sent `cutShort`, then FIN, then RST (it closed with
 * bytes unread), and whose RST has arrived: writing to it fails.
 */
async function finThenReset(): Promise<Deno.TcpConn> {
  const [conn, peer] = await tcpPair();
  await writeAll(conn, new Uint8Array(16)); // the peer never reads these
  await writeAll(peer, cutShort);
  await peer.closeWrite();
  peer.close();
  assertResetOrBrokenPipe(
    await writeUntilFailure(() => writeAll(conn, new Uint8Array(1))),
  );
  return conn;
}

Deno.test("Deno.Conn reads a reset that follows a FIN as end of stream (the quirk the README documents)", async () => {
  const conn = await finThenReset();
  const buffer = new Uint8Array(64);
  assert.equal(await conn.read(buffer), 7);
  assert.equal(await conn.read(buffer), null); // not ConnectionReset
  conn.close();
});

Deno.test("readFrame() and FrameReader report a payload cut short by FIN then RST as UnexpectedEofError, never a short frame", async () => {
  const direct = await finThenReset();
  await assert.rejects(readFrame(direct), isPayloadCutShort);
  direct.close();

  for (const readBufferSize of [4, 65_536]) {
    const conn = await finThenReset();
    const reader = new FrameReader(conn, { readBufferSize });
    await assert.rejects(reader.read(), isPayloadCutShort);
    conn.close();
  }
});
