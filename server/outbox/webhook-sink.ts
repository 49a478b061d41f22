/**
 * Outgoing notifications: a signed POST (Standard Webhooks, same scheme as our relays) to an
 * integrator's URL for each outbox row. `webhook-id` is stable across retries so the receiver can dedupe.
 */
import { Webhook } from 'standardwebhooks';
import type { NotifyConfig } from '../config';
import type { OutboxEntry } from '../store/types';
import { parseRetryAfter } from '../util';
import { DeliveryError, type Sink } from './sink';

const SEVERITY_MARK: Record<string, string> = { critical: ':rotating_light:', warning: ':warning:', info: ':information_source:' };

/** One line a person reads in a chat channel (Slack incoming-webhook `text`, mrkdwn). */
export function slackText(topic: string, payload: unknown): string {
  const p = (payload ?? {}) as { alert?: { kind?: string; severity?: string; message?: string; status?: string }; sku?: string; locationId?: string; available?: number };
  if (topic === 'alert.raised' && p.alert) {
    const mark = SEVERITY_MARK[p.alert.severity ?? 'info'] ?? '';
    return `${mark} *stockrelay ${p.alert.status === 'resolved' ? 'resolved' : p.alert.severity ?? 'alert'}*: ${p.alert.message ?? p.alert.kind ?? ''}`.trim();
  }
  if (topic === 'level.changed') return `stockrelay: ${p.sku ?? '?'} at ${p.locationId ?? '?'} — ${p.available ?? '?'} available.`;
  const po = (payload as { purchaseOrder?: { number?: string; customer?: string; status?: string; reason?: string | null } } | null)?.purchaseOrder;
  if (topic === 'purchase_order.changed' && po) {
    return `stockrelay: purchase order ${po.number ?? '?'} from ${po.customer ?? '?'} is ${(po.status ?? '?').replace(/_/g, ' ')}${po.reason ? ` — ${po.reason}` : ''}`;
  }
  return `stockrelay: ${topic}`;
}

export class WebhookSink implements Sink {
  readonly id: string;
  private readonly signer: Webhook | null;

  constructor(
    private readonly cfg: NotifyConfig,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.id = `notify:${cfg.id}`;
    this.signer = cfg.secret ? new Webhook(cfg.secret) : null;
  }

  async deliver(entry: OutboxEntry, signal: AbortSignal): Promise<void> {
    const now = this.clock();
    const msgId = `msg_outbox_${entry.id}`;
    const body = this.cfg.format === 'slack' ? JSON.stringify({ text: slackText(entry.topic, entry.payload) }) : JSON.stringify({ type: entry.topic, timestamp: now.toISOString(), data: entry.payload });
    // webhook-id and webhook-timestamp go out signed or not, so every receiver can dedupe retries.
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'stockrelay',
      'webhook-id': msgId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    };
    if (this.signer) headers['webhook-signature'] = this.signer.sign(msgId, now, body);
    let res: Response;
    try {
      res = await fetch(this.cfg.url, { method: 'POST', headers, body, signal, redirect: 'error' });
    } catch (err) {
      const host = new URL(this.cfg.url).host;
      if (signal.aborted) throw new DeliveryError(`${host} did not answer in time.`);
      // fetch says only "fetch failed"; the reason (connect ECONNREFUSED …, unexpected redirect) is its
      // cause. Its messages may quote the URL with user:password in it: keep those out.
      const cause = (err as { cause?: { message?: unknown } }).cause;
      const why = typeof cause?.message === 'string' ? cause.message : (err as Error).message;
      throw new DeliveryError(`Cannot reach ${host}: ${why.replace(/\/\/[^/?#\s@]*@/g, '//')}`);
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return;
    const after = parseRetryAfter(res.headers.get('retry-after'), now.getTime());
    throw new DeliveryError(`${new URL(this.cfg.url).host} answered HTTP ${res.status}.`, after, res.status === 410);
  }
}
