/**
 * A loopback server in front of a platform emulator, as a proxy or a firewall would stand in front of
 * a real shop: it passes every request on, or — while `refuse` is set — answers every request itself
 * with that status and body (a revoked key, a missing permission, a route that is gone), so the
 * connector sees whole requests refused. `rewrite` may change a request body on its way (to make the
 * platform refuse one item of a batch). Every request is recorded with what it was answered.
 */
import http from 'node:http';
import { closeServer, listenOnLoopback, loopbackUrl } from '../../server/connectors/emulator';

export interface Refusal {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export class Front {
  refuse: Refusal | null = null;
  /** When set, `refuse` applies only to the requests it picks (e.g. writes); the others pass. */
  refuseOnly: ((method: string, path: string) => boolean) | null = null;
  rewrite: ((method: string, path: string, body: string) => string) | null = null;
  readonly requests: { method: string; path: string; status: number }[] = [];
  private server: http.Server | null = null;

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    this.server = await listenOnLoopback((req, res) => void this.handle(req, res));
    return loopbackUrl(this.server);
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
    this.server = null;
  }

  /** Requests refused since `from` (an index into `requests`). */
  refusedSince(from: number): number {
    return this.requests.slice(from).filter((r) => r.status >= 400).length;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const refusal = this.refuse && (!this.refuseOnly || this.refuseOnly(method, path)) ? this.refuse : null;
    if (refusal) {
      this.requests.push({ method, path, status: refusal.status });
      const text = typeof refusal.body === 'string' ? refusal.body : JSON.stringify(refusal.body);
      res.writeHead(refusal.status, { 'content-type': typeof refusal.body === 'string' ? 'text/html' : 'application/json', ...refusal.headers });
      res.end(text);
      return;
    }
    if (this.rewrite && body !== '') body = this.rewrite(method, path, body);
    const headers = { ...req.headers };
    delete headers.host;
    delete headers['content-length'];
    delete headers['transfer-encoding'];
    const target = new URL(path, this.target);
    await new Promise<void>((resolve) => {
      const out = http.request(target, { method, headers: { ...headers, ...(body !== '' ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (answer) => {
        const status = answer.statusCode ?? 502;
        this.requests.push({ method, path, status });
        res.writeHead(status, answer.headers);
        answer.pipe(res);
        answer.on('end', () => resolve());
      });
      out.on('error', () => {
        this.requests.push({ method, path, status: 502 });
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('bad gateway');
        resolve();
      });
      out.end(body === '' ? undefined : body);
    });
  }
}
