// Waiting one turn of the event loop without a timer: a message through a
// MessageChannel (Deno and Node both have one), about 5 us, where
// setTimeout(0) takes a millisecond or more.

// @types/node declares MessageChannel as a value only: name its instances.
type Channel = InstanceType<typeof MessageChannel>;
/** A port as Deno and Node have it: `ref()`/`unref()` hold the loop open. */
type RefPort = Channel["port1"] & { ref?(): void; unref?(): void };

/**
 * Hands out turns of the event loop. The channel holds the event loop open
 * only while a turn is awaited; close it when done.
 */
export class MacrotaskYield {
  #channel: Channel | undefined;
  #wake: (() => void) | undefined;

  /** Resolves after the tasks already queued on the event loop ran. */
  next(): Promise<void> {
    if (this.#channel === undefined) {
      this.#channel = new MessageChannel();
      const port = this.#channel.port1 as RefPort;
      port.onmessage = () => {
        port.unref?.();
        const wake = this.#wake;
        this.#wake = undefined;
        wake?.();
      };
    }
    const channel = this.#channel;
    (channel.port1 as RefPort).ref?.();
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      channel.port2.postMessage(undefined);
    });
  }

  /** Releases the channel; `next()` opens a new one. */
  close(): void {
    this.#channel?.port1.close();
    this.#channel?.port2.close();
    this.#channel = undefined;
    this.#wake?.();
    this.#wake = undefined;
  }
}
