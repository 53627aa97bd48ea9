// Racing a promise against an AbortSignal without leaking listeners.

/**
 * Settles like `promise`, or rejects with `signal.reason` as soon as the
 * signal aborts. The operation behind `promise` is not cancelled; its late
 * result or rejection is absorbed so it never becomes an unhandled rejection.
 */
export function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** True when `error` is the reason `signal` aborted with. */
export function isAbortReason(
  error: unknown,
  signal: AbortSignal | undefined,
): boolean {
  return signal !== undefined && signal.aborted && error === signal.reason;
}
