// Length-prefixed frames over Node sockets on 127.0.0.1.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  encodeFrame,
  FrameReader,
  FrameTooLargeError,
  readExact,
  readFrame,
  UnexpectedEofError,
  writeAll,
  writeFrame,
} from "tcpframe";
import { pseudoRandomBytes } from "../_fixtures.ts";
import { delay, tcpPair } from "./_net.ts";

test("writeFrame() and readFrame() carry frames both ways over a NodeConn", async () => {
  const [client, server] = await tcpPair();
  const text = new TextEncoder();
  await writeFrame(client, text.encode("ping"));
  assert.equal(new TextDecoder().decode((await readFrame(server))!), "ping");
  await writeFrame(server, text.encode("pong"));
  assert.equal(new TextDecoder().decode((await readFrame(client))!), "pong");
  await client.closeWrite();
  assert.equal(await readFrame(server), null, "clean end at a frame boundary");
  client.close();
  server.close();
});

test("FrameReader reads 1000 frames of mixed sizes from a NodeConn", async () => {
  const [client, server] = await tcpPair();
  const sizes = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 70_000);
  const frames = sizes.map((size, i) => pseudoRandomBytes(size, i + 1));
  const sending = (async () => {
    for (const frame of frames) await writeFrame(client, frame);
    await client.closeWrite();
  })();
  const received: Uint8Array[] = [];
  for await (const frame of new FrameReader(server)) received.push(frame);
  await sending;
  assert.equal(received.length, frames.length);
  received.forEach((frame, i) => assert.deepEqual(frame, frames[i]));
  client.close();
  server.close();
});

test("FrameReader takes a NodeConn's chunks as they are, without its read()", async () => {
  const [client, server] = await tcpPair();
  server.read = () => Promise.reject(new Error("read() was called"));
  const frames = [new Uint8Array(100).fill(1), new Uint8Array(200_000)];
  const sending = (async () => {
    for (const frame of frames) await writeFrame(client, frame);
    await client.closeWrite();
  })();
  const got: Uint8Array[] = [];
  for await (const frame of new FrameReader(server)) got.push(frame);
  await sending;
  assert.deepEqual(got, frames);
  assert.equal(got[1]!.buffer.byteLength, 200_000, "put together once");
  client.close();
  server.close();
});

test("readExact() on a NodeConn, then a FrameReader, read the stream in order", async () => {
  const [client, server] = await tcpPair();
  await writeAll(
    client,
    new Uint8Array([7, 7, ...encodeFrame(new Uint8Array([1, 2]))]),
  );
  await client.closeWrite();
  assert.deepEqual(await readExact(server, 2), new Uint8Array([7, 7]));
  const reader = new FrameReader(server);
  assert.deepEqual(await reader.read(), new Uint8Array([1, 2]));
  assert.equal(await reader.read(), null);
  client.close();
  server.close();
});

test("FrameReader.read() aborted on a silent NodeConn loses no bytes", async () => {
  const [client, server] = await tcpPair();
  const reader = new FrameReader(server);
  await assert.rejects(
    reader.read({ signal: AbortSignal.timeout(20) }),
    { name: "TimeoutError" },
  );
  await writeFrame(client, new Uint8Array([1, 2, 3]));
  assert.deepEqual(await reader.read(), new Uint8Array([1, 2, 3]));
  client.close();
  server.close();
});

test("readFrame() rejects an oversize length from the peer with FrameTooLargeError", async () => {
  const [client, server] = await tcpPair();
  await writeAll(client, new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  await assert.rejects(
    readFrame(server, { maxFrameSize: 1024 }),
    (error) => {
      assert.ok(error instanceof FrameTooLargeError);
      assert.equal(error.size, 0xffff_ffff);
      assert.equal(error.limit, 1024);
      return true;
    },
  );
  client.close();
  server.close();
});

test("readFrame() on a NodeConn cut inside a payload rejects with UnexpectedEofError", async () => {
  const [client, server] = await tcpPair();
  await writeAll(client, new Uint8Array([0, 0, 0, 10, 1, 2, 3]));
  await delay(5);
  await client.closeWrite();
  await assert.rejects(readFrame(server), (error) => {
    assert.ok(error instanceof UnexpectedEofError);
    assert.ok(error.bytesRead > 0);
    return true;
  });
  client.close();
  server.close();
});
