/** A webhook receiver on 127.0.0.1 that keeps each Square delivery's raw bytes and headers. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  raw: Buffer;
  headers: http.IncomingHttpHeaders;
}

export class SquareWebhookSink {
  readonly received: Received[] = [];
  status = 200;
  private server: http.Server | null = null;

  /** Resolves with the URL to subscribe, which is also the notification URL Square signs. */
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
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/webhooks/square-pos`;
  }

  /** The event types received, in order (Square names the topic in the body, not in a header). */
  topics(): string[] {
    return this.received.map((r) => String((JSON.parse(r.raw.toString('utf8')) as { type?: unknown }).type));
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
