/** A webhook receiver on 127.0.0.1 that keeps each WooCommerce delivery's raw bytes and headers. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  raw: Buffer;
  headers: http.IncomingHttpHeaders;
}

export class WooWebhookSink {
  readonly received: Received[] = [];
  private server: http.Server | null = null;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ raw: Buffer.concat(chunks), headers: req.headers });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/webhooks/woo-web`;
  }

  topics(): string[] {
    return this.received.map((r) => String(r.headers['x-wc-webhook-topic']));
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
