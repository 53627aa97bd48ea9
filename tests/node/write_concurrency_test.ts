// The write side over real Node adapter connections: concurrent calls,
// aborts, a peer that never reads, and nothing left queued in the socket.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFrame } from "tcpframe";
import {
  abortedLargeWriteStaysInSync,
  abortStorm,
  concurrentWrites,
  neverReadingPeer,
  WRITE_APIS,
} from "../_write_scenarios.ts";
import { tcpPair } from "./_net.ts";

for (const api of WRITE_APIS) {
  test(`${api} from 16 tasks on one NodeConn never interleaves frames`, () =>
    concurrentWrites(tcpPair, api));
}

for (const api of ["FrameWriter", "writeFrame"] as const) {
  test(`${api} on a NodeConn under an abort storm sends only whole frames, every resolved one`, () =>
    abortStorm(tcpPair, api));
}

test("writeFrame() aborted mid-frame on a NodeConn finishes the frame; 20 later frames arrive intact", () =>
  abortedLargeWriteStaysInSync(tcpPair));

for (const size of [0, 1, 4096]) {
  test(`FrameWriter against a Node peer that never reads: ${size}-byte frames stay near the high-water mark`, async () => {
    await neverReadingPeer(tcpPair, size);
  });
}

test("writeFrame() retried after timeouts against a peer that never reads leaves at most one frame in Node's socket queue", async () => {
  const [out, into] = await tcpPair();
  const frame = new Uint8Array(8 * 1024 * 1024);
  const options = { maxFrameSize: frame.byteLength };
  let rejected = 0;
  for (let i = 0; i < 22; i++) {
    try {
      await writeFrame(out, frame, {
        ...options,
        signal: AbortSignal.timeout(20),
      });
    } catch (error) {
      assert.equal((error as Error).name, "TimeoutError");
      rejected++;
    }
    // Only the first call ever reaches the socket: the others time out
    // waiting for its turn, and nothing of theirs is queued.
    assert.ok(
      out.socket.writableLength <= frame.byteLength + 4,
      `${out.socket.writableLength} bytes queued in the socket`,
    );
  }
  assert.ok(rejected >= 21, `${rejected} of 22 timed out`);
  out.close();
  into.close();
});
