// The echo CLI as a real process, started with the `echo` task's command line
// (its permissions included) and stopped by its own PID.
import assert from "node:assert/strict";
import { writeFrames } from "tcpframe";
import {
  type CliProcess,
  runClient,
  spawnCli,
  startServerProcess,
} from "./_echo.ts";

/** No uncaught error, no stack trace. */
function assertNoStackTrace(process: CliProcess): void {
  const all = process.stdout.text + process.stderr.text;
  assert.doesNotMatch(all, /^\s+at /m, all);
  assert.doesNotMatch(all, /Uncaught|error: Uncaught|panicked/, all);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`echo CLI server exits 0 on ${signal}, closing an idle connection after the grace period`, async () => {
    const { process, port } = await startServerProcess();
    try {
      // One finished exchange, and one connection left open and idle.
      const result = await runClient([String(port), "before the signal"]);
      assert.equal(result.code, 0);
      const idle = await Deno.connect({ hostname: "127.0.0.1", port });
      await process.stdout.waitForCount(/^\[accept\]/, 2);
      process.child.kill(signal);
      const status = await process.status;
      idle.close();
      assert.equal(status.code, 0, process.stderr.text);
      assert.equal(status.success, true);
      assert.match(
        process.stdout.text,
        /^\[shutdown\] stopped accepting; 1 open connections get 2000 ms to finish$/m,
      );
      assert.match(process.stdout.text, /^\[shutdown\] done$/m);
      assert.match(
        process.stderr.text,
        /^\[error\] peer=127\.0\.0\.1:\d+ ABORTED: Server shutting down$/m,
      );
      assertNoStackTrace(process);
    } finally {
      await process.kill();
    }
  });
}

Deno.test("echo CLI client and server processes talk, stdin lines included", async () => {
  const { process: server, port } = await startServerProcess();
  try {
    const client = await spawnCli([
      "client",
      String(port),
      "HELLO-WORLD",
      "second frame",
    ]);
    const status = await client.status;
    assert.equal(status.code, 0, client.stderr.text);
    assert.equal(
      client.stdout.text,
      `[connected] 127.0.0.1:${port}\n[echoed] HELLO-WORLD\n[echoed] second frame\n`,
    );
    // --stdin: one frame per line of standard input.
    const lines = await spawnCli(
      ["client", String(port), "--stdin"],
      "one\r\ntwo\nthree",
    );
    assert.equal((await lines.status).code, 0, lines.stderr.text);
    assert.equal(
      lines.stdout.text,
      `[connected] 127.0.0.1:${port}\n[echoed] one\n[echoed] two\n[echoed] three\n`,
    );
    await server.stdout.waitForCount(/^\[done\]/, 2);
  } finally {
    server.child.kill("SIGINT");
    assert.equal((await server.status).code, 0);
    await server.kill();
  }
});

Deno.test("echo CLI client process exits 1 on a refused connection and 3 on missing echoes", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const refusedPort = closed.addr.port;
  closed.close();
  const refused = await spawnCli(["client", String(refusedPort), "x"]);
  assert.equal((await refused.status).code, 1);
  assert.match(refused.stderr.text, /^\[connect-fail\] Connection refused/m);
  assertNoStackTrace(refused);

  // A server that reads the frames and the FIN, then closes: no echoes.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(1024);
    while (await conn.read(buffer) !== null);
    conn.close();
    listener.close();
  })();
  const short = await spawnCli(["client", String(listener.addr.port), "x"]);
  assert.equal((await short.status).code, 3);
  await serving;
  assert.equal(
    short.stderr.text,
    "[error] receive: Server closed the connection after echoing 0 of 1 frames\n",
  );
  assertNoStackTrace(short);
});

Deno.test("echo CLI exits 2 with one error line and the usage for bad arguments", async () => {
  for (
    const [args, error] of [
      [
        ["server", "99999"],
        'error: Invalid port "99999": expected an integer from 0 to 65535',
      ],
      [
        ["client", "9000"],
        "error: client: nothing to send: give messages, --stdin or --size",
      ],
      [
        ["sever", "9000"],
        'error: Unknown mode "sever": expected server or client',
      ],
      [["server", "9000", "--verbose"], "error: Unknown option '--verbose'"],
    ] as const
  ) {
    const process = await spawnCli([...args]);
    const status = await process.status;
    assert.equal(status.code, 2, args.join(" "));
    const lines = process.stderr.text.split("\n");
    assert.equal(lines[0], error);
    assert.equal(lines[1], "");
    assert.equal(lines[2], "Usage:");
    assert.equal(process.stdout.text, "");
    assertNoStackTrace(process);
  }
});

Deno.test("echo CLI --help prints the usage with examples and exits 0", async () => {
  const process = await spawnCli(["--help"]);
  assert.equal((await process.status).code, 0);
  assert.match(
    process.stdout.text,
    /^Usage:\n {2}deno run -N jsr:@tcpframe\/tcpframe\/echo server \[host\] <port>/,
  );
  assert.match(process.stdout.text, /\nExamples:\n/);
  assert.equal(process.stderr.text, "");
});

Deno.test("echo CLI server process reports an oversize frame and keeps running", async () => {
  const { process, port } = await startServerProcess(["--max-frame", "8"]);
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeFrames(conn, [new Uint8Array(9)], { maxFrameSize: 9 });
    await process.stderr.waitFor(
      /FRAME_TOO_LARGE: Cannot read frame: length 9 exceeds the limit of 8 bytes$/,
    );
    conn.close();
    const result = await runClient([String(port), "12345678"]);
    assert.equal(result.code, 0);
  } finally {
    process.child.kill("SIGINT");
    assert.equal((await process.status).code, 0);
    assertNoStackTrace(process);
    await process.kill();
  }
});

Deno.test("echo CLI server and client processes talk over a Unix socket, which the server removes on exit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcpframe-echo-" });
  const path = `${dir}/echo.sock`;
  const flags = [`-R=${path}`, `-W=${path}`];
  const server = await spawnCli(["server", `unix:${path}`], undefined, flags);
  try {
    await server.stdout.waitFor(/^\[listen-ok\] /, 30_000, server.status);
    assert.match(
      server.stdout.text,
      new RegExp(`^\\[listen-ok\\] unix:${path}$`, "m"),
    );
    // The address [listen-ok] printed is what the client takes.
    const client = await spawnCli(
      ["client", `unix:${path}`, "HELLO-WORLD", "second frame"],
      undefined,
      flags,
    );
    const status = await client.status;
    assert.equal(status.code, 0, client.stderr.text);
    assert.equal(
      client.stdout.text,
      `[connected] unix:${path}\n[echoed] HELLO-WORLD\n[echoed] second frame\n`,
    );
    await server.stdout.waitFor(/^\[done\] /, 10_000, server.status);
    assert.match(
      server.stdout.text,
      /^\[accept\] peer=unix:\(unnamed\)$/m,
    );
    assert.match(
      server.stdout.text,
      /^\[done\] peer=unix:\(unnamed\) echoed 23 bytes in 2 frames$/m,
    );
    server.child.kill("SIGTERM");
    assert.equal((await server.status).code, 0, server.stderr.text);
    assertNoStackTrace(server);
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  } finally {
    await server.kill();
    await Deno.remove(dir, { recursive: true });
  }
});
