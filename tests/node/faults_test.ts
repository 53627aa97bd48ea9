// Faults on real sockets on 127.0.0.1, through the Node adapter: framed
// writes to a reset connection, and payloads cut short by a reset. The peer
// resets with socket.resetAndDestroy() (SO_LINGER 0: RST).
import { test } from "node:test";
import assert from "node:assert/strict";
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
import type { NodeConn } from "tcpframe/node";
import { tcpPair, withoutStrayErrors } from "./_net.ts";
import { assertResetOrBrokenPipe, writeUntilFailure } from "../_fixtures.ts";

/** The first 3 payload bytes of a frame that announces 100. */
const cutShort = encodeFrame(
  new Uint8Array(100).map((_, i) => i + 1),
).subarray(0, 7);

function isPayloadCutShort(error: unknown): boolean {
  assert.ok(error instanceof UnexpectedEofError, `got ${String(error)}`);
  assert.equal(error.bytesRead, 3);
  assert.equal(error.expected, 100);
  assert.deepEqual(error.partial, new Uint8Array([1, 2, 3]));
  return true;
}

test("writeFrame() and writeFrames() to a reset NodeConn reject with CONNECTION_RESET or BROKEN_PIPE, never unhandled", async () => {
  for (
    const write of [
      (conn: NodeConn) => writeFrame(conn, new Uint8Array(1024)),
      (conn: NodeConn) =>
        writeFrames(conn, [new Uint8Array(10), new Uint8Array(70_000)]),
    ]
  ) {
    const [client, server] = await tcpPair();
    const stray = await withoutStrayErrors(async () => {
      server.socket.resetAndDestroy();
      assertResetOrBrokenPipe(await writeUntilFailure(() => write(client)));
      assertResetOrBrokenPipe(await writeUntilFailure(() => write(client)));
    });
    assert.deepEqual(stray, []);
    client.close();
  }
});

test("FrameReader on a NodeConn whose peer resets mid-payload rejects with a typed error, never a short frame", async () => {
  const [client, server] = await tcpPair();
  const stray = await withoutStrayErrors(async () => {
    await writeAll(server, cutShort);
    const reader = new FrameReader(client);
    const reading = reader.read();
    server.socket.resetAndDestroy();
    let failure: unknown;
    await assert.rejects(reading, (error) => {
      failure = error;
      // Node (libuv) can read an RST that follows data as end of stream;
      // Deno's node:net reports the reset.
      if (error instanceof UnexpectedEofError) return isPayloadCutShort(error);
      assert.ok(error instanceof ConnectionResetError, `got ${error}`);
      return true;
    });
    await assert.rejects(reader.read(), (error) => error === failure); // sticky
  });
  assert.deepEqual(stray, []);
  client.close();
});

test("readFrame() and FrameReader on a NodeConn report a payload cut short by FIN then RST as UnexpectedEofError, never a short frame", async () => {
  const decoders = [
    (conn: NodeConn) => readFrame(conn),
    (conn: NodeConn) => new FrameReader(conn, { readBufferSize: 4 }).read(),
    (conn: NodeConn) => new FrameReader(conn).read(),
  ];
  for (const decode of decoders) {
    const [client, server] = await tcpPair();
    const stray = await withoutStrayErrors(async () => {
      await writeAll(server, cutShort);
      await server.closeWrite();
      server.socket.resetAndDestroy();
      await assert.rejects(decode(client), isPayloadCutShort);
      // The reset did arrive: writing to the peer fails.
      assertResetOrBrokenPipe(
        await writeUntilFailure(() => writeAll(client, new Uint8Array(1024))),
      );
    });
    assert.deepEqual(stray, []);
    client.close();
  }
});
