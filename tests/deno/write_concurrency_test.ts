// The write side over real Deno TCP connections: concurrent calls, aborts,
// a peer that never reads.
import assert from "node:assert/strict";
import { FrameWriter } from "tcpframe";
import { assertResetOrBrokenPipe } from "../_fixtures.ts";
import {
  abortedLargeWriteStaysInSync,
  abortStorm,
  concurrentWrites,
  neverReadingPeer,
  WRITE_APIS,
} from "../_write_scenarios.ts";
import { tcpPair } from "./_tcp.ts";

for (const api of WRITE_APIS) {
  Deno.test(`${api} from 16 tasks on one Deno.Conn never interleaves frames`, () =>
    concurrentWrites(tcpPair, api));
}

for (const api of ["FrameWriter", "writeFrame"] as const) {
  Deno.test(`${api} under an abort storm sends only whole frames, every resolved one`, () =>
    abortStorm(tcpPair, api));
}

Deno.test("writeFrame() aborted mid-frame on a Deno.Conn finishes the frame; 20 later frames arrive intact", () =>
  abortedLargeWriteStaysInSync(tcpPair));

for (const size of [0, 1, 4096]) {
  Deno.test(`FrameWriter against a Deno peer that never reads: ${size}-byte frames stay near the high-water mark`, async () => {
    await neverReadingPeer(tcpPair, size);
  });
}

Deno.test("FrameWriter.writable piped into a reset Deno.Conn rejects with a typed error", async () => {
  const [out, into] = await tcpPair();
  into.close(); // the peer goes away: writes end in a reset or broken pipe
  const payloads = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(new Uint8Array(64 * 1024));
    },
  });
  const error = await payloads.pipeTo(new FrameWriter(out).writable).then(
    () => assert.fail("the pipe completed"),
    (e: unknown) => e,
  );
  assertResetOrBrokenPipe(error);
  out.close();
});
