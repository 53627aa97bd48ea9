// Write-side scenarios over a real connection pair, shared by the Deno
// (tests/deno/) and Node (tests/node/) suites: many tasks on one
// connection, abort storms, a late or absent reader.

import assert from "node:assert/strict";
import {
  type Conn,
  DelimitedReader,
  encodeFrame,
  FRAME_COST,
  FrameReader,
  FrameWriter,
  writeAll,
  writeDelimited,
  writeFrame,
  writeFrames,
} from "tcpframe";

/** Opens a connected pair: the first side writes, the second reads. */
export type Pair = () => Promise<[Conn, Conn]>;

/** The plain and owned ways to write frames. */
export const WRITE_APIS = [
  "FrameWriter",
  "writeFrame",
  "writeFrames",
  "writeAll",
  "writeDelimited",
] as const;
export type WriteApi = typeof WRITE_APIS[number];

const KiB = 1024;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A seeded generator of numbers in [0, 1). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Task `task`'s frame number `seq` of `size` bytes: from 4 bytes on it
 * starts with a tag naming both; shorter ones repeat a byte naming the
 * task. With `letters`, only a-z and A-Z (for delimited frames).
 */
export function payloadFor(
  task: number,
  seq: number,
  size: number,
  letters = false,
): Uint8Array {
  const p = new Uint8Array(size);
  if (size < 4) return p.fill(letters ? 97 + task : task + 1);
  const next = random(task * 7919 + seq + 1);
  for (let i = 4; i < size; i++) {
    const b = (next() * 256) | 0;
    p[i] = letters ? 97 + (b % 26) : b;
  }
  p[0] = letters ? 65 + task : task;
  p[1] = letters ? 65 + (seq >> 5) : seq >> 8;
  p[2] = letters ? 65 + (seq & 31) : seq & 255;
  p[3] = letters ? 90 : 0xa5;
  return p;
}

/** The task a frame belongs to, or undefined for an empty frame. */
function taskOf(frame: Uint8Array, letters: boolean): number | undefined {
  if (frame.byteLength === 0) return undefined;
  if (frame.byteLength >= 4) return letters ? frame[0]! - 65 : frame[0]!;
  return letters ? frame[0]! - 97 : frame[0]! - 1;
}

/**
 * Asserts that `frames` hold, for each task, exactly `expected[task]` in
 * order (empty frames counted in all), interleaved only at frame
 * boundaries.
 */
export function assertTaskOrder(
  frames: readonly Uint8Array[],
  expected: readonly (readonly Uint8Array[])[],
  letters = false,
): void {
  const got: Uint8Array[][] = expected.map(() => []);
  let empty = 0;
  for (const frame of frames) {
    const task = taskOf(frame, letters);
    if (task === undefined) {
      empty++;
      continue;
    }
    assert.ok(got[task] !== undefined, `a frame of unknown task ${task}`);
    got[task]!.push(frame);
  }
  let expectedEmpty = 0;
  expected.forEach((list, task) => {
    const nonEmpty = list.filter((p) => p.byteLength > 0);
    expectedEmpty += list.length - nonEmpty.length;
    assert.equal(
      got[task]!.length,
      nonEmpty.length,
      `task ${task}: frame count`,
    );
    nonEmpty.forEach((p, i) => {
      const frame = got[task]![i]!;
      assert.ok(
        frame.byteLength === p.byteLength && frame.every((b, k) => b === p[k]),
        `task ${task}: frame ${i} of ${p.byteLength} bytes differs`,
      );
    });
  });
  assert.equal(empty, expectedEmpty, "empty frames");
}

/** Reads every frame until the peer's end of stream. */
async function readAllFrames(
  conn: Conn,
  delimited: boolean,
): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  const reader = delimited
    ? new DelimitedReader(conn, { maxFrameSize: 1024 * KiB })
    : new FrameReader(conn, { maxFrameSize: 16 * 1024 * KiB });
  for await (const frame of reader) frames.push(frame.slice());
  return frames;
}

/**
 * 16 tasks x 30 frames of 0 B to 300 KiB through one API on one
 * connection, the reader starting late (so writes come back short): every
 * frame intact, each task's frames in order.
 */
export async function concurrentWrites(
  pair: Pair,
  api: WriteApi,
): Promise<void> {
  const [out, into] = await pair();
  const letters = api === "writeDelimited";
  const next = random(42);
  const plan: Uint8Array[][] = Array.from(
    { length: 16 },
    (_, task) =>
      Array.from({ length: 30 }, (_, seq) => {
        const size = next() < 0.5
          ? Math.floor(next() * KiB)
          : Math.floor(next() * 300 * KiB);
        return payloadFor(task, seq, size, letters);
      }),
  );
  const writer = api === "FrameWriter" ? new FrameWriter(out) : undefined;
  const task = async (payloads: Uint8Array[]) => {
    for (let i = 0; i < payloads.length;) {
      const p = payloads[i]!;
      if (writer !== undefined) await writer.write(p);
      else if (api === "writeFrame") await writeFrame(out, p);
      else if (api === "writeAll") await writeAll(out, encodeFrame(p));
      else if (api === "writeDelimited") await writeDelimited(out, p);
      else {
        const n = 1 + Math.floor(next() * 5);
        await writeFrames(out, payloads.slice(i, i + n));
        i += n;
        continue;
      }
      i++;
    }
  };
  const writing = (async () => {
    await Promise.all(plan.map(task));
    if (writer !== undefined) await writer.close();
    else await out.closeWrite();
  })();
  await delay(100);
  const [frames] = await Promise.all([readAllFrames(into, letters), writing]);
  assertTaskOrder(frames, plan, letters);
  out.close();
  into.close();
}

/**
 * With the connection's buffers full (plain frames written until one
 * stalls), 8 tasks write frames with random deadlines through one
 * FrameWriter or plain writeFrame(); the reader starts 300 ms later; then
 * a final marker. The reader sees only whole frames and the marker last;
 * every frame whose call resolved arrived; with FrameWriter, no frame whose
 * call rejected did.
 */
export async function abortStorm(
  pair: Pair,
  api: "FrameWriter" | "writeFrame",
): Promise<void> {
  const [out, into] = await pair();
  const next = random(7);
  const fillers: Uint8Array[] = [];
  let filling: Promise<void> = Promise.resolve();
  for (let i = 0; i < 2000; i++) {
    const p = payloadFor(8, i, 64 * KiB);
    fillers.push(p);
    filling = writeFrame(out, p);
    const stalled = await Promise.race([
      filling.then(() => false),
      delay(100).then(() => true),
    ]);
    if (stalled) break;
  }
  const writer = api === "FrameWriter"
    ? new FrameWriter(out, { highWaterMark: 32 * KiB })
    : undefined;
  const plan = Array.from(
    { length: 8 },
    (_, task) =>
      Array.from(
        { length: 40 },
        (_, seq) => payloadFor(task, seq, Math.floor(next() * 20 * KiB)),
      ),
  );
  const resolved: Uint8Array[][] = plan.map(() => []);
  let rejected = 0;
  const reading = delay(300).then(() => readAllFrames(into, false));
  await Promise.all(plan.map(async (payloads, task) => {
    for (const [seq, p] of payloads.entries()) {
      const signal = seq % 3 === 1
        ? undefined
        : AbortSignal.timeout(Math.floor(next() * 30));
      try {
        if (writer !== undefined) await writer.write(p, { signal });
        else await writeFrame(out, p, { signal });
        resolved[task]!.push(p);
      } catch (error) {
        assert.equal((error as Error).name, "TimeoutError");
        rejected++;
      }
    }
  }));
  await filling;
  const marker = new TextEncoder().encode("END-OF-STORM");
  if (writer !== undefined) {
    await writer.write(marker);
    await writer.close();
  } else {
    await writeFrame(out, marker);
    await out.closeWrite();
  }
  const frames = await reading;
  assert.deepEqual(frames.at(-1), marker, "the marker comes last");
  const body = frames.slice(0, -1);
  assert.ok(rejected > 0, "some writes timed out");
  const same = (f: Uint8Array, p: Uint8Array) =>
    f.byteLength === p.byteLength && f.every((b, k) => b === p[k]);
  // Rejected plain writes may have gone out whole; resolved ones did.
  const expected = writer !== undefined
    ? resolved
    : plan.map((payloads, task) =>
      payloads.filter((p) =>
        resolved[task]!.includes(p) || body.some((f) => same(f, p))
      )
    );
  assertTaskOrder(body, [...expected, fillers]);
  out.close();
  into.close();
}

/**
 * Against a peer that never reads, a FrameWriter fed frames of `size`
 * bytes (0 for an empty-frame flood) stops accepting near its high-water
 * mark: memory stays bounded. Returns how many frames were accepted.
 */
export async function neverReadingPeer(
  pair: Pair,
  size: number,
): Promise<number> {
  const [out, into] = await pair();
  const mark = 256 * KiB;
  const writer = new FrameWriter(out, { highWaterMark: mark });
  const payload = new Uint8Array(size);
  let accepted = 0;
  const started = Date.now();
  // Write while the queue has room; once it is full, wait for room for
  // 300 ms: the kernel's buffers fill up and room never comes.
  for (let stalled = false; !stalled;) {
    assert.ok(Date.now() - started < 20_000, "the writer never pushed back");
    while ((writer.desiredSize ?? 0) > 0 && accepted < 20_000_000) {
      await writer.write(payload);
      accepted++;
    }
    stalled = await Promise.race([
      writer.ready.then(() => false),
      delay(300).then(() => true),
    ]);
  }
  assert.ok(
    writer.bufferedAmount <= mark + 4 + size + FRAME_COST,
    `${writer.bufferedAmount} bytes queued`,
  );
  // write() itself waits now, until its deadline: never accepted.
  await assert.rejects(
    writer.write(payload, { signal: AbortSignal.timeout(50) }),
    { name: "TimeoutError" },
  );
  assert.ok(writer.bufferedAmount <= mark + 4 + size + FRAME_COST);
  // abort() settles once the batch in flight is done: here, once closing
  // the connection fails it.
  const quiet = writer.abort();
  out.close();
  await quiet;
  into.close();
  return accepted;
}

/**
 * A 16 MiB writeFrame() aborted by a 1 ms deadline with the reader late,
 * then 20 more writeFrame() calls: the aborted frame is finished whole,
 * the 20 follow it, and the reader gets all 21 intact.
 */
export async function abortedLargeWriteStaysInSync(pair: Pair): Promise<void> {
  const [out, into] = await pair();
  const options = { maxFrameSize: 16 * 1024 * KiB };
  const big = payloadFor(0, 0, 16 * 1024 * KiB);
  const cut = writeFrame(out, big, {
    ...options,
    signal: AbortSignal.timeout(1),
  });
  await assert.rejects(cut, { name: "TimeoutError" });
  const small = Array.from(
    { length: 20 },
    (_, i) => payloadFor(1, i, 1000 + i),
  );
  const writing = (async () => {
    for (const p of small) await writeFrame(out, p, options);
    await out.closeWrite();
  })();
  await delay(50);
  const [frames] = await Promise.all([readAllFrames(into, false), writing]);
  assertTaskOrder(frames, [[big], small]);
  out.close();
  into.close();
}
