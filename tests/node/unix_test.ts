// connect({ path }) and listen({ path }): Unix domain sockets in a
// temporary directory, removed after each test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FrameReader, type UnixAddr, writeAll, writeFrame } from "tcpframe";
import { connect, listen } from "tcpframe/node";
import { readAll } from "./_net.ts";

/** Runs `body` with a fresh socket path in a temporary directory. */
async function withSocketPath(
  body: (path: string) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tcpframe-unix-"));
  try {
    await body(join(dir, "test.sock"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("listen({ path }) and connect({ path }) carry bytes both ways with the paths as addresses", async () => {
  await withSocketPath(async (path) => {
    const listener = await listen({ path });
    const expected: UnixAddr = { transport: "unix", path };
    assert.deepEqual(listener.addr, expected);
    assert.ok(existsSync(path));
    // Connected and written to before accept(): queued, then read.
    const conn = await connect({ path, signal: AbortSignal.timeout(5000) });
    await writeAll(conn, new Uint8Array([1, 2, 3]));
    await conn.closeWrite();
    const peer = await listener.accept();
    assert.deepEqual(conn.remoteAddr, expected);
    assert.deepEqual(conn.localAddr, { transport: "unix", path: "" });
    assert.deepEqual(peer.localAddr, expected);
    assert.deepEqual(peer.remoteAddr, { transport: "unix", path: "" });
    conn.setNoDelay(true); // no Nagle on a Unix socket: a no-op, not an error
    assert.deepEqual(await readAll(peer), new Uint8Array([1, 2, 3]));
    await writeAll(peer, new Uint8Array([4])); // half-open: still allowed
    await peer.closeWrite();
    assert.deepEqual(await readAll(conn), new Uint8Array([4]));
    conn.close();
    peer.close();
    listener.close();
    assert.equal(existsSync(path), false, "close() removes the socket file");
  });
});

test("FrameReader and writeFrame() echo frames over a Unix socket, with Deno's option shape", async () => {
  await withSocketPath(async (path) => {
    const listener = await listen({ transport: "unix", path });
    const serving = (async () => {
      for await (const peer of listener) {
        for await (const frame of new FrameReader(peer)) {
          await writeFrame(peer, frame);
        }
        await peer.closeWrite();
        peer.close();
      }
    })();
    const sizes = [0, 1, 100, 70_000, 1_048_576];
    for (let round = 0; round < 2; round++) {
      const conn = await connect({ transport: "unix", path });
      const sending = (async () => {
        for (const size of sizes) {
          await writeFrame(conn, new Uint8Array(size).fill(size & 0xff));
        }
        await conn.closeWrite();
      })();
      const got: number[] = [];
      for await (const frame of new FrameReader(conn)) {
        assert.ok(frame.every((byte) => byte === (frame.byteLength & 0xff)));
        got.push(frame.byteLength);
      }
      await sending;
      assert.deepEqual(got, sizes);
      conn.close();
    }
    listener.close();
    await serving;
  });
});

test("listen({ path }) rejects with EADDRINUSE when the socket file exists", async () => {
  await withSocketPath(async (path) => {
    const first = await listen({ path });
    await assert.rejects(listen({ path }), { code: "EADDRINUSE" });
    first.close();
  });
});

test("connect({ path }) to a missing socket file rejects, and a bad path is a TypeError", async () => {
  await withSocketPath(async (path) => {
    await assert.rejects(connect({ path }), { code: "ENOENT" });
  });
  await assert.rejects(connect({ path: "" }), TypeError);
  await assert.rejects(listen({ path: "" }), TypeError);
});
