// Framing over real TCP on 127.0.0.1: the pull API and the streams API.
import assert from "node:assert/strict";
import {
  encodeFrame,
  FrameDecoderStream,
  FrameEncoderStream,
  FrameReader,
  readFrame,
  writeFrame,
  writeFrames,
} from "tcpframe";
import { pseudoRandomBytes } from "../_fixtures.ts";
import { tcpPair } from "./_tcp.ts";

const sizes = [0, 1, 64, 1000, 65_536, 200_000, 1_048_576];
const payloads = sizes.map((n, i) => pseudoRandomBytes(n, i + 1));

Deno.test("writeFrame() and FrameReader move frames of every size over loopback", async () => {
  const [client, server] = await tcpPair();
  client.setNoDelay(true);
  const sending = (async () => {
    for (const p of payloads) await writeFrame(client, p);
    await writeFrames(client, payloads.slice(0, 4));
    await client.closeWrite();
  })();
  const got: Uint8Array[] = [];
  for await (const frame of new FrameReader(server)) got.push(frame);
  await sending;
  assert.deepEqual(got, [...payloads, ...payloads.slice(0, 4)]);
  client.close();
  server.close();
});

Deno.test("readFrame() reads frames one by one over loopback and ends with null", async () => {
  const [client, server] = await tcpPair();
  const sending = (async () => {
    for (const p of payloads) await writeFrame(client, p);
    await client.closeWrite();
  })();
  for (const p of payloads) assert.deepEqual(await readFrame(server), p);
  assert.equal(await readFrame(server), null);
  await sending;
  client.close();
  server.close();
});

Deno.test("FrameEncoderStream to conn.writable, conn.readable through FrameDecoderStream", async () => {
  const [client, server] = await tcpPair();
  const sending = ReadableStream.from(payloads)
    .pipeThrough(new FrameEncoderStream())
    .pipeTo(client.writable); // closes the client when done
  const got = await Array.fromAsync(
    server.readable.pipeThrough(new FrameDecoderStream()),
  );
  await sending;
  assert.deepEqual(got, payloads);
});

Deno.test("FrameReader over conn.readable takes Deno's chunks as they are", async () => {
  const [client, server] = await tcpPair();
  const sending = (async () => {
    for (const p of payloads) await writeFrame(client, p);
    await client.closeWrite();
  })();
  const got: Uint8Array[] = [];
  for await (const frame of new FrameReader(server.readable)) got.push(frame);
  await sending;
  assert.deepEqual(got, payloads);
  client.close(); // the server's readable closed the server at its end
});

Deno.test("a frame reader echoes frames back while the peer is still sending", async () => {
  const [client, server] = await tcpPair();
  const echo = (async () => {
    for await (const frame of new FrameReader(server)) {
      await writeFrame(server, frame);
    }
    await server.closeWrite();
  })();
  const sending = (async () => {
    for (const p of payloads) await writeFrame(client, p);
    await client.closeWrite();
  })();
  const got: Uint8Array[] = [];
  for await (const frame of new FrameReader(client)) got.push(frame);
  await Promise.all([echo, sending]);
  assert.deepEqual(got, payloads);
  assert.deepEqual(encodeFrame(got[1]!), encodeFrame(payloads[1]!));
  client.close();
  server.close();
});
