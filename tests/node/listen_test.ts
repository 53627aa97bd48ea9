// listen() and NodeListener over 127.0.0.1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnectionClosedError, readExact, writeAll } from "tcpframe";
import { connect, listen, type NodeConn } from "tcpframe/node";

test("listen() binds 127.0.0.1 by default and reports the real port", async () => {
  const listener = await listen({ port: 0 });
  assert.equal(listener.addr.transport, "tcp");
  assert.equal(listener.addr.hostname, "127.0.0.1");
  assert.ok(listener.addr.port > 0);
  listener.close();
});

test("listen() queues connections that arrive before accept(), in order", async () => {
  const listener = await listen({ port: 0 });
  const clients: NodeConn[] = [];
  for (let i = 0; i < 3; i++) {
    const conn = await connect({ port: listener.addr.port });
    await writeAll(conn, new Uint8Array([i]));
    clients.push(conn);
  }
  for (let i = 0; i < 3; i++) {
    const peer = await listener.accept();
    assert.deepEqual(await readExact(peer, 1), new Uint8Array([i]));
    peer.close();
  }
  for (const conn of clients) conn.close();
  listener.close();
});

test("NodeListener iterates with for await until close()", async () => {
  const listener = await listen({ port: 0 });
  const seen: number[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      seen.push((await readExact(conn, 1))[0]!);
      conn.close();
    }
  })();
  for (let i = 0; i < 3; i++) {
    const conn = await connect({ port: listener.addr.port });
    await writeAll(conn, new Uint8Array([i]));
    assert.equal(await conn.read(new Uint8Array(1)), null);
    conn.close();
  }
  listener.close();
  await serving;
  assert.deepEqual(seen, [0, 1, 2]);
});

test("NodeListener.close() rejects pending and later accept() with ConnectionClosedError", async () => {
  const listener = await listen({ port: 0 });
  const pending = listener.accept();
  listener.close();
  listener.close(); // idempotent
  await assert.rejects(pending, ConnectionClosedError);
  await assert.rejects(listener.accept(), ConnectionClosedError);
});

test("NodeListener.close() closes connections that were never accepted", async () => {
  const listener = await listen({ port: 0 });
  const conn = await connect({ port: listener.addr.port });
  await new Promise((resolve) => setTimeout(resolve, 20)); // queued by now
  listener.close();
  assert.equal(await conn.read(new Uint8Array(1)), null);
  conn.close();
});

test("listen() rejects with Node's EADDRINUSE when the port is taken", async () => {
  const first = await listen({ port: 0 });
  await assert.rejects(
    listen({ port: first.addr.port }),
    { code: "EADDRINUSE" },
  );
  first.close();
});

test("listen() rejects a port out of range with RangeError", async () => {
  await assert.rejects(listen({ port: 65536 }), RangeError);
  await assert.rejects(listen({ port: -1 }), RangeError);
});
