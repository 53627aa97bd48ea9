// connect() over 127.0.0.1.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConnectionRefusedError,
  HostNotFoundError,
  readExact,
  writeAll,
} from "tcpframe";
import { connect, listen } from "tcpframe/node";
import { withoutStrayErrors } from "./_net.ts";

/** A port that nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const listener = await listen({ port: 0 });
  listener.close();
  return listener.addr.port;
}

test("connect() returns a connection that talks to the listener", async () => {
  const listener = await listen({ port: 0 });
  const accepting = listener.accept();
  const conn = await connect({ port: listener.addr.port });
  const peer = await accepting;
  await writeAll(conn, new Uint8Array([1, 2, 3]));
  assert.deepEqual(await readExact(peer, 3), new Uint8Array([1, 2, 3]));
  conn.close();
  peer.close();
  listener.close();
});

test("connect() rejects with ConnectionRefusedError when nobody listens", async () => {
  const port = await freePort();
  await assert.rejects(connect({ port }), (error) => {
    assert.ok(error instanceof ConnectionRefusedError);
    assert.equal(error.code, "CONNECTION_REFUSED");
    assert.equal(
      error.message,
      `Cannot connect to 127.0.0.1:${port}: connection refused`,
    );
    assert.equal((error.cause as { code?: string }).code, "ECONNREFUSED");
    return true;
  });
});

test("connect() rejects with signal.reason when the signal aborts first", async () => {
  const listener = await listen({ port: 0 });
  const { port } = listener.addr;
  const stray = await withoutStrayErrors(async () => {
    await assert.rejects(
      connect({ port, signal: AbortSignal.abort(new Error("too late")) }),
      { message: "too late" },
    );
    const controller = new AbortController();
    const connecting = connect({ port, signal: controller.signal });
    controller.abort(new Error("changed my mind"));
    await assert.rejects(connecting, { message: "changed my mind" });
  });
  assert.deepEqual(stray, []);
  listener.close();
});

test("connect() rejects a port out of range with RangeError", async () => {
  for (const port of [0, -1, 1.5, 65536, Number.NaN]) {
    await assert.rejects(connect({ port }), RangeError);
  }
});

test("connect() rejects with HostNotFoundError for a name that does not resolve", async () => {
  // .invalid never resolves (RFC 6761); without a network it fails locally.
  const hostname = "no-such-host.invalid";
  await assert.rejects(
    connect({ hostname, port: 80, signal: AbortSignal.timeout(20_000) }),
    (error) => {
      assert.ok(error instanceof HostNotFoundError, String(error));
      assert.equal(error.code, "HOST_NOT_FOUND");
      const { code } = error.cause as { code?: string };
      assert.ok(code === "ENOTFOUND" || code === "EAI_AGAIN", code);
      assert.equal(
        error.message,
        `Cannot connect to ${hostname}:80: host not found (${code})`,
      );
      return true;
    },
  );
});
