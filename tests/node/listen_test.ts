// listen() and NodeListener over 127.0.0.1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import net from "node:net";
import {
  ConnectionClosedError,
  readExact,
  TcpFrameError,
  writeAll,
} from "tcpframe";
import {
  connect,
  DEFAULT_MAX_PENDING,
  listen,
  type NodeConn,
} from "tcpframe/node";
import { delay } from "./_net.ts";

/** A refused connection reads as a reset, or (without RST) as an end. */
function assertResetOrEof(error: unknown): void {
  assert.ok(error instanceof TcpFrameError, String(error));
  assert.ok(
    error.code === "CONNECTION_RESET" || error.code === "UNEXPECTED_EOF",
    error.code,
  );
}

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

test("listen() holds at most maxPending unaccepted connections: 2,000 clients keep the process's fds bounded, and the held ones work", async (t) => {
  if (!existsSync("/proc/self/fd")) {
    t.skip("no /proc/self/fd to count open files on this system");
    return;
  }
  const openFiles = () => readdirSync("/proc/self/fd").length;
  const listener = await listen({ port: 0 });
  assert.equal(DEFAULT_MAX_PENDING, 128);
  const base = openFiles();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, openFiles())), 5);
  const clients: Array<{ socket: net.Socket; id: number; reply?: number }> = [];
  const failed = new Set<number>();
  try {
    // 2,000 clients in batches of 100; each sends its id's low byte.
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => {
          const id = batch * 100 + i;
          const socket = net.connect({
            host: "127.0.0.1",
            port: listener.addr.port,
          });
          const client: { socket: net.Socket; id: number; reply?: number } = {
            socket,
            id,
          };
          clients.push(client);
          socket.on("data", (data: Uint8Array) => (client.reply = data[0]!));
          return new Promise<void>((resolve) => {
            socket.on("error", () => {
              failed.add(id); // reset: refused by the listener
              socket.destroy();
              resolve();
            });
            socket.on("connect", () => {
              socket.write(new Uint8Array([id & 0xff]));
              resolve();
            });
          });
        }),
      );
      peak = Math.max(peak, openFiles());
      // Let this batch's resets arrive before the next batch starts.
      const refusedSoFar = Math.max(0, clients.length - 128);
      for (let i = 0; i < 500 && failed.size < refusedSoFar; i++) {
        await delay(2);
      }
    }
    clearInterval(sampler);
    // 128 held connections and their 128 clients, plus one batch in flight:
    // without the bound this would be about 4,000.
    assert.ok(
      peak - base < 128 * 2 + 2 * 100 + 100,
      `open files grew from ${base} to ${peak}`,
    );
    assert.equal(listener.refused, 2000 - 128);
    assert.equal(failed.size, 2000 - 128, "every refused client saw a reset");

    // Every held connection works once accepted: its byte, then a reply.
    const held = clients.filter((client) => !failed.has(client.id));
    assert.equal(held.length, 128);
    for (let i = 0; i < held.length; i++) {
      const peer = await listener.accept();
      const [byte] = await readExact(peer, 1);
      await writeAll(peer, new Uint8Array([byte! ^ 0xff]));
      peer.close();
    }
    for (let i = 0; i < 500 && held.some((c) => c.reply === undefined); i++) {
      await delay(10);
    }
    for (const client of held) {
      assert.equal(
        client.reply,
        (client.id & 0xff) ^ 0xff,
        `client ${client.id}`,
      );
    }

    // The queue has room again.
    const later = await connect({ port: listener.addr.port });
    const peer = await listener.accept();
    await writeAll(later, new Uint8Array([7]));
    assert.deepEqual(await readExact(peer, 1), new Uint8Array([7]));
    later.close();
    peer.close();
    assert.equal(listener.refused, 2000 - 128);
  } finally {
    clearInterval(sampler);
    for (const { socket } of clients) socket.destroy();
    listener.close();
  }
});

test("listen({ maxPending: 0 }) keeps a connection only for a waiting accept()", async () => {
  const listener = await listen({ port: 0, maxPending: 0 });
  const accepting = listener.accept();
  const kept = await connect({ port: listener.addr.port });
  const peer = await accepting;
  // The reset may come before or after connect() resolves.
  const refused = connect({ port: listener.addr.port }).then(async (conn) => {
    try {
      await readExact(conn, 1);
    } finally {
      conn.close();
    }
  });
  await assert.rejects(refused, (error) => {
    assertResetOrEof(error);
    return true;
  });
  assert.equal(listener.refused, 1);
  await writeAll(kept, new Uint8Array([1]));
  assert.deepEqual(await readExact(peer, 1), new Uint8Array([1]));
  for (const conn of [kept, peer]) conn.close();
  listener.close();
});

test("listen() rejects a maxPending that is not a non-negative integer or Infinity", async () => {
  for (const maxPending of [-1, 1.5, Number.NaN]) {
    await assert.rejects(listen({ port: 0, maxPending }), RangeError);
  }
  const unbounded = await listen({ port: 0, maxPending: Infinity });
  unbounded.close();
});
