// Real TCP on 127.0.0.1: Deno.Conn satisfies Reader/Writer/Conn unchanged.
import assert from "node:assert/strict";
import {
  type Conn,
  type Reader,
  readExact,
  UnexpectedEofError,
  writeAll,
  type Writer,
} from "tcpframe";
import { pseudoRandomBytes } from "../_fixtures.ts";
import { tcpPair } from "./_tcp.ts";

Deno.test("Deno.Conn satisfies Reader, Writer and Conn unchanged", async () => {
  const [a, b] = await tcpPair();
  const asConn: Conn = a;
  const asReader: Reader = b;
  const asWriter: Writer = a;
  assert.equal(typeof asConn.closeWrite, "function");
  assert.equal(typeof asReader.read, "function");
  assert.equal(typeof asWriter.write, "function");
  a.close();
  b.close();
});

Deno.test("writeAll() sends 64 MiB to a late reader; readExact() gets it byte-exact", async () => {
  const [client, server] = await tcpPair();
  const size = 64 * 1024 * 1024;
  const data = pseudoRandomBytes(size, 7);
  let writeCalls = 0;
  const counting: Writer = {
    write(p) {
      writeCalls++;
      return client.write(p);
    },
  };
  const sending = writeAll(counting, data);
  // The reader starts late: the kernel buffers fill and writes come back short.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const received = await readExact(server, size);
  await sending;
  assert.ok(
    writeCalls > 1,
    `expected short writes from Deno.Conn, got ${writeCalls} call(s)`,
  );
  assert.equal(received.byteLength, size);
  assert.ok(received.every((byte, i) => byte === data[i]), "bytes differ");
  await client.closeWrite();
  await assert.rejects(readExact(server, 1), (error) => {
    assert.ok(error instanceof UnexpectedEofError);
    assert.equal(error.bytesRead, 0);
    return true;
  });
  client.close();
  server.close();
});

Deno.test("readExact() on a Deno.Conn rejects when aborted while the peer is silent", async () => {
  const [client, server] = await tcpPair();
  const controller = new AbortController();
  const pending = readExact(server, 4, { signal: controller.signal });
  setTimeout(() => controller.abort(new Error("deadline")), 20);
  await assert.rejects(pending, { message: "deadline" });
  client.close();
  server.close();
});

Deno.test("readExact() on a Deno.Conn honours AbortSignal.timeout()", async () => {
  const [client, server] = await tcpPair();
  await assert.rejects(
    readExact(server, 4, { signal: AbortSignal.timeout(20) }),
    { name: "TimeoutError" },
  );
  client.close();
  server.close();
});
