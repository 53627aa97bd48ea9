// The C++23 reference echo from the source document, built from
// tests/fixtures/echo.cpp, against tcpframe's exact-I/O core on 127.0.0.1.
import assert from "node:assert/strict";
import { readExact, UnexpectedEofError, writeAll } from "tcpframe";
import { concat, pseudoRandomBytes } from "../_fixtures.ts";
import { runReferenceClient, startReferenceServer } from "../_cpp_echo.ts";
import { built, cppTest } from "./_cpp.ts";

function frameOf(payload: Uint8Array): Uint8Array {
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, payload.byteLength);
  return concat([header, payload]);
}

Deno.test("buildReferenceEcho() builds or gives a reason to skip", () => {
  if ("skip" in built) assert.ok(built.skip.length > 0);
  else assert.ok(built.path.length > 0);
});

cppTest(
  "reference echo server echoes a frame sent with writeAll() and half-closes",
  async (path) => {
    const server = await startReferenceServer(path);
    try {
      // One frame per connection; the server keeps accepting.
      const payloads = [
        new TextEncoder().encode("HELLO-WORLD"),
        pseudoRandomBytes(300 * 1024, 11),
      ];
      for (const payload of payloads) {
        const conn = await Deno.connect({
          hostname: "127.0.0.1",
          port: server.port,
        });
        try {
          const signal = AbortSignal.timeout(5_000);
          await writeAll(conn, frameOf(payload), { signal });
          const header = await readExact(conn, 4, { signal });
          const length = new DataView(header.buffer).getUint32(0);
          assert.equal(length, payload.byteLength);
          const echoed = await readExact(conn, length, { signal });
          assert.deepEqual(echoed, payload);
          // The server sent FIN (shutdown(SHUT_WR)) after the echo.
          await assert.rejects(readExact(conn, 1, { signal }), (error) => {
            assert.ok(error instanceof UnexpectedEofError);
            assert.equal(error.bytesRead, 0);
            return true;
          });
          await server.waitForLine(
            new RegExp(`^\\[done\\] echoed ${payload.byteLength} bytes$`),
            5_000,
          );
        } finally {
          conn.close();
        }
      }
      assert.equal(server.output().stderr, "");
    } finally {
      await server.stop();
    }
  },
);

cppTest(
  "reference echo client gets its frame back from a writeAll()/readExact() server",
  async (path) => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const serving = (async () => {
      const conn = await listener.accept();
      try {
        const signal = AbortSignal.timeout(5_000);
        const header = await readExact(conn, 4, { signal });
        const length = new DataView(header.buffer).getUint32(0);
        const payload = await readExact(conn, length, { signal });
        await writeAll(conn, concat([header, payload]), { signal });
        await conn.closeWrite();
      } finally {
        conn.close();
      }
    })();
    let result;
    try {
      result = await runReferenceClient(
        path,
        "127.0.0.1",
        listener.addr.port,
        "HELLO-WORLD",
        10_000,
      );
    } finally {
      listener.close(); // A pending accept() rejects if the client never came.
    }
    await serving;
    assert.equal(result.code, 0, `stderr: ${result.stderr}`);
    assert.match(result.stdout, /^\[echoed\] HELLO-WORLD$/m);
  },
);
