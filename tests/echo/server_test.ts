import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeFrame, FrameReader, writeFrames } from "tcpframe";
import { serveEcho } from "../../src/echo/server.ts";
import { pseudoRandomBytes } from "../_fixtures.ts";
import {
  type MemoryConn,
  MemoryListener,
  memoryLog,
  until,
} from "./_memory.ts";

const text = new TextEncoder();

async function readAllFrames(conn: MemoryConn): Promise<string[]> {
  const frames: string[] = [];
  for await (const frame of new FrameReader(conn)) {
    frames.push(new TextDecoder().decode(frame));
  }
  return frames;
}

test("serveEcho() echoes every frame of a connection, then closes properly", async () => {
  const listener = new MemoryListener();
  const log = memoryLog();
  const server = serveEcho(listener, { log: log });
  const client = listener.dial();
  await writeFrames(client, ["one", "two", "three"].map((s) => text.encode(s)));
  await client.closeWrite();
  assert.deepEqual(await readAllFrames(client), ["one", "two", "three"]);
  await until(() => log.lines.some((l) => l.startsWith("[done]")));
  assert.deepEqual(log.lines, [
    `[accept] peer=10.0.0.2:${client.localPort}`,
    `[done] peer=10.0.0.2:${client.localPort} echoed 11 bytes in 3 frames`,
  ]);
  assert.equal(listener.accepted[0]!.noDelay, true);
  await server.shutdown();
});

test("serveEcho() sees the peer's FIN, still sends its echoes, then its own FIN", async () => {
  const listener = new MemoryListener();
  const events: string[] = [];
  const server = serveEcho(listener, { graceMs: 0 });
  const client = listener.dial({ events });
  const serverEnd = listener.accepted[0]!;
  // Hold the server's writes until it has read the client's FIN.
  let release = () => {};
  serverEnd.writeGate = new Promise((resolve) => (release = resolve));
  await writeFrames(client, ["a", "bb"].map((s) => text.encode(s)));
  await client.closeWrite();
  await until(() => events.includes("server eof"), "the server's EOF");
  release();
  assert.deepEqual(await readAllFrames(client), ["a", "bb"]);
  await until(() => events.includes("server close"));
  const at = (event: string) => events.indexOf(event);
  const lastWrite = events.findLastIndex((e) => e.startsWith("server write"));
  assert.ok(at("client fin") < at("server eof"), events.join(", "));
  assert.ok(at("server eof") < lastWrite, events.join(", "));
  assert.ok(lastWrite < at("server fin"), events.join(", "));
  assert.ok(at("server fin") < at("server close"), events.join(", "));
  await server.shutdown();
});

test("serveEcho() serves many connections at once", async () => {
  const listener = new MemoryListener();
  const log = memoryLog();
  const server = serveEcho(listener, { log });
  const clients = Array.from({ length: 50 }, () => listener.dial());
  // Every client sends its first frame before any finishes.
  await Promise.all(
    clients.map((c, i) => writeFrames(c, [text.encode(`first ${i}`)])),
  );
  await until(() => server.connections === 50, "50 connections");
  const echoes = await Promise.all(clients.map(async (c, i) => {
    await writeFrames(c, [text.encode(`second ${i}`)]);
    await c.closeWrite();
    return await readAllFrames(c);
  }));
  echoes.forEach((frames, i) =>
    assert.deepEqual(frames, [`first ${i}`, `second ${i}`])
  );
  await until(() => server.connections === 0);
  assert.equal(log.lines.filter((l) => l.startsWith("[done]")).length, 50);
  await server.shutdown();
});

test("serveEcho() echoes large frames and many small ones intact", async () => {
  const listener = new MemoryListener();
  const server = serveEcho(listener, { maxFrame: 3_000_000 });
  const payloads = [
    pseudoRandomBytes(2_500_000, 1),
    ...Array.from({ length: 500 }, (_, i) => pseudoRandomBytes(i, i + 2)),
  ];
  const client = listener.dial({ clientMaxWrite: 1000 });
  const sending = (async () => {
    await writeFrames(client, payloads, { maxFrameSize: 3_000_000 });
    await client.closeWrite();
  })();
  const got: Uint8Array[] = [];
  for await (
    const frame of new FrameReader(client, { maxFrameSize: 3_000_000 })
  ) got.push(frame);
  await sending;
  assert.deepEqual(got, payloads);
  await server.shutdown();
});

test("serveEcho() closes an idle connection, one stalled inside a header too, while serving others", async () => {
  const listener = new MemoryListener();
  const log = memoryLog();
  const server = serveEcho(listener, { idleTimeoutMs: 100, log });
  const busy = listener.dial();
  const silent = listener.dial();
  const stalled = listener.dial();
  await stalled.write(new Uint8Array([0, 0])); // half a header
  // The busy peer keeps sending while the other two say nothing.
  const timeouts = () => log.lines.filter((l) => l.includes("TIMEOUT"));
  const busyEchoes = readAllFrames(busy);
  let sent = 0;
  while (timeouts().length < 2) {
    await writeFrames(busy, [text.encode(`ping ${sent++}`)]);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await busy.closeWrite();
  assert.equal((await busyEchoes).length, sent);
  for (const conn of [silent, stalled]) {
    assert.ok(
      log.lines.includes(
        `[error] peer=10.0.0.2:${conn.localPort} TIMEOUT: Connection idle for 100 ms: no bytes moved`,
      ),
      log.lines.join("\n"),
    );
    assert.deepEqual(await readAllFrames(conn), []); // closed by the server
  }
  await until(() => server.connections === 0);
  assert.equal(timeouts().length, 2);
  assert.ok(
    log.lines.includes(
      `[done] peer=10.0.0.2:${busy.localPort} echoed ${
        (await busyEchoes).join("").length
      } bytes in ${sent} frames`,
    ),
  );
  await server.shutdown();
});

test("serveEcho() closes a peer that stops reading its echoes once it is idle", async () => {
  const listener = new MemoryListener();
  const log = memoryLog();
  const server = serveEcho(listener, { idleTimeoutMs: 30, log });
  const client = listener.dial();
  listener.accepted[0]!.writeGate = new Promise(() => {}); // never drains
  await writeFrames(client, [text.encode("x")]);
  await until(() => log.lines.some((l) => l.includes("TIMEOUT")));
  await until(() => server.connections === 0);
  await server.shutdown();
});

test("serveEcho() closes only the connection that announces an oversize frame", async () => {
  const listener = new MemoryListener();
  const log = memoryLog();
  const server = serveEcho(listener, { maxFrame: 16, log });
  const good = listener.dial();
  const bad = listener.dial();
  await bad.write(new Uint8Array([0, 0, 0, 17]));
  await until(() => log.lines.some((l) => l.includes("FRAME_TOO_LARGE")));
  assert.ok(
    log.lines.includes(
      `[error] peer=10.0.0.2:${bad.localPort} FRAME_TOO_LARGE: Cannot read frame: length 17 exceeds the limit of 16 bytes`,
    ),
  );
  await writeFrames(good, [new Uint8Array(16)]);
  await good.closeWrite();
  assert.equal((await readAllFrames(good)).length, 1);
  await server.shutdown();
});

test("serveEcho() logs a reset mid-frame and a stream cut inside a payload", async () => {
  const listener = new MemoryListener();
  const log = memoryLog();
  const server = serveEcho(listener, { log });
  const reset = listener.dial();
  await reset.write(encodeFrame(new Uint8Array(10)).subarray(0, 7));
  reset.reset();
  const cut = listener.dial();
  await cut.write(encodeFrame(new Uint8Array(10)).subarray(0, 9));
  await cut.closeWrite();
  await until(() => server.connections === 0);
  assert.ok(
    log.lines.includes(
      `[error] peer=10.0.0.2:${reset.localPort} CONNECTION_RESET: Connection reset by peer`,
    ),
    log.lines.join("\n"),
  );
  assert.ok(
    log.lines.includes(
      `[error] peer=10.0.0.2:${cut.localPort} UNEXPECTED_EOF: Cannot read frame payload: stream ended after 5 of 10 bytes`,
    ),
    log.lines.join("\n"),
  );
  await server.shutdown();
});

test("serveEcho() closes connections beyond maxConns at once and serves the rest", async () => {
  const listener = new MemoryListener();
  const log = memoryLog();
  const server = serveEcho(listener, { maxConns: 2, log });
  const first = listener.dial();
  const second = listener.dial();
  await until(() => server.connections === 2);
  const third = listener.dial();
  await until(() => log.lines.some((l) => l.startsWith("[reject]")));
  assert.ok(
    log.lines.includes(
      `[reject] peer=10.0.0.2:${third.localPort} too many connections: --max-conns 2 reached`,
    ),
  );
  assert.deepEqual(await readAllFrames(third), []);
  assert.equal(listener.accepted[2]!.closed, true);
  // Once one finishes, a new connection is served again.
  await first.closeWrite();
  assert.deepEqual(await readAllFrames(first), []);
  await until(() => server.connections === 1);
  const fourth = listener.dial();
  await writeFrames(fourth, [text.encode("in")]);
  await fourth.closeWrite();
  assert.deepEqual(await readAllFrames(fourth), ["in"]);
  await second.closeWrite();
  await server.shutdown();
});

test("EchoServer.shutdown() stops accepting, lets a busy exchange finish and aborts idle ones after the grace period", async () => {
  const listener = new MemoryListener();
  const log = memoryLog();
  const server = serveEcho(listener, { graceMs: 50, log });
  const idle = listener.dial();
  const busy = listener.dial();
  await until(() => server.connections === 2);
  const stopping = server.shutdown();
  assert.equal(listener.closed, true);
  await writeFrames(busy, [text.encode("late")]);
  await busy.closeWrite();
  assert.deepEqual(await readAllFrames(busy), ["late"]);
  await stopping;
  assert.equal(server.connections, 0);
  assert.ok(
    log.lines.includes(
      `[error] peer=10.0.0.2:${idle.localPort} ABORTED: Server shutting down`,
    ),
    log.lines.join("\n"),
  );
  assert.ok(log.lines.some((l) => l.startsWith("[done]")));
  assert.match(log.lines.find((l) => l.startsWith("[shutdown]"))!, /2 open/);
});

test("EchoServer.shutdown() called again closes the remaining connections at once", async () => {
  const listener = new MemoryListener();
  const log = memoryLog();
  const server = serveEcho(listener, { graceMs: 1_000_000, log });
  listener.dial();
  await until(() => server.connections === 1);
  const first = server.shutdown();
  await server.shutdown();
  await first;
  assert.equal(server.connections, 0);
  assert.ok(log.lines.some((l) => l.includes("ABORTED")));
});
