// Runs one scenario against each length-prefixed decoder, so that
// readFrame, FrameReader and FrameDecoderStream are held to the same rules.
import assert from "node:assert/strict";
import {
  FrameDecoderStream,
  type FrameOptions,
  FrameReader,
  readFrame,
} from "tcpframe";
import { ChunkedReader, collect, streamOf } from "./_fixtures.ts";

/** Decodes every frame from `chunks`; throws what the decoder throws. */
export type Decode = (
  chunks: readonly Uint8Array[],
  options?: FrameOptions,
) => Promise<Uint8Array[]>;

function readerOf(chunks: readonly Uint8Array[]): ChunkedReader {
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.byteLength;
  }
  return new ChunkedReader(data, chunks.map((c) => Math.max(1, c.byteLength)));
}

export const decoders: Record<string, Decode> = {
  async readFrame(chunks, options) {
    const reader = readerOf(chunks);
    const frames: Uint8Array[] = [];
    for (;;) {
      const frame = await readFrame(reader, options);
      if (frame === null) return frames;
      frames.push(frame);
    }
  },
  async FrameReader(chunks, options) {
    const frames: Uint8Array[] = [];
    for await (const frame of new FrameReader(readerOf(chunks), options)) {
      frames.push(frame);
    }
    return frames;
  },
  async "FrameReader (16-byte buffer)"(chunks, options) {
    const frames: Uint8Array[] = [];
    const reader = new FrameReader(readerOf(chunks), {
      ...options,
      readBufferSize: 16,
    });
    for (;;) {
      const frame = await reader.read();
      if (frame === null) return frames;
      frames.push(frame);
    }
  },
  async "FrameReader (borrowed frames)"(chunks, options) {
    const frames: Uint8Array[] = [];
    const reader = new FrameReader(readerOf(chunks), {
      ...options,
      borrowFrames: true,
      readBufferSize: 64,
    });
    // A borrowed frame is valid until the next read: copy it first.
    for await (const frame of reader) frames.push(frame.slice());
    return frames;
  },
  async "FrameReader.readBatch()"(chunks, options) {
    const frames: Uint8Array[] = [];
    const reader = new FrameReader(readerOf(chunks), {
      ...options,
      readBufferSize: 48,
    });
    for (let batch; (batch = await reader.readBatch()) !== null;) {
      assert(batch.length > 0, "a batch is never empty");
      frames.push(...batch);
    }
    return frames;
  },
  async "FrameReader (ReadableStream)"(chunks, options) {
    const frames: Uint8Array[] = [];
    const stream = streamOf(chunks.map((c) => c.slice()));
    for await (const frame of new FrameReader(stream, options)) {
      frames.push(frame);
    }
    return frames;
  },
  async "FrameReader.readBatch() (ReadableStream, borrowed frames)"(
    chunks,
    options,
  ) {
    const frames: Uint8Array[] = [];
    const stream = streamOf(chunks.map((c) => c.slice()));
    const reader = new FrameReader(stream, { ...options, borrowFrames: true });
    for (let batch; (batch = await reader.readBatch()) !== null;) {
      assert(batch.length > 0, "a batch is never empty");
      // Borrowed frames are valid until the next read: copy them first.
      frames.push(...batch.map((frame) => frame.slice()));
    }
    return frames;
  },
  FrameDecoderStream(chunks, options) {
    return collect(
      streamOf(chunks.map((c) => c.slice())).pipeThrough(
        new FrameDecoderStream(options),
      ),
    );
  },
};
