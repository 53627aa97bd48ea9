// The echo CLI against the source document's C++23 echo (tests/fixtures/
// echo.cpp), both ways, byte for byte. Skipped, with the reason, where no
// C++23 compiler exists.
import assert from "node:assert/strict";
import { runReferenceClient, startReferenceServer } from "../_cpp_echo.ts";
import { cppTest } from "./_cpp.ts";
import { runClient, startServer } from "./_echo.ts";

cppTest(
  "echo client gets its frame back from the reference server",
  async (path) => {
    const server = await startReferenceServer(path);
    try {
      const result = await runClient([
        "127.0.0.1",
        String(server.port),
        "HELLO-WORLD",
      ]);
      assert.equal(result.code, 0, result.stderr.join("\n"));
      assert.deepEqual(result.stdout, [
        `[connected] 127.0.0.1:${server.port}`,
        "[echoed] HELLO-WORLD",
      ]);
      await server.waitForLine(/^\[done\] echoed 11 bytes$/, 5_000);
      // A large frame, verified by checksum.
      const large = await runClient([
        String(server.port),
        "--size",
        "300000",
      ]);
      assert.equal(large.code, 0, large.stderr.join("\n"));
      assert.match(large.stdout[1]!, /^\[verified\] 1 frames of 300000 bytes/);
    } finally {
      await server.stop();
    }
  },
);

cppTest(
  "echo client says the reference server echoed only the first frame, and exits 3",
  async (path) => {
    const server = await startReferenceServer(path);
    try {
      const result = await runClient([
        String(server.port),
        "one",
        "two",
        "three",
      ]);
      assert.equal(result.code, 3, result.stdout.join("\n"));
      assert.equal(result.stderr.length, 1, result.stderr.join("\n"));
      // It closes after one echo: the client sees its FIN, or the reset its
      // close() sends because two frames were left unread.
      assert.match(
        result.stderr[0]!,
        /^\[error\] receive: (Server closed the connection after echoing [01] of 3 frames|CONNECTION_RESET: Connection reset by peer \(after [01] of 3 echoes\))$/,
      );
    } finally {
      await server.stop();
    }
  },
);

cppTest(
  "reference client gets its frame back from the echo server",
  async (path) => {
    const server = await startServer();
    try {
      // Its header and payload arrive in two send() calls.
      const result = await runReferenceClient(
        path,
        "127.0.0.1",
        server.port,
        "HELLO-WORLD",
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        result.stdout,
        `[connected] 127.0.0.1:${server.port}\n[echoed] HELLO-WORLD\n`,
      );
      await server.stdout.waitFor(
        /^\[done\] peer=127\.0\.0\.1:\d+ echoed 11 bytes in 1 frames$/,
      );
      assert.equal(server.stderr.text, "");
    } finally {
      assert.equal(await server.stop(), 0);
    }
  },
);
