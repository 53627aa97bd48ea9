import { test } from "node:test";
import assert from "node:assert/strict";
import { type Conn, FrameReader, writeFrame } from "tcpframe";
import { EchoExchange } from "../../src/echo/exchange.ts";
import { serveEcho } from "../../src/echo/server.ts";
import { CountingConn } from "../../src/echo/counting_conn.ts";
import { MemoryListener, memoryLog } from "./_memory.ts";

/** A listener with the echo server on it; stop with `server.shutdown()`. */
function echoServer() {
  const listener = new MemoryListener();
  const server = serveEcho(listener, { graceMs: 0, maxFrame: 4_000_000 });
  return { listener, server };
}

/** Serves each connection with `handler` instead of the echo server. */
function customServer(handler: (conn: Conn) => Promise<void>): MemoryListener {
  const listener = new MemoryListener();
  (async () => {
    for (;;) {
      let conn: Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      handler(conn).catch(() => {}).finally(() => conn.close());
    }
  })();
  return listener;
}

test("EchoExchange sends every message in one write, half-closes and logs each echo", async () => {
  const { listener, server } = echoServer();
  const events: string[] = [];
  const conn = listener.dial({ events });
  const log = memoryLog();
  const result = await new EchoExchange(conn, {
    kind: "messages",
    messages: ["HELLO-WORLD", "", "second frame"],
  }, { log }).run();
  assert.deepEqual(result, {
    outcome: "ok",
    message: "",
    framesSent: 3,
    bytesSent: 23,
    framesEchoed: 3,
    bytesEchoed: 23,
  });
  assert.deepEqual(log.lines, [
    "[echoed] HELLO-WORLD",
    "[echoed] ",
    "[echoed] second frame",
  ]);
  const clientEvents = events.filter((e) => e.startsWith("client"));
  assert.deepEqual(clientEvents.slice(0, 2), ["client write 35", "client fin"]);
  conn.close();
  await server.shutdown();
});

test("EchoExchange verifies generated payloads by checksum across short writes", async () => {
  const { listener, server } = echoServer();
  const conn = new CountingConn(listener.dial({ clientMaxWrite: 5000 }));
  const log = memoryLog();
  const result = await new EchoExchange(
    conn,
    { kind: "generated", size: 100_000, count: 30 },
    { log, maxFrame: 4_000_000 },
  ).run();
  assert.equal(result.outcome, "ok", result.message);
  assert.equal(result.framesEchoed, 30);
  assert.equal(result.bytesEchoed, 3_000_000);
  assert.deepEqual(log.lines, []); // generated payloads are not printed
  assert.ok(conn.stats.shortWrites > 0);
  assert.equal(conn.stats.bytesWritten, 30 * 100_004);
  conn.close();
  await server.shutdown();
});

test("EchoExchange says so when the server echoes only the first frame (the source's echo.cpp)", async () => {
  const listener = customServer(async (conn) => {
    const frame = await new FrameReader(conn).read();
    await writeFrame(conn, frame!);
    await conn.closeWrite();
  });
  const conn = listener.dial();
  const log = memoryLog();
  const result = await new EchoExchange(conn, {
    kind: "messages",
    messages: ["one", "two", "three"],
  }, { log }).run();
  assert.equal(result.outcome, "receive-failed");
  assert.equal(
    result.message,
    "Server closed the connection after echoing 1 of 3 frames",
  );
  assert.deepEqual(log.lines, ["[echoed] one"]);
  conn.close();
  listener.close();
});

test("EchoExchange reports an echo that differs from what was sent", async () => {
  const listener = customServer(async (conn) => {
    for await (const frame of new FrameReader(conn)) {
      frame.reverse();
      await writeFrame(conn, frame);
    }
    await conn.closeWrite();
  });
  for (
    const [payloads, message] of [
      [
        { kind: "messages", messages: ["ab", "abc"] },
        'Echo 1 differs from frame 1 sent: got "ba" (2 bytes), expected "ab" (2 bytes)',
      ],
      [
        { kind: "generated", size: 64, count: 2 },
        /^Echo 1 differs from frame 1 sent: FNV-1a [0-9a-f]{8} over 64 bytes, expected [0-9a-f]{8}$/,
      ],
    ] as const
  ) {
    const conn = listener.dial();
    const result = await new EchoExchange(conn, payloads).run();
    assert.equal(result.outcome, "receive-failed");
    if (typeof message === "string") assert.equal(result.message, message);
    else assert.match(result.message, message);
    conn.close();
  }
  listener.close();
});

test("EchoExchange reports more echoes than frames sent", async () => {
  const listener = customServer(async (conn) => {
    for await (const frame of new FrameReader(conn)) {
      await writeFrame(conn, frame);
      await writeFrame(conn, frame);
    }
    await conn.closeWrite();
  });
  const conn = listener.dial();
  const result = await new EchoExchange(conn, {
    kind: "messages",
    messages: ["x"],
  }).run();
  assert.equal(result.outcome, "receive-failed");
  assert.equal(
    result.message,
    "Server sent echo 2, but only 1 frames were sent",
  );
  conn.close();
  listener.close();
});

test("EchoExchange reports a reset while receiving as a receive failure", async () => {
  const listener = customServer(async (conn) => {
    const frame = await new FrameReader(conn).read();
    await writeFrame(conn, frame!);
    (conn as unknown as { reset(): void }).reset();
  });
  const conn = listener.dial();
  const result = await new EchoExchange(conn, {
    kind: "messages",
    messages: ["a", "b"],
  }).run();
  assert.equal(result.outcome, "receive-failed");
  assert.match(
    result.message,
    /^CONNECTION_RESET: Connection reset by peer \(after [01] of 2 echoes\)$/,
  );
  conn.close();
  listener.close();
});

test("EchoExchange reports a failed write as a send failure", async () => {
  const listener = customServer(() => new Promise(() => {})); // never answers
  const conn = listener.dial();
  conn.writeGate = Promise.reject(
    Object.assign(new Error("Broken pipe (os error 32)"), {
      name: "BrokenPipe",
    }),
  );
  conn.writeGate.catch(() => {});
  const result = await new EchoExchange(conn, {
    kind: "messages",
    messages: ["a"],
  }).run();
  assert.equal(result.outcome, "send-failed");
  assert.equal(
    result.message,
    "BROKEN_PIPE: Broken pipe: the connection is closed for writing (after sending 0 of 1 frames)",
  );
  conn.close();
  listener.close();
});

test("EchoExchange blames the side that was not done when its signal aborts", async () => {
  const silent = customServer(() => new Promise(() => {})); // reads nothing
  // Sending is stuck: the peer does not read.
  const stuck = silent.dial();
  stuck.writeGate = new Promise(() => {});
  const deadline = new AbortController();
  const sending = new EchoExchange(stuck, {
    kind: "messages",
    messages: ["a"],
  }, { signal: deadline.signal }).run();
  deadline.abort(new Error("deadline"));
  const sendResult = await sending;
  assert.equal(sendResult.outcome, "send-failed");
  assert.equal(
    sendResult.message,
    "Error: deadline (after sending 0 of 1 frames)",
  );
  stuck.close();
  // Everything is sent; the echoes never come.
  const waiting = silent.dial();
  const late = new AbortController();
  const exchange = new EchoExchange(waiting, {
    kind: "messages",
    messages: ["a"],
  }, { signal: late.signal });
  const receiving = exchange.run();
  while (exchange.framesSent === 0) await new Promise((r) => setTimeout(r, 1));
  late.abort(new Error("deadline"));
  const receiveResult = await receiving;
  assert.equal(receiveResult.outcome, "receive-failed");
  assert.equal(receiveResult.message, "Error: deadline (after 0 of 1 echoes)");
  waiting.close();
  silent.close();
});

test("EchoExchange sends lines as they arrive and echoes each", async () => {
  const { listener, server } = echoServer();
  const conn = listener.dial();
  const log = memoryLog();
  async function* lines() {
    yield "first";
    // The first echo is back before the next line is read.
    while (log.lines.length === 0) await new Promise((r) => setTimeout(r, 1));
    yield "second";
  }
  const result = await new EchoExchange(conn, {
    kind: "lines",
    lines: lines(),
  }, { log }).run();
  assert.equal(result.outcome, "ok", result.message);
  assert.deepEqual(log.lines, ["[echoed] first", "[echoed] second"]);
  conn.close();
  await server.shutdown();
});

test("EchoExchange.run() refuses to run twice", async () => {
  const { listener, server } = echoServer();
  const conn = listener.dial();
  const exchange = new EchoExchange(conn, { kind: "messages", messages: [] });
  assert.equal((await exchange.run()).outcome, "ok");
  await assert.rejects(exchange.run(), /Cannot run an exchange twice/);
  conn.close();
  await server.shutdown();
});
