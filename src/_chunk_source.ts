// Sources that hand out chunks of their own instead of filling a buffer:
// the Node adapter's connection (the socket's 'data' Buffers) and any
// ReadableStream<Uint8Array>. A reader that decodes chunks takes them as
// they are; nobody writes to a chunk once it was handed out, so frames may
// be views of it.

/**
 * The method a connection implements to hand out its chunks: the next
 * chunk, `null` at the end of the stream, and, when nothing has arrived,
 * `undefined` (`wait` false) or a promise of the next chunk or `null`
 * (`wait` true). Throws, or rejects, when the connection failed.
 */
export const takeChunk: unique symbol = Symbol("tcpframe.takeChunk");

/** A source of chunks; see {@linkcode takeChunk}. */
export interface ChunkSource {
  [takeChunk](
    wait: boolean,
  ): Uint8Array | null | undefined | Promise<Uint8Array | null>;
}

/** True when `source` hands out chunks through {@linkcode takeChunk}. */
export function isChunkSource(source: unknown): source is ChunkSource {
  return typeof (source as Partial<ChunkSource>)?.[takeChunk] === "function";
}

/** True when `source` looks like a `ReadableStream`. */
export function isReadableStream(
  source: unknown,
): source is ReadableStream<Uint8Array> {
  return typeof (source as Partial<ReadableStream>)?.getReader === "function";
}

/**
 * A {@linkcode ChunkSource} over `stream`, which it locks at once. Reading
 * a stream always waits for a promise.
 *
 * @throws {TypeError} The stream is locked.
 */
export function streamSource(stream: ReadableStream<Uint8Array>): ChunkSource {
  const reader = stream.getReader();
  return {
    [takeChunk](wait) {
      if (!wait) return undefined;
      return reader.read().then((result) => result.done ? null : result.value);
    },
  };
}
