/** What the connectors' order tests ask of translated facts. */
import { planFacts } from '../../../server/core/channel-plan';
import type { ChannelFact, OrderDetails } from '../../../server/connectors/types';

/** The order details a sale, cancellation or order update carries. */
export const orderOf = (f: ChannelFact | undefined): OrderDetails | undefined =>
  f && (f.type === 'sale' || f.type === 'cancellation' || f.type === 'order_updated') ? f.order : undefined;

/** What planFacts would book from these facts on channel `channelId` (every line resolvable): the test of "never stock". */
export function booked(facts: ChannelFact[], channelId: string) {
  return planFacts(facts, { channelId, channelName: channelId, resolve: () => ({ sku: 'SKU', location: 'gallery' }) }).filter((p) => p.kind === 'command');
}
