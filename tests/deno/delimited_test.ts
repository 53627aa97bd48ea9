// Delimiter framing over real TCP on 127.0.0.1: the pull API
// (DelimitedReader) and the streams API (DelimiterDecoderStream).
import assert from "node:assert/strict";
import {
  DelimitedReader,
  DelimiterDecoderStream,
  FrameTooLargeError,
  UnexpectedEofError,
  writeAll,
  writeDelimited,
} from "tcpframe";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A connected pair of loopback TCP connections. */
async function connectedPair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  return [client, server];
}

/** Closes a connection that reading `readable` to the end may have closed. */
function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}

/** The lines both tests send: small, empty, CRLF and one of 600 KiB. */
function testLines(): string[] {
  const lines = ["hello", "", "world\r", "x".repeat(600 * 1024)];
  for (let i = 0; i < 1000; i++) lines.push(`line ${i}`);
  return lines;
}

Deno.test("DelimitedReader reads lines written with writeDelimited() over TCP", async () => {
  const [client, server] = await connectedPair();
  const lines = testLines();
  const sending = (async () => {
    for (const line of lines) await writeDelimited(client, line);
    await client.closeWrite();
  })();
  const received: string[] = [];
  for await (const frame of new DelimitedReader(server, { stripCR: true })) {
    received.push(decoder.decode(frame));
  }
  await sending;
  assert.deepEqual(received, lines.map((line) => line.replace(/\r$/, "")));
  client.close();
  server.close();
});

Deno.test("DelimiterDecoderStream splits conn.readable into lines over TCP", async () => {
  const [client, server] = await connectedPair();
  const lines = testLines();
  const sending = (async () => {
    for (const line of lines) {
      await writeDelimited(client, line, { delimiter: "\r\n\r\n" });
    }
    await client.closeWrite();
  })();
  const received: string[] = [];
  const frames = server.readable.pipeThrough(
    new DelimiterDecoderStream({ delimiter: "\r\n\r\n" }),
  );
  for await (const frame of frames) received.push(decoder.decode(frame));
  await sending;
  assert.deepEqual(received, lines);
  client.close();
  closeQuietly(server);
});

Deno.test("DelimitedReader over TCP resumes after an aborted read with nothing lost", async () => {
  const [client, server] = await connectedPair();
  const reader = new DelimitedReader(server);
  await writeAll(client, encoder.encode("par"));
  // The peer goes silent mid-frame; the deadline passes.
  await assert.rejects(
    reader.read({ signal: AbortSignal.timeout(20) }),
    { name: "TimeoutError" },
  );
  await writeAll(client, encoder.encode("tial\nnext\n"));
  assert.equal(decoder.decode((await reader.read())!), "partial");
  assert.equal(decoder.decode((await reader.read())!), "next");
  await client.closeWrite();
  assert.equal(await reader.read(), null);
  client.close();
  server.close();
});

Deno.test("DelimitedReader and DelimiterDecoderStream report a truncated TCP stream", async () => {
  for (const api of ["reader", "stream"]) {
    const [client, server] = await connectedPair();
    await writeAll(client, encoder.encode("done\ncut"));
    await client.closeWrite();
    const check = (error: unknown) => {
      assert.ok(error instanceof UnexpectedEofError);
      assert.equal(error.bytesRead, 3);
      return true;
    };
    if (api === "reader") {
      const reader = new DelimitedReader(server);
      assert.equal(decoder.decode((await reader.read())!), "done");
      await assert.rejects(reader.read(), check);
    } else {
      const frames = server.readable.pipeThrough(new DelimiterDecoderStream());
      await assert.rejects(Array.fromAsync(frames), check);
    }
    client.close();
    closeQuietly(server);
  }
});

Deno.test("DelimitedReader stops a peer that sends no delimiter at maxFrameSize", async () => {
  const [client, server] = await connectedPair();
  const sending = writeAll(client, new Uint8Array(4 * 1024 * 1024).fill(0x78))
    .catch(() => {}); // the server closes on it
  await assert.rejects(
    new DelimitedReader(server, { maxFrameSize: 64 * 1024 }).read(),
    FrameTooLargeError,
  );
  server.close();
  await sending;
  client.close();
});
