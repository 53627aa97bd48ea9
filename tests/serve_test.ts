import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AbortedError,
  ConnectionRejectedError,
  encodeFrame,
  encodeProxyHeaderV1,
  encodeProxyHeaderV2,
  FrameReader,
  type FrameSession,
  ProxyHeaderError,
  serve,
  type ServeErrorInfo,
  type ServeOptions,
  TimeoutError,
  UnexpectedEofError,
  writeAll,
  writeFrame,
} from "tcpframe";
import { type MemoryConn, MemoryListener, until } from "./_memory_conn.ts";

const text = new TextEncoder();
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Errors reported to onError, with the peer as `host:port`. */
function errorLog() {
  const seen: { error: unknown; peer: string }[] = [];
  const onError = (error: unknown, info: ServeErrorInfo) => {
    const addr = info.remoteAddr;
    seen.push({
      error,
      peer: addr === undefined
        ? "(none)"
        : "hostname" in addr
        ? `${addr.hostname}:${addr.port}`
        : addr.transport,
    });
  };
  return { seen, onError };
}

async function readAll(conn: MemoryConn): Promise<string[]> {
  const out: string[] = [];
  for await (const frame of new FrameReader(conn)) out.push(decode(frame));
  return out;
}

/** A handler that echoes every frame. */
async function echo({ reader, writer }: FrameSession): Promise<void> {
  for await (const frame of reader) await writer.write(frame);
}

test("serve() hands each session its reader, writer, peer and signal, then flushes, half-closes and waits for the peer's FIN", async () => {
  const listener = new MemoryListener();
  const events: string[] = [];
  let seen: FrameSession | undefined;
  const server = serve(listener, async (session) => {
    seen = session;
    const request = await session.reader.read();
    await session.writer.write(text.encode(`re: ${decode(request!)}`));
    // Returns without waiting for the peer's FIN: the server waits for it.
  });
  const client = listener.dial({ events });
  await writeFrame(client, text.encode("ping"));
  const replies = new FrameReader(client);
  assert.equal(decode((await replies.read())!), "re: ping");
  assert.equal(await replies.read(), null); // the server's FIN
  await until(() => events.includes("server fin"));
  assert.ok(!events.includes("server close"), events.join(", "));
  assert.equal(server.sessions, 1); // lingering for the client's FIN
  assert.equal(seen!.signal.aborted, false);
  await client.closeWrite();
  await until(() => server.sessions === 0);
  const at = (event: string) => events.indexOf(event);
  assert.ok(at("server fin") < at("client fin"), events.join(", "));
  assert.ok(at("client fin") < at("server close"), events.join(", "));
  assert.deepEqual(seen!.remoteAddr, client.localAddr);
  assert.equal(seen!.proxyHeader, undefined);
  assert.ok(seen!.signal.aborted); // the session is over
  assert.ok(seen!.signal.reason instanceof AbortedError);
  await server.shutdown();
});

test("serve() ends a session whose handler closed the connection itself, without an error", async () => {
  const listener = new MemoryListener();
  const { seen, onError } = errorLog();
  const server = serve(listener, async ({ reader, conn }) => {
    await reader.read();
    conn.close(); // drop this peer
  }, { onError });
  const client = listener.dial();
  await writeFrame(client, text.encode("go away"));
  assert.deepEqual(await readAll(client), []);
  await until(() => server.sessions === 0);
  assert.equal(listener.accepted[0]!.closed, true);
  assert.deepEqual(seen, []);
  await server.shutdown();
});

test("serve() closes a lingering connection after closeTimeout without reporting it", async () => {
  const listener = new MemoryListener();
  const { seen, onError } = errorLog();
  const server = serve(
    listener,
    ({ writer }) => writer.write(new Uint8Array(1)),
    {
      closeTimeout: 50,
      onError,
    },
  );
  const client = listener.dial();
  assert.equal((await readAll(client)).length, 1);
  await until(() => listener.accepted[0]!.closed, "the close");
  assert.equal(server.sessions, 0);
  assert.deepEqual(seen, []);
  await server.shutdown();
});

test("serve() reports a handler that throws with its peer, closes that session only and serves the others", async () => {
  const listener = new MemoryListener();
  const { seen, onError } = errorLog();
  const server = serve(listener, async (session) => {
    const frame = await session.reader.read();
    if (frame !== null && decode(frame) === "boom") throw new Error("bug");
    await echo(session);
  }, { onError });
  const bad = listener.dial();
  const good = listener.dial();
  await writeFrame(bad, text.encode("boom"));
  await writeFrame(good, text.encode("first"));
  await writeFrame(good, text.encode("second"));
  await good.closeWrite();
  assert.deepEqual(await readAll(bad), []);
  assert.deepEqual(await readAll(good), ["second"]);
  await until(() => server.sessions === 0);
  assert.equal(seen.length, 1);
  assert.equal((seen[0]!.error as Error).message, "bug");
  assert.equal(seen[0]!.peer, `10.0.0.2:${bad.localPort}`);
  await server.shutdown();
});

test("serve() contains an onError that throws or rejects", async () => {
  const listener = new MemoryListener();
  let calls = 0;
  const server = serve(listener, () => {
    throw new Error("handler bug");
  }, {
    onError: (() => {
      calls++;
      if (calls === 1) throw new Error("onError bug");
      return Promise.reject(new Error("async onError bug"));
    }) as ServeOptions["onError"],
  });
  listener.dial();
  await until(() => calls === 1);
  const later = listener.dial();
  await until(() => calls === 2);
  assert.deepEqual(await readAll(later), []);
  await server.shutdown();
  assert.equal(server.sessions, 0);
});

test("FrameServer.shutdown() lets sessions finish within the grace period, then aborts a handler that never returns", async () => {
  const listener = new MemoryListener();
  const { seen, onError } = errorLog();
  let stuckSignal: AbortSignal | undefined;
  const server = serve(listener, async (session) => {
    const first = await session.reader.read();
    if (first !== null && decode(first) === "stuck") {
      stuckSignal = session.signal;
      await new Promise(() => {}); // never returns, ignores its signal
    }
    await session.writer.write(first!);
    await echo(session);
  }, { onError });
  const stuck = listener.dial();
  const busy = listener.dial();
  await writeFrame(stuck, text.encode("stuck"));
  await writeFrame(busy, text.encode("one"));
  await until(() => stuckSignal !== undefined);
  const started = performance.now();
  const stopping = server.shutdown({ gracePeriod: 100 });
  assert.equal(listener.closed, true);
  await writeFrame(busy, text.encode("two"));
  await busy.closeWrite();
  assert.deepEqual(await readAll(busy), ["one", "two"]);
  await stopping;
  assert.ok(performance.now() - started >= 90);
  assert.equal(server.sessions, 0);
  assert.ok(stuckSignal!.aborted);
  assert.deepEqual(seen.map((s) => [s.peer, (s.error as Error).message]), [
    [`10.0.0.2:${stuck.localPort}`, "Server shutting down"],
  ]);
  assert.ok(seen[0]!.error instanceof AbortedError);
  assert.deepEqual(await readAll(stuck), []); // closed
});

test("FrameServer.shutdown() called again with a shorter grace period aborts at once; asyncDispose shuts down", async () => {
  const listener = new MemoryListener();
  const server = serve(listener, () => new Promise(() => {}));
  listener.dial();
  await until(() => server.sessions === 1);
  const first = server.shutdown({ gracePeriod: 1_000_000 });
  await server.shutdown({ gracePeriod: 0 });
  await first;
  assert.equal(server.sessions, 0);

  const other = new MemoryListener();
  const disposed = serve(other, echo);
  await disposed[Symbol.asyncDispose]();
  assert.equal(other.closed, true);
});

test("serve() rejects connections beyond maxConnections at once, reports them, and serves again once one closes", async () => {
  const listener = new MemoryListener();
  const { seen, onError } = errorLog();
  const server = serve(listener, echo, { maxConnections: 2, onError });
  const first = listener.dial();
  const second = listener.dial();
  await until(() => server.sessions === 2);
  const third = listener.dial();
  await until(() => seen.length === 1);
  const error = seen[0]!.error;
  assert.ok(error instanceof ConnectionRejectedError);
  assert.equal(error.code, "CONNECTION_REJECTED");
  assert.equal(error.reason, "max-connections");
  assert.equal(seen[0]!.peer, `10.0.0.2:${third.localPort}`);
  assert.equal(listener.accepted[2]!.closed, true);
  assert.deepEqual(await readAll(third), []);
  await first.closeWrite();
  assert.deepEqual(await readAll(first), []);
  await until(() => server.sessions === 1);
  const fourth = listener.dial();
  await writeFrame(fourth, text.encode("in"));
  await fourth.closeWrite();
  assert.deepEqual(await readAll(fourth), ["in"]);
  await second.closeWrite();
  await server.shutdown();
  assert.equal(seen.length, 1);
});

test("serve() closes a peer that trickles a frame by the frame deadline, while serving a real client", async () => {
  const listener = new MemoryListener();
  const { seen, onError } = errorLog();
  const server = serve(listener, echo, {
    frameTimeout: 200,
    idleTimeout: 0,
    onError,
  });
  const trickler = listener.dial();
  const real = listener.dial();
  const wire = encodeFrame(new Uint8Array(100));
  const trickling = (async () => {
    for (let i = 0; i < wire.length && seen.length === 0; i++) {
      await trickler.write(wire.subarray(i, i + 1)).catch(() => {});
      await sleep(20);
    }
  })();
  const realReplies = new FrameReader(real);
  let roundTrips = 0;
  while (seen.length === 0 && roundTrips < 1000) {
    await writeFrame(real, text.encode(`ping ${roundTrips}`));
    assert.equal(decode((await realReplies.read())!), `ping ${roundTrips}`);
    roundTrips++;
    await sleep(10);
  }
  await trickling;
  assert.ok(roundTrips > 5, `${roundTrips} round trips`);
  assert.equal(seen.length, 1);
  assert.ok(seen[0]!.error instanceof TimeoutError);
  assert.match(
    (seen[0]!.error as Error).message,
    /^Frame not complete 200 ms after its first byte: \d+ bytes arrived$/,
  );
  assert.equal(seen[0]!.peer, `10.0.0.2:${trickler.localPort}`);
  assert.deepEqual(await readAll(trickler), []);
  await real.closeWrite();
  assert.equal(await realReplies.read(), null);
  await server.shutdown();
});

test("serve() counts the frame deadline only while it waits for the peer, not while the handler works", async () => {
  const listener = new MemoryListener();
  const { seen, onError } = errorLog();
  const server = serve(listener, async ({ reader, writer }) => {
    for await (const frame of reader) {
      await sleep(300); // slow work: the next frame's bytes wait in the buffer
      await writer.write(frame);
    }
  }, { frameTimeout: 100, idleTimeout: 0, onError });
  const client = listener.dial();
  const one = encodeFrame(new Uint8Array(10));
  const two = encodeFrame(new Uint8Array(10));
  // The first frame and half of the second arrive in one read.
  await writeAll(client, new Uint8Array([...one, ...two.subarray(0, 7)]));
  await sleep(150);
  await writeAll(client, two.subarray(7));
  await client.closeWrite();
  assert.equal((await readAll(client)).length, 2);
  assert.deepEqual(seen, []);
  await server.shutdown();
});

test("serve() minReceiveRate closes a frame that arrives too slowly once it took a second", async () => {
  const listener = new MemoryListener();
  const { seen, onError } = errorLog();
  const server = serve(listener, echo, {
    minReceiveRate: 1000,
    frameTimeout: 0,
    idleTimeout: 0,
    onError,
  });
  const slow = listener.dial();
  const fast = listener.dial();
  const wire = encodeFrame(new Uint8Array(5000));
  const started = performance.now();
  const sending = (async () => {
    for (let at = 0; at < wire.length && seen.length === 0; at += 20) {
      await slow.write(wire.subarray(at, at + 20)).catch(() => {});
      await sleep(50); // about 400 B/s
    }
  })();
  await writeAll(fast, encodeFrame(new Uint8Array(100_000)));
  await fast.closeWrite();
  assert.equal((await readAll(fast)).length, 1);
  await until(() => seen.length === 1, "the slow frame's close");
  await sending;
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 1000, `closed after ${elapsed} ms`);
  assert.ok(seen[0]!.error instanceof TimeoutError);
  assert.match(
    (seen[0]!.error as Error).message,
    /^Frame arriving at \d+ B\/s, under the minimum of 1000 B\/s: \d+ bytes in \d+ ms$/,
  );
  assert.equal(seen[0]!.peer, `10.0.0.2:${slow.localPort}`);
  await server.shutdown();
});

test("serve() closes an idle connection with its signal's reason reaching the handler", async () => {
  const listener = new MemoryListener();
  const { seen, onError } = errorLog();
  let caught: unknown;
  const server = serve(listener, async ({ reader }) => {
    try {
      await reader.read();
    } catch (error) {
      caught = error;
      throw error;
    }
  }, { idleTimeout: 60, onError });
  listener.dial();
  await until(() => server.sessions === 0 && caught !== undefined);
  assert.equal(seen.length, 1);
  assert.equal(
    (seen[0]!.error as Error).message,
    "Connection idle for 60 ms: no bytes moved",
  );
  assert.equal(caught, seen[0]!.error); // reported once, as the reason
  await server.shutdown();
});

test("serve() sets TCP_NODELAY and keepalive on accepted connections", async () => {
  for (const keepAlive of [true, false, undefined]) {
    const listener = new MemoryListener();
    const server = serve(listener, echo, { keepAlive });
    const client = listener.dial();
    await client.closeWrite();
    await readAll(client);
    const conn = listener.accepted[0]!;
    assert.equal(conn.noDelay, true);
    assert.equal(conn.keepAlive, keepAlive);
    await server.shutdown();
  }
  const listener = new MemoryListener();
  const server = serve(listener, echo, { noDelay: false });
  const client = listener.dial();
  await client.closeWrite();
  await readAll(client);
  assert.equal(listener.accepted[0]!.noDelay, false);
  await server.shutdown();
});

test("serve() with proxyProtocol gives the session the client's address from a v1 or v2 header", async () => {
  const cases = [
    encodeProxyHeaderV1({
      source: { transport: "tcp", hostname: "192.0.2.7", port: 56324 },
      destination: { transport: "tcp", hostname: "198.51.100.1", port: 443 },
    }),
    encodeProxyHeaderV2({
      source: { transport: "tcp", hostname: "2001:db8::7", port: 1234 },
      destination: { transport: "tcp", hostname: "2001:db8::1", port: 443 },
    }),
    encodeProxyHeaderV2({
      source: { transport: "unix", path: "/run/client.sock" },
      destination: { transport: "unix", path: "/run/front.sock" },
    }),
    encodeProxyHeaderV2({ command: "LOCAL" }),
  ];
  const expected = [
    { transport: "tcp", hostname: "192.0.2.7", port: 56324 },
    { transport: "tcp", hostname: "2001:db8::7", port: 1234 },
    { transport: "unix", path: "/run/client.sock" },
    undefined, // LOCAL: the connection's own peer
  ];
  const listener = new MemoryListener();
  const peers: unknown[] = [];
  const server = serve(listener, async (session) => {
    peers.push(session.remoteAddr);
    assert.ok(session.proxyHeader !== undefined);
    await echo(session);
  }, { proxyProtocol: "any" });
  for (const [i, header] of cases.entries()) {
    const client = listener.dial();
    // The header and the first frame in one write, as a balancer may.
    await writeAll(
      client,
      new Uint8Array([...header, ...encodeFrame(text.encode(`f${i}`))]),
    );
    await client.closeWrite();
    assert.deepEqual(await readAll(client), [`f${i}`]);
    assert.deepEqual(peers[i], expected[i] ?? client.localAddr);
  }
  await server.shutdown();
});

test("serve() with proxyProtocol refuses a connection without a valid header, with a typed error", async () => {
  const listener = new MemoryListener();
  const { seen, onError } = errorLog();
  let handled = 0;
  const server = serve(listener, () => void handled++, {
    proxyProtocol: 2,
    proxyHeaderTimeout: 100,
    maxProxyHeaderBytes: 1024,
    onError,
  });
  const v1 = encodeProxyHeaderV1({
    source: { transport: "tcp", hostname: "192.0.2.7", port: 1 },
    destination: { transport: "tcp", hostname: "192.0.2.8", port: 2 },
  });
  const v2 = encodeProxyHeaderV2({
    source: { transport: "tcp", hostname: "192.0.2.7", port: 1 },
    destination: { transport: "tcp", hostname: "192.0.2.8", port: 2 },
  });
  const oversized = v2.slice(0, 16);
  new DataView(oversized.buffer).setUint16(14, 2000); // over 1024 in all
  const clients: [string, (c: MemoryConn) => Promise<void>][] = [
    ["garbage", (c) => writeAll(c, text.encode("GET / HTTP/1.1\r\n\r\n"))],
    ["v1 when v2 is required", (c) => writeAll(c, v1)],
    ["oversized", (c) => writeAll(c, oversized)],
    ["truncated", async (c) => {
      await writeAll(c, v2.subarray(0, 20));
      await c.closeWrite();
    }],
    ["silent", () => Promise.resolve()],
  ];
  const conns: MemoryConn[] = [];
  for (const [, send] of clients) {
    const conn = listener.dial();
    conns.push(conn);
    await send(conn);
  }
  await until(() => seen.length === clients.length, "every refusal");
  for (const conn of conns) assert.deepEqual(await readAll(conn), []);
  const byPeer = new Map(seen.map((s) => [s.peer, s.error]));
  const errorOf = (i: number) => byPeer.get(`10.0.0.2:${conns[i]!.localPort}`);
  for (const i of [0, 1, 2]) {
    assert.ok(errorOf(i) instanceof ProxyHeaderError, clients[i]![0]);
  }
  assert.ok(errorOf(3) instanceof UnexpectedEofError);
  assert.ok(errorOf(4) instanceof TimeoutError);
  assert.equal(
    (errorOf(4) as Error).message,
    "PROXY header not received within 100 ms",
  );
  assert.equal(handled, 0);
  await server.shutdown();
});

test("serve() reports a failed accept() without a peer and keeps accepting", async () => {
  const inner = new MemoryListener();
  let failures = 1;
  const listener = {
    addr: inner.addr,
    accept() {
      if (failures-- > 0) {
        return Promise.reject(
          Object.assign(new Error("accept EMFILE"), { code: "EMFILE" }),
        );
      }
      return inner.accept();
    },
    close: () => inner.close(),
    [Symbol.asyncIterator]: () => inner[Symbol.asyncIterator](),
  };
  const { seen, onError } = errorLog();
  const server = serve(listener, echo, { onError });
  const client = inner.dial();
  await writeFrame(client, text.encode("after"));
  await client.closeWrite();
  assert.deepEqual(await readAll(client), ["after"]);
  assert.deepEqual(seen.map((s) => [s.peer, (s.error as Error).message]), [
    ["(none)", "accept EMFILE"],
  ]);
  await server.shutdown();
});

test("serve() stops when its signal aborts, and at once when it is already aborted", async () => {
  const listener = new MemoryListener();
  const controller = new AbortController();
  const server = serve(listener, echo, { signal: controller.signal });
  controller.abort();
  await server.finished;
  assert.equal(listener.closed, true);
  const other = new MemoryListener();
  await serve(other, echo, { signal: AbortSignal.abort() }).finished;
  assert.equal(other.closed, true);
});

test("serve() refuses a bad listener, handler or option at once", () => {
  const listener = new MemoryListener();
  assert.throws(() => serve({} as MemoryListener, echo), TypeError);
  assert.throws(
    () => serve(listener, "echo" as unknown as typeof echo),
    TypeError,
  );
  const bad: [ServeOptions, ErrorConstructor][] = [
    [{ maxConnections: 0 }, RangeError],
    [{ maxConnections: 1.5 }, RangeError],
    [{ idleTimeout: -1 }, RangeError],
    [{ frameTimeout: Number.NaN }, RangeError],
    [{ minReceiveRate: -1 }, RangeError],
    [{ proxyProtocol: 3 as 2 }, RangeError],
    [{ proxyProtocol: 1, maxProxyHeaderBytes: 10 }, RangeError],
    [{ highWaterMark: 0 }, RangeError],
    [{ maxFrameSize: -1 }, RangeError],
    [{ lengthFieldOffset: 1, bytesToStrip: 0 }, TypeError], // decode-only
  ];
  for (const [options, type] of bad) {
    assert.throws(
      () => serve(listener, echo, options),
      type,
      JSON.stringify(options),
    );
  }
  assert.equal(listener.closed, false);
  const server = serve(listener, echo);
  assert.throws(() => server.shutdown({ gracePeriod: -1 }), RangeError);
  return server.shutdown({ gracePeriod: 0 });
});
