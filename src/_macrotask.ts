// Waiting one turn of the event loop without a timer: a message through a
// MessageChannel (Deno and Node both have one), about 5 us, where
// setTimeout(0) takes a millisecond or more.

/**
 * What both runtimes' ports have (@types/node types them differently from
 * the DOM): `ref()`/`unref()` hold the event loop open or let it go.
 */
interface Port {
  onmessage: ((event: unknown) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
  ref?(): void;
  unref?(): void;
}
interface Channel {
  port1: Port;
  port2: Port;
}

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
      this.#channel = new MessageChannel() as unknown as Channel;
      const port = this.#channel.port1;
      port.onmessage = () => {
        port.unref?.();
        const wake = this.#wake;
        this.#wake = undefined;
        wake?.();
      };
    }
    const channel = this.#channel;
    channel.port1.ref?.();
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
