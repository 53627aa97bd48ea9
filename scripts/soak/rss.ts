// Resident set size of a process, sampled from /proc/<pid>/status.

/**
 * The VmRSS of `pid` in bytes, or `null` once the process is gone (or
 * /proc cannot be read: Deno lets only `--allow-all` read it).
 */
export async function readRss(pid: number): Promise<number | null> {
  let status: string;
  try {
    status = await Deno.readTextFile(`/proc/${pid}/status`);
  } catch {
    return null;
  }
  const kib = status.match(/^VmRSS:\s+(\d+) kB$/m)?.[1];
  return kib === undefined ? null : Number(kib) * 1024;
}

/** Samples a process's RSS every `intervalMs` until stopped. */
export class RssSampler {
  readonly #pid: number;
  readonly #timer: ReturnType<typeof setInterval>;
  #peak = 0;
  #last = 0;
  #samples = 0;
  #pending: Promise<void> = Promise.resolve();

  constructor(pid: number, intervalMs = 100) {
    this.#pid = pid;
    this.#timer = setInterval(() => {
      this.#pending = this.#pending.then(async () => {
        await this.sample();
      });
    }, intervalMs);
  }

  /** Takes one sample now; returns it (bytes), or null if the process is gone. */
  async sample(): Promise<number | null> {
    const rss = await readRss(this.#pid);
    if (rss !== null) {
      this.#samples++;
      this.#last = rss;
      if (rss > this.#peak) this.#peak = rss;
    }
    return rss;
  }

  /** The largest sample, in bytes. */
  get peak(): number {
    return this.#peak;
  }

  /** The latest sample, in bytes. */
  get last(): number {
    return this.#last;
  }

  /** How many samples were taken. */
  get samples(): number {
    return this.#samples;
  }

  /** Stops sampling (after one last sample). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#pending;
  }
}

/** Bytes as whole MiB, for the summary. */
export function mib(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MiB`;
}
