/** Reading a connector's platform settings the same way in every connector. */
import { ConnectorError, type ConnectorContext } from '../types';

/**
 * The whole-number setting `name` from `min` to `max`, or `fallback` when it is not set; anything
 * else is a ConnectorError naming the platform ("The Revel setting pageSize must be …").
 */
export function wholeSetting(ctx: Pick<ConnectorContext, 'settings'>, platform: string, name: string, fallback: number, min: number, max: number): number {
  const v = ctx.settings[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConnectorError(`The ${platform} setting ${name} must be a whole number from ${min} to ${max}.`, false);
  return v;
}
