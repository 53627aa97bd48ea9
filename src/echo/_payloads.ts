// Generated payloads for --size/--count, and the checksum that verifies them.

/**
 * `size` deterministic pseudo-random bytes for frame `index` (xorshift32, a
 * different seed per frame, so a swapped or repeated echo is caught).
 */
export function generatePayload(index: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = (Math.imul(index + 1, 0x9e37_79b1) >>> 0) || 1;
  const words = new Uint32Array(bytes.buffer, 0, size >>> 2);
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  for (let i = words.length * 4; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** The 32-bit FNV-1a hash of `bytes`. */
export function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c_9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash = Math.imul(hash ^ bytes[i]!, 0x0100_0193);
  }
  return hash >>> 0;
}

/** A checksum as 8 hex digits. */
export function hex32(value: number): string {
  return value.toString(16).padStart(8, "0");
}
