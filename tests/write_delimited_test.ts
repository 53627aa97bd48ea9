import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { BrokenPipeError, writeDelimited, WriteZeroError } from "tcpframe";
import { concat, ShortWriter } from "./_fixtures.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);

/** Where the first `needle` starts in `haystack`, the slow obvious way. */
function naiveIndexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

test("writeDelimited() appends the delimiter in a single write", async () => {
  const writer = new ShortWriter();
  await writeDelimited(writer, "hello");
  assert.equal(writer.calls, 1);
  assert.deepEqual(writer.offered, [6]);
  assert.deepEqual(writer.bytes(), bytes("hello\n"));
});

test("writeDelimited() takes bytes and a string or byte delimiter", async () => {
  const writer = new ShortWriter();
  await writeDelimited(writer, new Uint8Array([1, 2]), { delimiter: "\r\n" });
  await writeDelimited(writer, "x", { delimiter: new Uint8Array([0]) });
  assert.deepEqual(writer.bytes(), new Uint8Array([1, 2, 13, 10, 0x78, 0]));
  assert.equal(writer.calls, 2);
});

test("writeDelimited() of an empty payload writes only the delimiter", async () => {
  const writer = new ShortWriter();
  await writeDelimited(writer, new Uint8Array(0));
  assert.deepEqual(writer.bytes(), bytes("\n"));
});

test("writeDelimited() loops over short writes", async () => {
  const writer = new ShortWriter([1, 2]);
  await writeDelimited(writer, "abcdef", { delimiter: "||" });
  assert.deepEqual(writer.bytes(), bytes("abcdef||"));
  assert.deepEqual(writer.offered, [8, 7, 5, 4, 2, 1]);
});

test("writeDelimited() refuses a payload containing the delimiter, writing nothing", async () => {
  const writer = new ShortWriter();
  await assert.rejects(writeDelimited(writer, "two\nlines"), {
    name: "RangeError",
    message:
      "Cannot write delimited frame: the 9-byte payload contains the delimiter at byte 3",
  });
  await assert.rejects(
    writeDelimited(writer, "a\r\n\r\nb", { delimiter: "\r\n\r\n" }),
    RangeError,
  );
  assert.equal(writer.calls, 0);
});

test("writeDelimited() refuses a payload whose end forms the delimiter early", async () => {
  // "x\r\n" + "\r\n\r\n" would be read back as "x" followed by garbage.
  const writer = new ShortWriter();
  await assert.rejects(
    writeDelimited(writer, "x\r\n", { delimiter: "\r\n\r\n" }),
    {
      name: "RangeError",
      message:
        "Cannot write delimited frame: the end of the 3-byte payload and the delimiter form a delimiter at byte 1",
    },
  );
  await assert.rejects(
    writeDelimited(writer, "a", { delimiter: "aa" }),
    RangeError,
  );
  assert.equal(writer.calls, 0);
  // A partial match that the delimiter does not complete is fine.
  await writeDelimited(writer, "x\r", { delimiter: "\r\n\r\n" });
  assert.deepEqual(writer.bytes(), bytes("x\r\r\n\r\n"));
});

test("writeDelimited() rejects bad arguments with TypeError", async () => {
  const writer = new ShortWriter();
  await assert.rejects(
    writeDelimited(writer, "a", { delimiter: "" }),
    TypeError,
  );
  await assert.rejects(
    writeDelimited(writer, 42 as unknown as string),
    TypeError,
  );
  assert.equal(writer.calls, 0);
});

test("writeDelimited() with an aborted signal writes nothing", async () => {
  const writer = new ShortWriter();
  const reason = new Error("stop");
  await assert.rejects(
    writeDelimited(writer, "a", { signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(writer.calls, 0);
});

test("writeDelimited() reports a stalled or broken writer", async () => {
  await assert.rejects(
    writeDelimited({ write: () => Promise.resolve(0) }, "a"),
    WriteZeroError,
  );
  const epipe = Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
  await assert.rejects(
    writeDelimited({ write: () => Promise.reject(epipe) }, "a"),
    (error) => error instanceof BrokenPipeError && error.cause === epipe,
  );
});

test("writeDelimited() property: refuses exactly the payloads that would not read back whole", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 30 }).map((raw) => raw.map((b) => b % 3)),
      fc.uint8Array({ minLength: 1, maxLength: 4 }).map((raw) =>
        raw.map((b) => b % 3)
      ),
      async (payload, delimiter) => {
        const writer = new ShortWriter([3]);
        const wire = concat([payload, delimiter]);
        const ok = naiveIndexOf(wire, delimiter) === payload.byteLength;
        if (ok) {
          await writeDelimited(writer, payload, { delimiter });
          assert.deepEqual(writer.bytes(), wire);
        } else {
          await assert.rejects(
            writeDelimited(writer, payload, { delimiter }),
            RangeError,
          );
          assert.equal(writer.calls, 0);
        }
      },
    ),
    { numRuns: 1000 },
  );
});
