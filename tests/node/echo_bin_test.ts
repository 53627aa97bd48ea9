// The npm package's `tcpframe-echo` bin as real processes on 127.0.0.1: the
// same flags, log lines and exit codes as the Deno CLI
// (tests/deno/echo_cli_test.ts). Runs against the installed package in
// `deno task test:node`; skipped, with the reason, where `tcpframe` is the
// source checkout.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFrames } from "tcpframe";
import { connect, listen, type NodeConn } from "tcpframe/node";
import {
  assertNoStackTrace,
  type CliCommand,
  CliProcess,
  locateEchoBin,
  runCliProcess,
  startServerProcess,
} from "./_echo_cli.ts";

const bin = locateEchoBin();
const start: CliCommand = "skip" in bin ? { command: "", args: [] } : bin.start;

/** A test of the installed bin; skipped, with the reason, without one. */
function binTest(name: string, fn: () => Promise<void> | void): void {
  if ("skip" in bin) {
    test(`${name} (skipped: ${bin.skip})`, { skip: bin.skip }, fn);
  } else test(name, fn);
}

binTest(
  "tcpframe-echo is the package's bin: a node shebang and the exec bit",
  () => {
    assert.ok(!("skip" in bin));
    assert.equal(
      readFileSync(bin.file, "utf8").split("\n", 1)[0],
      "#!/usr/bin/env node",
    );
    assert.equal(statSync(bin.file).mode & 0o111, 0o111);
  },
);

binTest(
  "tcpframe-echo --help prints the usage with examples and exits 0",
  async () => {
    const result = await runCliProcess(start, ["--help"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^Usage:\n {2}tcpframe-echo server \[host\] <port> \[options\]\n/,
    );
    assert.match(result.stdout, /\nExamples:\n {2}tcpframe-echo server /);
    assert.equal(result.stderr, "");
  },
);

binTest(
  "tcpframe-echo exits 2 with one error line and the usage for bad arguments",
  async () => {
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
        [
          ["server", "9000", "--max-conns", "-1"],
          'error: Invalid --max-conns "-1": expected an integer from 1 to 1000000',
        ],
      ] as const
    ) {
      const result = await runCliProcess(start, [...args]);
      assert.equal(result.code, 2, args.join(" "));
      const lines = result.stderr.split("\n");
      assert.equal(lines[0], error);
      assert.equal(lines[1], "");
      assert.equal(lines[2], "Usage:");
      assert.equal(result.stdout, "");
      assertNoStackTrace(result.stderr);
    }
  },
);

binTest(
  "tcpframe-echo server and client processes echo messages, stdin lines and verified payloads",
  async () => {
    const { server, port } = await startServerProcess(start);
    try {
      const messages = await runCliProcess(start, [
        "client",
        "127.0.0.1",
        String(port),
        "HELLO-WORLD",
        "second frame",
        "--",
        "-third",
      ]);
      assert.equal(messages.code, 0, messages.stderr);
      assert.equal(
        messages.stdout,
        `[connected] 127.0.0.1:${port}\n[echoed] HELLO-WORLD\n[echoed] second frame\n[echoed] -third\n`,
      );
      assert.equal(messages.stderr, "");

      // --stdin: one frame per line of standard input.
      const lines = await runCliProcess(start, [
        "client",
        String(port),
        "--stdin",
      ], { input: "one\r\ntwo\nthree" });
      assert.equal(lines.code, 0, lines.stderr);
      assert.equal(
        lines.stdout,
        `[connected] 127.0.0.1:${port}\n[echoed] one\n[echoed] two\n[echoed] three\n`,
      );

      // --size/--count: generated payloads, verified by checksum; --trace.
      const sized = await runCliProcess(start, [
        "client",
        String(port),
        "--size",
        "300000",
        "--count",
        "5",
        "--trace",
      ]);
      assert.equal(sized.code, 0, sized.stderr);
      const out = sized.stdout.split("\n");
      assert.equal(out[0], `[connected] 127.0.0.1:${port}`);
      assert.match(
        out[1]!,
        /^\[verified\] 5 frames of 300000 bytes echoed intact \(FNV-1a checksums match\) in \d+\.\d{3} s, /,
      );
      assert.match(
        out[2]!,
        /^\[trace\] writes: \d+ calls \(\d+ short\), 1500020 bytes, 5 frames$/,
      );
      assert.match(
        out[3]!,
        /^\[trace\] reads: \d+ calls \(\d+ short\), 1500020 bytes, 5 frames$/,
      );

      await server.waitForCount(/^\[done\]/, 3);
      assert.match(
        server.stdout,
        /^\[accept\] peer=127\.0\.0\.1:\d+\n\[done\] peer=127\.0\.0\.1:\d+ echoed 29 bytes in 3 frames$/m,
      );
      assert.match(
        server.stdout,
        /^\[done\] peer=127\.0\.0\.1:\d+ echoed 1500000 bytes in 5 frames$/m,
      );
    } finally {
      server.signal("SIGINT");
      assert.equal((await server.exited).code, 0, server.output);
      await server.kill();
    }
    assert.equal(server.stderr, "");
    assertNoStackTrace(server.output);
  },
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  binTest(
    `tcpframe-echo server exits 0 on ${signal}, closing an idle connection after the grace period`,
    async () => {
      const { server, port } = await startServerProcess(start);
      const idle: NodeConn[] = [];
      try {
        idle.push(await connect({ port }));
        await server.waitForCount(/^\[accept\]/, 1);
        server.signal(signal);
        const status = await server.exited;
        assert.deepEqual(status, { code: 0, signal: null }, server.output);
        assert.match(
          server.stdout,
          /^\[shutdown\] stopped accepting; 1 open connections get 2000 ms to finish$/m,
        );
        assert.match(server.stdout, /^\[shutdown\] done$/m);
        assert.match(
          server.stderr,
          /^\[error\] peer=127\.0\.0\.1:\d+ ABORTED: Server shutting down$/m,
        );
        assertNoStackTrace(server.output);
        // The server closed the idle connection: its FIN reached us.
        assert.equal(await idle[0]!.read(new Uint8Array(1)), null);
      } finally {
        for (const conn of idle) conn.close();
        await server.kill();
      }
    },
  );
}

binTest(
  "tcpframe-echo client exits 1 when the connection is refused",
  async () => {
    const closed = await listen({ port: 0 });
    const port = closed.addr.port;
    closed.close(); // nobody listens there now
    const result = await runCliProcess(start, ["client", String(port), "x"]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, "");
    assert.equal(
      result.stderr,
      `[connect-fail] Connection refused to 127.0.0.1:${port}\n` +
        `[error] connect: Cannot connect to 127.0.0.1 port ${port}: the address failed\n`,
    );
  },
);

binTest(
  "tcpframe-echo client exits 2 when its frames cannot be sent before the deadline",
  async () => {
    // A server that accepts and never reads: the send buffers fill up.
    const listener = await listen({ port: 0 });
    const accepted = listener.accept();
    try {
      const result = await runCliProcess(start, [
        "client",
        String(listener.addr.port),
        "--size",
        "1048576",
        "--count",
        "64",
        "--timeout",
        "500",
      ]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        /^\[error\] send: TIMEOUT: Deadline of 500 ms passed \(--timeout\) \(after sending \d+ of 64 frames\)\n$/,
      );
    } finally {
      (await accepted).close();
      listener.close();
    }
  },
);

binTest(
  "tcpframe-echo client exits 3 when the server closes without echoing",
  async () => {
    // A server that reads the frames and the FIN, then closes: no echoes.
    const listener = await listen({ port: 0 });
    const serving = (async () => {
      const conn = await listener.accept();
      const buffer = new Uint8Array(1024);
      while (await conn.read(buffer) !== null);
      conn.close();
    })();
    try {
      const result = await runCliProcess(start, [
        "client",
        String(listener.addr.port),
        "x",
      ]);
      assert.equal(result.code, 3, result.stderr);
      assert.equal(
        result.stderr,
        "[error] receive: Server closed the connection after echoing 0 of 1 frames\n",
      );
      assertNoStackTrace(result.stderr);
    } finally {
      await serving;
      listener.close();
    }
  },
);

binTest(
  "tcpframe-echo server reports an oversize frame and keeps serving",
  async () => {
    const { server, port } = await startServerProcess(
      start,
      "--max-frame",
      "8",
    );
    try {
      const conn = await connect({ port });
      await writeFrames(conn, [new Uint8Array(9)], { maxFrameSize: 9 });
      await server.waitForLine(
        /FRAME_TOO_LARGE: Cannot read frame: length 9 exceeds the limit of 8 bytes$/,
        30_000,
        "stderr",
      );
      conn.close();
      const result = await runCliProcess(start, [
        "client",
        String(port),
        "12345678",
      ]);
      assert.equal(result.code, 0, result.stderr);
    } finally {
      server.signal("SIGINT");
      assert.equal((await server.exited).code, 0, server.output);
      await server.kill();
    }
    assertNoStackTrace(server.output);
  },
);

binTest(
  "tcpframe-echo server and client processes talk over a Unix socket, which the server removes on SIGTERM",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "tcpframe-echo-"));
    const address = `unix:${join(dir, "echo.sock")}`;
    const server = new CliProcess(start, ["server", address]);
    try {
      assert.equal(
        await server.waitForLine(/^\[listen-ok\] /),
        `[listen-ok] ${address}`,
      );
      const client = await runCliProcess(start, ["client", address, "hi"]);
      assert.equal(client.code, 0, client.stderr);
      assert.equal(client.stdout, `[connected] ${address}\n[echoed] hi\n`);
      await server.waitForLine(/^\[done\] /);
      assert.match(
        server.stdout,
        /^\[done\] peer=unix:\(unnamed\) echoed 2 bytes in 1 frames$/m,
      );
      server.signal("SIGTERM");
      assert.equal((await server.exited).code, 0, server.output);
      assertNoStackTrace(server.output);
      assert.equal(existsSync(join(dir, "echo.sock")), false);
    } finally {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
