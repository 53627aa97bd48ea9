// The length_delimited scenario list of tokio-util, in spirit, run against
// every decoder.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeFrame,
  FrameDecoderStream,
  type FrameOptions,
  FrameReader,
  FrameTooLargeError,
  InvalidFrameError,
  type LengthFieldLength,
  UnexpectedEofError,
} from "tcpframe";
import { decoders } from "./_decoders.ts";
import { concat, pseudoRandomBytes } from "./_fixtures.ts";

const b = (...bytes: number[]) => new Uint8Array(bytes);
const text = new TextEncoder();

for (const [name, decode] of Object.entries(decoders)) {
  describe(name, () => {
    test("read_empty_io_yields_nothing", async () => {
      assert.deepEqual(await decode([]), []);
    });

    test("read_single_frame_one_packet", async () => {
      assert.deepEqual(
        await decode([b(0, 0, 0, 9, ...text.encode("abcdefghi"))]),
        [
          text.encode("abcdefghi"),
        ],
      );
    });

    test("read_single_frame_multi_packet", async () => {
      const wire = encodeFrame(text.encode("abcdefghi"));
      const chunks = [...wire].map((x) => b(x));
      assert.deepEqual(await decode(chunks), [text.encode("abcdefghi")]);
    });

    test("read_multi_frame_one_packet", async () => {
      const frames = ["abc", "", "defghijkl"].map((s) => text.encode(s));
      assert.deepEqual(
        await decode([concat(frames.map((f) => encodeFrame(f)))]),
        frames,
      );
    });

    test("read_multi_frame_multi_packet", async () => {
      const frames = ["abc", "defg", "h"].map((s) => text.encode(s));
      const wire = concat(frames.map((f) => encodeFrame(f)));
      const chunks = [
        wire.subarray(0, 2),
        wire.subarray(2, 9),
        wire.subarray(9),
      ];
      assert.deepEqual(await decode(chunks), frames);
    });

    test("read_zero_length_frames", async () => {
      assert.deepEqual(await decode([b(0, 0, 0, 0, 0, 0, 0, 0)]), [b(), b()]);
    });

    test("read_incomplete_head", async () => {
      await assert.rejects(decode([b(0, 0)]), (error) => {
        assert.ok(error instanceof UnexpectedEofError);
        assert.equal(error.bytesRead, 2);
        assert.equal(error.expected, 4);
        assert.match(
          error.message,
          /^Cannot read frame header: stream ended after 2 of 4 bytes$/,
        );
        return true;
      });
    });

    test("read_incomplete_payload", async () => {
      await assert.rejects(decode([b(0, 0, 0, 9, 1, 2, 3)]), (error) => {
        assert.ok(error instanceof UnexpectedEofError);
        assert.equal(error.bytesRead, 3);
        assert.equal(error.expected, 9);
        assert.deepEqual(error.partial, b(1, 2, 3));
        assert.match(
          error.message,
          /^Cannot read frame payload: stream ended after 3 of 9 bytes$/,
        );
        return true;
      });
    });

    test("read_incomplete_payload_after_complete_frames", async () => {
      await assert.rejects(decode([b(0, 0, 0, 1, 7, 0, 0, 0, 2, 8)]), {
        name: "UnexpectedEofError",
        message: "Cannot read frame payload: stream ended after 1 of 2 bytes",
      });
    });

    test("read_max_frame_len", async () => {
      // 4 GiB announced: the error comes before any allocation of that size.
      await assert.rejects(decode([b(0xff, 0xff, 0xff, 0xff, 1)]), (error) => {
        assert.ok(error instanceof FrameTooLargeError);
        assert.equal(error.code, "FRAME_TOO_LARGE");
        assert.equal(error.size, 0xffff_ffff);
        assert.equal(error.limit, 1_048_576);
        return true;
      });
    });

    test("read_frame_at_max_frame_len", async () => {
      const options = { maxFrameSize: 5 };
      assert.deepEqual(await decode([b(0, 0, 0, 5, 1, 2, 3, 4, 5)], options), [
        b(1, 2, 3, 4, 5),
      ]);
      await assert.rejects(
        decode([b(0, 0, 0, 6)], options),
        FrameTooLargeError,
      );
    });

    test("read_header_offset", async () => {
      // Two bytes of junk before the length field; strip everything.
      const options = { lengthFieldOffset: 2 };
      assert.deepEqual(await decode([b(9, 9, 0, 0, 0, 2, 5, 6)], options), [
        b(5, 6),
      ]);
    });

    test("read_postgresql_message_keeping_the_header", async () => {
      const options = {
        lengthFieldOffset: 1,
        lengthAdjustment: -4,
        bytesToStrip: 0,
      };
      const message = b(0x5a, 0, 0, 0, 5, 0x49); // ReadyForQuery, idle
      assert.deepEqual(await decode([concat([message, message])], options), [
        message,
        message,
      ]);
    });

    test("read_single_frame_length_adjusted", async () => {
      // The length counts its own four bytes.
      assert.deepEqual(
        await decode([b(0, 0, 0, 7, 1, 2, 3)], { lengthAdjustment: -4 }),
        [
          b(1, 2, 3),
        ],
      );
    });

    test("read_negative_adjusted_length_is_invalid", async () => {
      await assert.rejects(
        decode([b(0, 0, 0, 2, 1, 2)], { lengthAdjustment: -4 }),
        (error) => {
          assert.ok(error instanceof InvalidFrameError);
          assert.equal(error.code, "INVALID_FRAME");
          return true;
        },
      );
    });

    test("read_partial_header_kept", async () => {
      // Keep the last 2 of a 4-byte header: strip only 2.
      assert.deepEqual(await decode([b(0, 0, 0, 1, 7)], { bytesToStrip: 2 }), [
        b(0, 1, 7),
      ]);
    });

    test("read_one_byte_length_field", async () => {
      assert.deepEqual(
        await decode([b(2, 1, 2, 0)], { lengthFieldLength: 1 }),
        [b(1, 2), b()],
      );
    });

    test("read_two_byte_dns_style", async () => {
      assert.deepEqual(
        await decode([b(0, 2, 0xab, 0xcd)], { lengthFieldLength: 2 }),
        [
          b(0xab, 0xcd),
        ],
      );
    });

    test("read_three_byte_little_endian", async () => {
      const options = { lengthFieldLength: 3, littleEndian: true } as const;
      assert.deepEqual(await decode([b(1, 0, 0, 42)], options), [b(42)]);
    });

    test("read_single_frame_little_endian", async () => {
      assert.deepEqual(
        await decode([b(2, 0, 0, 0, 8, 9)], { littleEndian: true }),
        [b(8, 9)],
      );
    });

    test("read_eight_byte_length_field", async () => {
      const options = { lengthFieldLength: 8 } as const;
      assert.deepEqual(await decode([b(0, 0, 0, 0, 0, 0, 0, 1, 5)], options), [
        b(5),
      ]);
      assert.deepEqual(
        await decode([b(1, 0, 0, 0, 0, 0, 0, 0, 6)], {
          ...options,
          littleEndian: true,
        }),
        [b(6)],
      );
    });

    test("read_eight_byte_length_beyond_2_pow_53_is_invalid", async () => {
      await assert.rejects(
        decode([b(0, 0x20, 0, 0, 0, 0, 0, 0)], { lengthFieldLength: 8 }),
        InvalidFrameError,
      );
    });

    test("read_eight_byte_length_over_the_cap", async () => {
      await assert.rejects(
        decode([b(0, 0x1f, 0, 0, 0, 0, 0, 0)], { lengthFieldLength: 8 }),
        FrameTooLargeError,
      );
    });

    test("read_varint_lengths", async () => {
      const payload = pseudoRandomBytes(300);
      const wire = concat([b(0xac, 0x02), payload, b(0), b(1, 7)]);
      assert.deepEqual(
        await decode([wire.subarray(0, 1), wire.subarray(1)], {
          lengthFieldLength: "varint",
        }),
        [payload, b(), b(7)],
      );
    });

    test("read_varint_that_never_ends_is_invalid", async () => {
      await assert.rejects(
        decode([new Uint8Array(9).fill(0x80)], { lengthFieldLength: "varint" }),
        InvalidFrameError,
      );
    });

    test("read_varint_incomplete_head", async () => {
      await assert.rejects(decode([b(0x80)], { lengthFieldLength: "varint" }), {
        name: "UnexpectedEofError",
        message: /frame header/,
      });
    });

    test("read_varint_incomplete_head_after_an_offset", async () => {
      // One byte of a header that needs the 2 offset bytes and >= 1 varint byte.
      const options = {
        lengthFieldLength: "varint",
        lengthFieldOffset: 2,
      } as const;
      await assert.rejects(decode([b(0, 0, 1, 9, 7)], options), (error) => {
        assert.ok(error instanceof UnexpectedEofError);
        assert.equal(error.bytesRead, 1);
        assert.equal(error.expected, 3);
        assert.match(
          error.message,
          /frame header: stream ended after 1 of 3 bytes/,
        );
        return true;
      });
    });

    test("read_frame_larger_than_the_read_buffer", async () => {
      const big = pseudoRandomBytes(200_000, 3);
      const wire = concat([
        encodeFrame(b(1)),
        encodeFrame(big),
        encodeFrame(b(2)),
      ]);
      const chunks = [];
      for (let i = 0; i < wire.byteLength; i += 7000) {
        chunks.push(wire.subarray(i, i + 7000));
      }
      assert.deepEqual(await decode(chunks), [b(1), big, b(2)]);
    });

    test("read_every_split_point_of_a_multi_frame_stream", async () => {
      const frames = [b(1, 2, 3), b(), b(4), b(5, 6, 7, 8, 9)];
      const wire = concat(frames.map((f) => encodeFrame(f)));
      for (let i = 0; i <= wire.byteLength; i++) {
        for (let j = i; j <= wire.byteLength; j++) {
          const chunks = [
            wire.subarray(0, i),
            wire.subarray(i, j),
            wire.subarray(j),
          ]
            .filter((c) => c.byteLength > 0);
          assert.deepEqual(await decode(chunks), frames, `split at ${i}, ${j}`);
        }
      }
    });
  });
}

test("layout options are validated at construction", () => {
  const bad: Array<[FrameOptions, ErrorConstructor | RangeErrorConstructor]> = [
    [{ lengthFieldLength: 5 as LengthFieldLength }, RangeError],
    [{ lengthFieldLength: "4" as unknown as LengthFieldLength }, TypeError],
    [{ lengthFieldLength: "varint", littleEndian: true }, TypeError],
    [{ lengthFieldOffset: -1 }, RangeError],
    [{ lengthAdjustment: 0.5 }, RangeError],
    [{ bytesToStrip: 5 }, RangeError],
    [{ lengthFieldLength: "varint", bytesToStrip: 1 }, RangeError],
    [{ maxFrameSize: -1 }, RangeError],
    [{ maxFrameSize: "1" as unknown as number }, TypeError],
  ];
  for (const [options, kind] of bad) {
    assert.throws(
      () => new FrameReader({ read: () => Promise.resolve(null) }, options),
      kind,
    );
    assert.throws(() => new FrameDecoderStream(options), kind);
  }
  assert.throws(
    () =>
      new FrameReader({ read: () => Promise.resolve(null) }, {
        readBufferSize: 0,
      }),
    RangeError,
  );
});

const layoutArb = fc.oneof(
  fc.record({
    lengthFieldLength: fc.constantFrom<LengthFieldLength>(1, 2, 3, 4, 8),
    littleEndian: fc.boolean(),
    lengthAdjustment: fc.integer({ min: -8, max: 0 }),
  }),
  fc.record({ lengthFieldLength: fc.constant<LengthFieldLength>("varint") }),
);

test("every decoder, property: any frames, any layout, any chunking give the same frames", async () => {
  await fc.assert(
    fc.asyncProperty(
      layoutArb,
      fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 12 }),
      fc.array(fc.integer({ min: 1, max: 64 }), {
        minLength: 1,
        maxLength: 10,
      }),
      async (layout, frames, cuts) => {
        const wire = concat(frames.map((f) => encodeFrame(f, layout)));
        const chunks: Uint8Array[] = [];
        for (let at = 0, i = 0; at < wire.byteLength; i++) {
          const n = cuts[i % cuts.length]!;
          chunks.push(wire.subarray(at, at + n));
          at += n;
        }
        for (const [name, decode] of Object.entries(decoders)) {
          assert.deepEqual(await decode(chunks, layout), frames, name);
        }
      },
    ),
    { numRuns: 1000 },
  );
});
