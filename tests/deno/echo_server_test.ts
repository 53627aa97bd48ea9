// The echo server (runCli with Deno's runtime, in this process) over real
// TCP connections on 127.0.0.1.
import assert from "node:assert/strict";
import { connect as nodeConnect, type Socket } from "node:net";
import { encodeFrame, FrameReader, writeFrames } from "tcpframe";
import { pseudoRandomBytes } from "../_fixtures.ts";
import { runClient, runInProcess, startServer } from "./_echo.ts";

const text = new TextEncoder();

async function dial(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  return conn;
}

/** Reads frames until the end of stream, or until the connection fails. */
async function drain(conn: Deno.Conn): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  try {
    for await (
      const frame of new FrameReader(conn, { maxFrameSize: 8 << 20 })
    ) frames.push(frame);
  } catch (error) {
    if (!(error instanceof Error && error.name === "ConnectionResetError")) {
      throw error;
    }
  }
  return frames;
}

Deno.test("echo server serves 100 concurrent clients, each frame intact", async () => {
  const server = await startServer("--max-frame", "30000");
  try {
    const clients = 100;
    const results = await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        const payloads = Array.from(
          { length: 20 },
          (_, i) => pseudoRandomBytes((c * 7919 + i * 104729) % 30_000, c + i),
        );
        const conn = await dial(server.port);
        try {
          const echoed = drain(conn);
          await writeFrames(conn, payloads, { maxFrameSize: 30_000 });
          await conn.closeWrite();
          return { payloads, echoed: await echoed };
        } finally {
          conn.close();
        }
      }),
    );
    for (const { payloads, echoed } of results) {
      assert.deepEqual(echoed, payloads);
    }
    await server.stdout.waitForCount(/^\[done\]/, clients);
    assert.equal(
      server.stdout.lines.filter((l) => l.startsWith("[accept]")).length,
      clients,
    );
    assert.equal(server.stderr.text, "");
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

Deno.test("echo server closes a silent peer and one stalled inside a header, and keeps serving", async () => {
  const server = await startServer("--idle-timeout", "300");
  const silent = await dial(server.port);
  const stalled = await dial(server.port);
  const busy = await dial(server.port);
  try {
    await stalled.write(new Uint8Array([0, 0, 0])); // 3 of 4 header bytes
    const busyEchoes = drain(busy);
    const timeouts = () =>
      server.stderr.lines.filter((l) => l.includes(" TIMEOUT: "));
    let sent = 0;
    // The busy peer keeps talking until both others have been closed.
    while (timeouts().length < 2) {
      await writeFrames(busy, [text.encode(`ping ${sent++}`)]);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await busy.closeWrite();
    assert.equal((await busyEchoes).length, sent);
    for (const conn of [silent, stalled]) {
      const port = (conn.localAddr as Deno.NetAddr).port;
      assert.ok(
        server.stderr.lines.includes(
          `[error] peer=127.0.0.1:${port} TIMEOUT: Connection idle for 300 ms: no bytes moved`,
        ),
        server.stderr.text,
      );
      assert.deepEqual(await drain(conn), []); // the server closed it
    }
    const busyPort = (busy.localAddr as Deno.NetAddr).port;
    await server.stdout.waitFor(
      new RegExp(
        `^\\[done\\] peer=127\\.0\\.0\\.1:${busyPort} echoed \\d+ bytes in ${sent} frames$`,
      ),
    );
  } finally {
    for (const conn of [silent, stalled, busy]) conn.close();
    assert.equal(await server.stop(), 0);
  }
});

Deno.test("echo server closes only the connection that announces an oversize frame", async () => {
  const server = await startServer("--max-frame", "1024");
  const good = await dial(server.port);
  const bad = await dial(server.port);
  try {
    await bad.write(new Uint8Array([0, 0, 4, 1])); // 1025
    const badPort = (bad.localAddr as Deno.NetAddr).port;
    await server.stderr.waitFor(
      new RegExp(
        `^\\[error\\] peer=127\\.0\\.0\\.1:${badPort} FRAME_TOO_LARGE: Cannot read frame: length 1025 exceeds the limit of 1024 bytes$`,
      ),
    );
    assert.deepEqual(await drain(bad), []);
    const payload = pseudoRandomBytes(1024, 3);
    const echoed = drain(good);
    await writeFrames(good, [payload]);
    await good.closeWrite();
    assert.deepEqual(await echoed, [payload]);
  } finally {
    good.close();
    bad.close();
    assert.equal(await server.stop(), 0);
  }
});

Deno.test("echo server logs a peer's reset mid-frame and goes on serving", async () => {
  const server = await startServer();
  try {
    // Deno cannot send a RST; node:net's resetAndDestroy() (SO_LINGER 0) can.
    const socket: Socket = nodeConnect(server.port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve).once("error", reject);
    });
    const port = socket.localPort!;
    await server.stdout.waitFor(
      new RegExp(`^\\[accept\\] peer=127\\.0\\.0\\.1:${port}$`),
    );
    await new Promise<void>((resolve) =>
      socket.write(
        encodeFrame(new Uint8Array(100)).subarray(0, 50),
        () => resolve(),
      )
    );
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.resetAndDestroy();
    await closed;
    await server.stderr.waitFor(
      new RegExp(
        `^\\[error\\] peer=127\\.0\\.0\\.1:${port} CONNECTION_RESET: Connection reset by peer$`,
      ),
    );
    const conn = await dial(server.port);
    const echoed = drain(conn);
    await writeFrames(conn, [text.encode("after the reset")]);
    await conn.closeWrite();
    assert.deepEqual(await echoed, [text.encode("after the reset")]);
    conn.close();
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

Deno.test("echo server keeps a half-closed peer's echoes flowing, then sends its FIN", async () => {
  const server = await startServer("--max-frame", "2000000");
  const conn = await dial(server.port);
  try {
    const port = (conn.localAddr as Deno.NetAddr).port;
    const frames = new FrameReader(conn, { maxFrameSize: 2_000_000 });
    // 1. Echoes flow while the connection is open both ways.
    await writeFrames(conn, [text.encode("first")]);
    assert.deepEqual(await frames.read(), text.encode("first"));
    // 2. The server has not closed: it waits for our FIN, not for a frame.
    assert.ok(!server.stdout.lines.some((l) => l.startsWith("[done]")));
    // 3. A large last frame and our FIN together, before reading anything:
    //    the server sees the end of stream while its echo is still going out.
    const big = pseudoRandomBytes(1_500_000, 9);
    await writeFrames(conn, [big], { maxFrameSize: 2_000_000 });
    await conn.closeWrite();
    assert.deepEqual(await frames.read(), big);
    // 4. Only then its FIN: a clean end of stream at a frame boundary.
    assert.equal(await frames.read(), null);
    await server.stdout.waitFor(
      new RegExp(
        `^\\[done\\] peer=127\\.0\\.0\\.1:${port} echoed 1500005 bytes in 2 frames$`,
      ),
    );
  } finally {
    conn.close();
    assert.equal(await server.stop(), 0);
  }
});

Deno.test("echo server --max-conns closes a connection beyond the limit at once", async () => {
  const server = await startServer("--max-conns", "2");
  const first = await dial(server.port);
  const second = await dial(server.port);
  const conns = [first, second];
  try {
    await server.stdout.waitForCount(/^\[accept\]/, 2);
    const third = await dial(server.port);
    conns.push(third);
    const port = (third.localAddr as Deno.NetAddr).port;
    await server.stderr.waitFor(
      new RegExp(
        `^\\[reject\\] peer=127\\.0\\.0\\.1:${port} too many connections: --max-conns 2 reached$`,
      ),
    );
    assert.deepEqual(await drain(third), []);
    for (const conn of [first, second]) {
      const echoed = drain(conn);
      await writeFrames(conn, [text.encode("served")]);
      await conn.closeWrite();
      assert.deepEqual(await echoed, [text.encode("served")]);
    }
  } finally {
    for (const conn of conns) conn.close();
    assert.equal(await server.stop(), 0);
  }
});

/** Why `hostname` cannot be bound here, or undefined when it can. */
function cannotBind(hostname: string): string | undefined {
  try {
    Deno.listen({ hostname, port: 0 }).close();
    return undefined;
  } catch (error) {
    return `cannot bind ${hostname} here: ${(error as Error).message}`;
  }
}

/** A test that is skipped, with its reason in the name, when `why` is set. */
function testUnless(
  why: string | undefined,
  name: string,
  fn: () => Promise<void>,
): void {
  if (why === undefined) Deno.test(name, fn);
  else Deno.test({ name: `${name} (skipped: ${why})`, ignore: true, fn });
}

testUnless(
  cannotBind("::"),
  "echo server on :: accepts IPv4 too where the OS allows",
  async () => {
    const run = runInProcess(["server", "::", "0"]);
    const line = await run.stdout.waitFor(/^\[listen-ok\] /, 10_000, run.exit);
    const port = Number(line.match(/^\[listen-ok\] \[::\]:(\d+)$/)![1]);
    try {
      const conn = await dial(port);
      const echoed = drain(conn);
      await writeFrames(conn, [text.encode("v4 to ::")]);
      await conn.closeWrite();
      assert.deepEqual(await echoed, [text.encode("v4 to ::")]);
      conn.close();
      await run.stdout.waitFor(
        /^\[done\] peer=\[::ffff:127\.0\.0\.1\]:\d+ echoed 8 bytes in 1 frames$/,
      );
    } finally {
      run.signal();
      assert.equal(await run.exit, 0);
    }
  },
);

testUnless(
  cannotBind("::1"),
  "echo server and client on ::1 print IPv6 addresses in brackets",
  async () => {
    const run = runInProcess(["server", "::1", "0"]);
    const line = await run.stdout.waitFor(/^\[listen-ok\] /, 10_000, run.exit);
    const port = Number(line.match(/^\[listen-ok\] \[::1\]:(\d+)$/)![1]);
    try {
      const result = await runClient(["::1", String(port), "six"]);
      assert.equal(result.code, 0, result.stderr.join("\n"));
      assert.deepEqual(result.stdout, [
        `[connected] [::1]:${port}`,
        "[echoed] six",
      ]);
      await run.stdout.waitFor(
        /^\[done\] peer=\[::1\]:\d+ echoed 3 bytes in 1 frames$/,
      );
      assert.match(run.stdout.text, /^\[accept\] peer=\[::1\]:\d+$/m);
    } finally {
      run.signal();
      assert.equal(await run.exit, 0);
    }
  },
);

testUnless(
  cannotBind("::1"),
  "echo client takes the IPv6 address the server printed: [::1]:<port>, and [::1] <port>",
  async () => {
    const run = runInProcess(["server", "::1", "0"]);
    try {
      const line = await run.stdout.waitFor(
        /^\[listen-ok\] /,
        10_000,
        run.exit,
      );
      const printed = line.slice("[listen-ok] ".length);
      const port = printed.match(/^\[::1\]:(\d+)$/)![1]!;
      for (const address of [[printed], ["[::1]", port]]) {
        const result = await runClient([...address, "hi"]);
        assert.equal(result.code, 0, result.stderr.join("\n"));
        assert.deepEqual(result.stdout, [
          `[connected] ${printed}`,
          "[echoed] hi",
        ]);
      }
    } finally {
      run.signal();
      assert.equal(await run.exit, 0);
    }
  },
);
