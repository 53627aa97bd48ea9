// The echo client (runCli with Deno's runtime, in this process) over real
// TCP connections on 127.0.0.1: exit codes 0, 1, 2 and 3.
import assert from "node:assert/strict";
import { FrameReader } from "tcpframe";
import { runClient, startServer } from "./_echo.ts";

/** A one-connection server on 127.0.0.1 that runs `handler`, then closes. */
function oneShotServer(handler: (conn: Deno.TcpConn) => Promise<void>): {
  port: number;
  done: Promise<void>;
} {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    try {
      const conn = await listener.accept();
      try {
        await handler(conn);
      } finally {
        conn.close();
      }
    } finally {
      listener.close();
    }
  })();
  return { port: listener.addr.port, done };
}

Deno.test("echo client exits 0 after every echo, printing each as [echoed]", async () => {
  const server = await startServer();
  try {
    const result = await runClient([
      "127.0.0.1",
      String(server.port),
      "HELLO-WORLD",
      "two words",
      "",
    ]);
    assert.equal(result.code, 0, result.stderr.join("\n"));
    assert.deepEqual(result.stdout, [
      `[connected] 127.0.0.1:${server.port}`,
      "[echoed] HELLO-WORLD",
      "[echoed] two words",
      "[echoed] ",
    ]);
    assert.deepEqual(result.stderr, []);
  } finally {
    await server.stop();
  }
});

Deno.test("echo client resolves localhost and tries each address in turn", async () => {
  const server = await startServer();
  try {
    const result = await runClient(["localhost", String(server.port), "hi"]);
    assert.equal(result.code, 0, result.stderr.join("\n"));
    assert.ok(
      result.stdout.includes(`[connected] 127.0.0.1:${server.port}`),
      result.stdout.join("\n"),
    );
    // Any address of localhost other than 127.0.0.1 (::1) failed first.
    for (const line of result.stderr) {
      assert.match(line, /^\[connect-fail\] .+ to \[::1\]:\d+$/);
    }
  } finally {
    await server.stop();
  }
});

Deno.test("echo client --size/--count --trace verifies 8 MiB by checksum and prints the I/O counts", async () => {
  const server = await startServer();
  try {
    const result = await runClient([
      String(server.port),
      "--size",
      "1048576",
      "--count",
      "8",
      "--trace",
    ]);
    assert.equal(result.code, 0, result.stderr.join("\n"));
    assert.match(
      result.stdout[1]!,
      /^\[verified\] 8 frames of 1048576 bytes echoed intact \(FNV-1a checksums match\)/,
    );
    const reads = result.stdout[3]!.match(
      /^\[trace\] reads: (\d+) calls \((\d+) short\), 8388640 bytes, 8 frames$/,
    );
    assert.ok(reads, result.stdout.join("\n"));
    assert.match(
      result.stdout[2]!,
      /^\[trace\] writes: \d+ calls \(\d+ short\), 8388640 bytes, 8 frames$/,
    );
  } finally {
    await server.stop();
  }
});

Deno.test("echo client exits 1 when the connection is refused", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close(); // nobody listens there now
  const result = await runClient(["127.0.0.1", String(port), "x"]);
  assert.equal(result.code, 1);
  assert.deepEqual(result.stdout, []);
  assert.match(
    result.stderr[0]!,
    new RegExp(
      `^\\[connect-fail\\] Connection refused to 127\\.0\\.0\\.1:${port}$`,
    ),
  );
  assert.equal(
    result.stderr[1],
    `[error] connect: Cannot connect to 127.0.0.1 port ${port}: the address failed`,
  );
});

Deno.test("echo client exits 2 when its frames cannot be sent before the deadline", async () => {
  // The server accepts and never reads: the send buffers fill up.
  let release = () => {};
  const server = oneShotServer(() =>
    new Promise<void>((resolve) => (release = resolve))
  );
  const result = await runClient([
    "127.0.0.1",
    String(server.port),
    "--size",
    "1048576",
    "--count",
    "64",
    "--timeout",
    "500",
  ]);
  release();
  await server.done;
  assert.equal(result.code, 2);
  assert.equal(result.stderr.length, 1, result.stderr.join("\n"));
  assert.match(
    result.stderr[0]!,
    /^\[error\] send: TIMEOUT: Deadline of 500 ms passed \(--timeout\) \(after sending \d+ of 64 frames\)$/,
  );
});

Deno.test("echo client exits 3 when the server closes without echoing", async () => {
  const server = oneShotServer(async (conn) => {
    for await (const _ of new FrameReader(conn)); // read to the client's FIN
    await conn.closeWrite();
  });
  const result = await runClient(["127.0.0.1", String(server.port), "a", "b"]);
  await server.done;
  assert.equal(result.code, 3);
  assert.deepEqual(result.stderr, [
    "[error] receive: Server closed the connection after echoing 0 of 2 frames",
  ]);
});

Deno.test("echo client exits 3 when the server stalls past the deadline", async () => {
  let release = () => {};
  const server = oneShotServer(async (conn) => {
    for await (const _ of new FrameReader(conn));
    await new Promise<void>((resolve) => (release = resolve)); // no echo
  });
  const result = await runClient([
    "127.0.0.1",
    String(server.port),
    "x",
    "--timeout",
    "300",
  ]);
  release();
  await server.done;
  assert.equal(result.code, 3);
  assert.deepEqual(result.stderr, [
    "[error] receive: TIMEOUT: Deadline of 300 ms passed (--timeout) (after 0 of 1 echoes)",
  ]);
});
