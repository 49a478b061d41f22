/**
 * A webhook receiver on 127.0.0.1 that keeps each delivery's raw bytes and headers, for the
 * connector tests of every platform: it answers `status` (200 unless a test says otherwise).
 */
import http from 'node:http';
import type { ChannelFact, VerifyResult } from '../../../server/connectors/types';
import type { AddressInfo } from 'node:net';

export interface Received {
  raw: Buffer;
  headers: http.IncomingHttpHeaders;
}

/** Where each platform names a delivery's topic. */
export const TOPIC_OF = {
  shopify: (r: Received) => String(r.headers['x-shopify-topic']),
  // Square names the event type in the body, not in a header.
  square: (r: Received) => String((JSON.parse(r.raw.toString('utf8')) as { type?: unknown }).type),
  woocommerce: (r: Received) => String(r.headers['x-wc-webhook-topic']),
};

export class WebhookSink {
  readonly received: Received[] = [];
  status = 200;
  private server: http.Server | null = null;

  /** `path` is part of the URL to subscribe (Square signs the whole notification URL). */
  constructor(
    private readonly path = '/v1/webhooks/shopify-web',
    private readonly topicOf: (r: Received) => string = TOPIC_OF.shopify,
  ) {}

  /** Resolves with the URL to subscribe. */
  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ raw: Buffer.concat(chunks), headers: req.headers });
        res.writeHead(this.status).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${this.path}`;
  }

  /** Every delivery so far, checked with `verify` (a forged one throws) and translated, with its body. */
  translated<B>(verify: (raw: Buffer, headers: Record<string, string>) => VerifyResult, translate: (topic: string, body: B, headers: Record<string, string>) => ChannelFact[]): { topic: string; body: B; facts: ChannelFact[] }[] {
    return this.received.map((r) => {
      const headers = r.headers as Record<string, string>;
      const v = verify(r.raw, headers);
      if (!v.valid) throw new Error(v.reason);
      const body = JSON.parse(r.raw.toString('utf8')) as B;
      return { topic: v.topic, body, facts: translate(v.topic, body, headers) };
    });
  }

  /** The topics received, in order. */
  topics(): string[] {
    return this.received.map(this.topicOf);
  }

  clear(): void {
    this.received.length = 0;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
