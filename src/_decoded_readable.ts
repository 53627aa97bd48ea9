// The readable side of the decoder streams, built so that an error never
// overtakes the frames decoded before it.
//
// A TransformStream whose transform() or flush() throws errors its readable
// side at once, and an errored ReadableStream drops the chunks still queued
// in it: the frames that came in the same chunk as a bad header (which a
// FrameReader hands out before its error) would be lost. So the decoder
// streams decode in pull() instead, one input chunk per pull, and an error
// found after some frames waits until those frames have been read.

/** A push-style decoder: chunks in, frames out through `emit`. */
export interface ChunkDecoder {
  /** Decodes `chunk`; throws on input that cannot be framed. */
  push(chunk: Uint8Array, emit: (frame: Uint8Array) => void): void;
  /** The input ended; throws if it ended inside a frame. */
  end(): void;
}

/**
 * Gives `stream` (a TransformStream built without a transformer, so its
 * readable side repeats its input) a readable side of the frames `decoder`
 * finds in that input. Input is read only as frames are read, so
 * backpressure flows through; after an error the input is cancelled.
 */
export function decodeReadable(
  stream: TransformStream<Uint8Array, Uint8Array>,
  decoder: ChunkDecoder,
): void {
  const input = stream.readable.getReader();
  let failure: { error: unknown } | undefined;
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      // A pull comes only once the queue is empty (high-water mark 0), so
      // erroring here drops nothing.
      if (failure !== undefined) throw failure.error;
      let emitted = 0;
      const emit = (frame: Uint8Array) => {
        controller.enqueue(frame);
        emitted++;
      };
      while (emitted === 0) {
        const next = await input.read();
        try {
          if (next.done) {
            decoder.end();
            controller.close();
            return;
          }
          decoder.push(next.value, emit);
        } catch (error) {
          input.cancel(error).catch(() => {}); // the input is out of sync
          if (emitted === 0) throw error;
          failure = { error };
        }
      }
    },
    cancel(reason) {
      return input.cancel(reason);
    },
  }, { highWaterMark: 0 });
  Object.defineProperty(stream, "readable", {
    value: readable,
    enumerable: true,
  });
}
