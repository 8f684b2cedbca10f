import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHealthServer, type MetricsEndpoint } from '../../src/runtime/health.ts';

/**
 * Scrapes /metrics the way Prometheus does (HTTP GET of the text exposition) and reads the samples back, for
 * the metrics tests: a metric that is registered but not served, or served under another name, fails there.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  contentType: string;
  text: string;
  samples: Sample[];
  /** Families declared by `# TYPE name type`. */
  types: Map<string, string>;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Pick<Scrape, 'samples' | 'types'> {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL)) {
      labels[key!] = raw!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return { samples, types };
}

/** Samples named `name` whose labels include `labels`. */
export function find(scrape: Scrape, name: string, labels: Record<string, string> = {}): Sample[] {
  return scrape.samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

/** The value of the one sample named `name` with `labels`; undefined when there is none, an error when several. */
export function value(scrape: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = find(scrape, name, labels);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

export class MetricsServer {
  readonly server: Server;
  readonly url: string;

  private constructor(server: Server, url: string) {
    this.server = server;
    this.url = url;
  }

  /** The health server with `metrics` on an ephemeral port of 127.0.0.1. */
  static async start(metrics: MetricsEndpoint): Promise<MetricsServer> {
    const server = await startHealthServer(0, [], '127.0.0.1', metrics);
    const { port } = server.address() as AddressInfo;
    return new MetricsServer(server, `http://127.0.0.1:${port}`);
  }

  async scrape(): Promise<Scrape> {
    const response = await fetch(`${this.url}/metrics`);
    const text = await response.text();
    if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}: ${text}`);
    return { contentType: response.headers.get('content-type') ?? '', text, ...parseExposition(text) };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
