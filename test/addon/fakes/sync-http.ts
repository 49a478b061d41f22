/**
 * Synchronous HTTP for the UrlFetchApp fake: Apps Script's fetch blocks, Node's does not. A worker
 * thread makes the real request while this thread waits on an Atomics cell, then reads the answer
 * from a message port without yielding. The server must run in another thread or process (this
 * one is blocked while it waits), which is why the end-to-end test runs its hubs in a child process.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { FROM_THIS_MACHINE, type HttpHandler, type HttpRequest } from './gas';

const WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', async ({ req, port, signal, timeoutMs }) => {
  let answer;
  try {
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.method === 'GET' ? undefined : req.body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    answer = { status: res.status, body: await res.text() };
  } catch (err) {
    const cause = err && err.cause && (err.cause.code || err.cause.message);
    answer = { error: String(cause || (err && err.message) || err) };
  }
  port.postMessage(answer);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
`;

export class SyncHttp {
  private readonly worker = new Worker(WORKER, { eval: true });

  constructor(private readonly timeoutMs = 15_000) {
    this.worker.unref();
  }

  /**
   * A handler for FakeUrlFetchApp that sends each request over real HTTP, from this machine (marked
   * so: the add-on then accepts a hub on 127.0.0.1, which Google's servers could never reach).
   */
  handler(): HttpHandler {
    const h: HttpHandler = (req) => this.request(req);
    return Object.assign(h, { [FROM_THIS_MACHINE]: true });
  }

  request(req: HttpRequest): { status: number; body: string } {
    const signal = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    this.worker.postMessage({ req, port: port2, signal, timeoutMs: this.timeoutMs }, [port2]);
    const r = Atomics.wait(signal, 0, 0, this.timeoutMs + 5_000);
    const msg = receiveMessageOnPort(port1)?.message as { status: number; body: string } | { error: string } | undefined;
    port1.close();
    if (r === 'timed-out' || !msg) throw new Error(`Exception: Timeout: ${req.url}`);
    if ('error' in msg) throw new Error(`Exception: Address unavailable: ${req.url} (${msg.error})`);
    return msg;
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}
