import { TransportError } from '../gluster/errors.ts';

/**
 * What one command may print (stdout and stderr together) before the transport ends it. Every transport
 * buffers a command's whole output (the parsers want it whole), so without a cap a server that floods, or a
 * command gone wrong (`cat` of a device), costs unbounded memory in the operator.
 *
 * Why 16 MiB: the largest output the operator asks for is `gluster volume info --xml` of every volume (and
 * `volume status all detail --xml`). glusterd 10's XML takes about 0.8 KiB per volume, 0.35 KiB per brick and
 * 0.12 KiB per option (test/fixtures/heketi/live-volume-info.xml: 8.7 KiB for 3 volumes, 12 bricks, 16
 * options), so a replica-3 volume with 10 options is about 3 KiB: 16 MiB holds more than 5000 of them, above
 * what one trusted pool runs in practice. With 8 channels per node, a flooding node costs at most 128 MiB,
 * and only until the channels are closed.
 */
export const COMMAND_OUTPUT_MAX_BYTES = 16 * 2 ** 20;

/**
 * Collects a command's stdout and stderr up to `limitBytes` in all. The chunk that would cross the limit is
 * not kept, nor anything after it: what is held never exceeds the limit, however much the server sends
 * before the channel is closed.
 */
export class OutputCollector {
  readonly limitBytes: number;
  readonly #stdout: Buffer[] = [];
  readonly #stderr: Buffer[] = [];
  #bytes = 0;
  #exceeded = false;

  constructor(limitBytes: number = COMMAND_OUTPUT_MAX_BYTES) {
    if (!Number.isInteger(limitBytes) || limitBytes < 1) throw new RangeError(`limitBytes must be a positive integer, got ${limitBytes}`);
    this.limitBytes = limitBytes;
  }

  /** Bytes held now: never more than limitBytes. */
  get bytes(): number {
    return this.#bytes;
  }

  get exceeded(): boolean {
    return this.#exceeded;
  }

  /** Keeps the chunk; false (and nothing kept, now or later) once the output goes over the limit. */
  add(stream: 'stdout' | 'stderr', chunk: Buffer): boolean {
    if (this.#exceeded) return false;
    if (this.#bytes + chunk.length > this.limitBytes) {
      this.#exceeded = true;
      return false;
    }
    // A copy: some writers hand out a slice of a buffer they reuse.
    (stream === 'stdout' ? this.#stdout : this.#stderr).push(Buffer.from(chunk));
    this.#bytes += chunk.length;
    return true;
  }

  text(): { stdout: string; stderr: string } {
    return { stdout: Buffer.concat(this.#stdout).toString('utf8'), stderr: Buffer.concat(this.#stderr).toString('utf8') };
  }
}

/** A command printed more than the cap and was ended. Retryable, as every TransportError, but says why. */
export class OutputLimitError extends TransportError {
  readonly limitBytes: number;
  /** What the transport held when it gave up: at most limitBytes. */
  readonly collectedBytes: number;

  constructor(init: { node: string; argv: readonly string[]; collector: OutputCollector; ended: string }) {
    super({
      node: init.node,
      argv: init.argv,
      message:
        `output exceeded ${init.collector.limitBytes} bytes (stdout and stderr together); ${init.ended}. ` +
        'A Gluster command printing this much is not one the operator runs: look at what answers on that node',
    });
    this.name = 'OutputLimitError';
    this.limitBytes = init.collector.limitBytes;
    this.collectedBytes = init.collector.bytes;
  }
}
