// The interop matrix, as real processes on 127.0.0.1: the npm package's
// `tcpframe-echo` (Node) against the Deno CLI and against the source
// document's C++ echo (tests/fixtures/echo.cpp), each one as server and as
// client. Runs in `deno task test:node`, which passes the Deno that runs it
// (TCPFRAME_DENO) and the checkout (TCPFRAME_REPO); each test is skipped,
// with the reason, where a side is missing (no installed package, no Deno,
// no C++23 compiler).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildReferenceEcho,
  runReferenceClient,
  startReferenceServer,
} from "../_cpp_echo.ts";
import {
  assertNoStackTrace,
  type CliCommand,
  type CliProcess,
  locateDenoEcho,
  locateEchoBin,
  runCliProcess,
  startServerProcess,
} from "./_echo_cli.ts";

const bin = locateEchoBin();
const deno = locateDenoEcho();
const cpp = await buildReferenceEcho();

/** The Node CLI's command line (only called in tests that are not skipped). */
function node(): CliCommand {
  assert.ok(!("skip" in bin));
  return bin.start;
}

/** A test that needs every side in `sides`; skipped with a missing one's reason. */
function matrixTest(
  name: string,
  sides: ReadonlyArray<object>,
  fn: () => Promise<void>,
): void {
  const missing = sides.find((side) => "skip" in side) as
    | { skip: string }
    | undefined;
  if (missing === undefined) test(name, fn);
  else {
    test(`${name} (skipped: ${missing.skip})`, { skip: missing.skip }, fn);
  }
}

/** SIGINT, then exit code 0, and nothing uncaught. */
async function stop(server: CliProcess): Promise<void> {
  server.signal("SIGINT");
  const status = await server.exited;
  await server.kill();
  assert.deepEqual(status, { code: 0, signal: null }, server.output);
  assertNoStackTrace(server.output);
}

/** Two messages, then four 1 MiB payloads verified by checksum. */
async function exchange(client: CliCommand, port: number): Promise<void> {
  const messages = await runCliProcess(client, [
    "client",
    "127.0.0.1",
    String(port),
    "HELLO-WORLD",
    "second frame",
  ]);
  assert.equal(messages.code, 0, messages.stderr);
  assert.equal(
    messages.stdout,
    `[connected] 127.0.0.1:${port}\n[echoed] HELLO-WORLD\n[echoed] second frame\n`,
  );
  assert.equal(messages.stderr, "");
  const sized = await runCliProcess(client, [
    "client",
    String(port),
    "--size",
    "1048576",
    "--count",
    "4",
  ]);
  assert.equal(sized.code, 0, sized.stderr);
  assert.match(
    sized.stdout,
    /^\[connected\] 127\.0\.0\.1:\d+\n\[verified\] 4 frames of 1048576 bytes echoed intact /,
  );
}

/** The server's log after {@linkcode exchange}. */
async function assertServed(server: CliProcess): Promise<void> {
  await server.waitForCount(/^\[done\]/, 2);
  assert.match(
    server.stdout,
    /^\[done\] peer=127\.0\.0\.1:\d+ echoed 23 bytes in 2 frames$/m,
  );
  assert.match(
    server.stdout,
    /^\[done\] peer=127\.0\.0\.1:\d+ echoed 4194304 bytes in 4 frames$/m,
  );
  assert.equal(server.stderr, "");
}

matrixTest(
  "Deno echo server serves the tcpframe-echo client",
  [bin, deno],
  async () => {
    const { server, port } = await startServerProcess(deno as CliCommand);
    try {
      await exchange(node(), port);
      await assertServed(server);
    } finally {
      await stop(server);
    }
  },
);

matrixTest(
  "tcpframe-echo server serves the Deno echo client, stdin lines included",
  [bin, deno],
  async () => {
    const { server, port } = await startServerProcess(node());
    try {
      await exchange(deno as CliCommand, port);
      await assertServed(server);
      const lines = await runCliProcess(deno as CliCommand, [
        "client",
        String(port),
        "--stdin",
      ], { input: "one\ntwo\n" });
      assert.equal(lines.code, 0, lines.stderr);
      assert.equal(
        lines.stdout,
        `[connected] 127.0.0.1:${port}\n[echoed] one\n[echoed] two\n`,
      );
    } finally {
      await stop(server);
    }
  },
);

matrixTest(
  "tcpframe-echo client gets its frames back from the C++ reference server",
  [bin, cpp],
  async () => {
    const server = await startReferenceServer((cpp as { path: string }).path);
    try {
      const result = await runCliProcess(node(), [
        "client",
        "127.0.0.1",
        String(server.port),
        "HELLO-WORLD",
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout,
        `[connected] 127.0.0.1:${server.port}\n[echoed] HELLO-WORLD\n`,
      );
      await server.waitForLine(/^\[done\] echoed 11 bytes$/, 10_000);
      // A large frame, verified by checksum: many short reads on both sides.
      const large = await runCliProcess(node(), [
        "client",
        String(server.port),
        "--size",
        "300000",
      ]);
      assert.equal(large.code, 0, large.stderr);
      assert.match(large.stdout, /\n\[verified\] 1 frames of 300000 bytes /);
      // The reference server echoes one frame per connection: exit 3.
      const three = await runCliProcess(node(), [
        "client",
        String(server.port),
        "one",
        "two",
        "three",
      ]);
      assert.equal(three.code, 3, three.stdout);
      assert.match(
        three.stderr,
        /^\[error\] receive: (Server closed the connection after echoing [01] of 3 frames|CONNECTION_RESET: Connection reset by peer \(after [01] of 3 echoes\))\n$/,
      );
      assertNoStackTrace(three.stderr);
    } finally {
      await server.stop();
    }
  },
);

matrixTest(
  "C++ reference client gets its frame back from the tcpframe-echo server",
  [bin, cpp],
  async () => {
    const { server, port } = await startServerProcess(node());
    try {
      // Its header and payload arrive in two send() calls.
      const result = await runReferenceClient(
        (cpp as { path: string }).path,
        "127.0.0.1",
        port,
        "HELLO-WORLD",
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout,
        `[connected] 127.0.0.1:${port}\n[echoed] HELLO-WORLD\n`,
      );
      await server.waitForLine(
        /^\[done\] peer=127\.0\.0\.1:\d+ echoed 11 bytes in 1 frames$/,
      );
      assert.equal(server.stderr, "");
    } finally {
      await stop(server);
    }
  },
);
