/**
 * POST /1.0/commerce/inventory/adjustments as the emulator applies it: every operation checked first,
 * then all applied, or none (a refusal names the variant). Quantities of increments and decrements
 * are at least 1 ("must be greater than or equal to 1"); a decrement below zero is refused.
 */
import { ApiRefusal, errorJson, type Variant } from './model';

export interface AdjustmentsBody {
  incrementOperations?: unknown;
  decrementOperations?: unknown;
  setFiniteOperations?: unknown;
  setUnlimitedOperations?: unknown;
}

const KEYS = ['incrementOperations', 'decrementOperations', 'setFiniteOperations', 'setUnlimitedOperations'];
const bad = (message: string) => new ApiRefusal(400, errorJson('INVALID_REQUEST_ERROR', message, 'INVALID_ARGUMENT'));

function ops(v: unknown, name: string, min: number): { variantId: string; quantity: number }[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw bad(`${name} must be an array.`);
  return v.map((o: unknown) => {
    const op = o as { variantId?: unknown; quantity?: unknown };
    if (typeof o !== 'object' || o === null || typeof op.variantId !== 'string' || typeof op.quantity !== 'number' || !Number.isInteger(op.quantity) || op.quantity < min) {
      throw bad(`Each of ${name} needs a variantId and a whole quantity of at least ${min}.`);
    }
    return { variantId: op.variantId, quantity: op.quantity };
  });
}

/** Applies the request; returns the variants written. */
export function adjust(body: AdjustmentsBody, lookup: (variantId: string) => Variant | undefined, refuseSku: string | null): Variant[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('The body is not an adjustments request.');
  const unknown = Object.keys(body).filter((k) => !KEYS.includes(k));
  if (unknown.length > 0) throw bad(`Unknown field ${unknown[0]}.`);
  const inc = ops(body.incrementOperations, 'incrementOperations', 1);
  const dec = ops(body.decrementOperations, 'decrementOperations', 1);
  const set = ops(body.setFiniteOperations, 'setFiniteOperations', 0);
  const unl = body.setUnlimitedOperations === undefined ? [] : body.setUnlimitedOperations;
  if (!Array.isArray(unl) || unl.some((u) => typeof u !== 'string')) throw bad('setUnlimitedOperations must be an array of variant ids.');
  const all = [...inc, ...dec, ...set, ...(unl as string[]).map((variantId) => ({ variantId, quantity: 0 }))];
  if (all.length === 0) throw bad('No operation was given.');
  const seen = new Set<string>();
  for (const { variantId } of all) {
    const v = lookup(variantId);
    if (!v) throw new ApiRefusal(404, errorJson('NOT_FOUND', `Inventory item ${variantId} not found.`, null));
    if (seen.has(variantId)) throw bad(`Variant ${variantId} appears in more than one operation.`);
    seen.add(variantId);
    if (v.sku === refuseSku) throw bad(`Inventory item ${variantId} cannot be adjusted.`);
  }
  for (const { variantId } of [...inc, ...dec]) {
    if (lookup(variantId)!.unlimited) throw bad(`Inventory item ${variantId} has unlimited stock; it cannot be incremented or decremented.`);
  }
  for (const { variantId, quantity } of dec) {
    if (lookup(variantId)!.quantity < quantity) throw bad(`Insufficient stock to decrement inventory item ${variantId} by ${quantity}.`);
  }
  const written: Variant[] = [];
  for (const { variantId, quantity } of inc) (written[written.length] = lookup(variantId)!).quantity += quantity;
  for (const { variantId, quantity } of dec) (written[written.length] = lookup(variantId)!).quantity -= quantity;
  for (const { variantId, quantity } of set) {
    const v = lookup(variantId)!;
    v.quantity = quantity;
    v.unlimited = false;
    written.push(v);
  }
  for (const variantId of unl as string[]) {
    const v = lookup(variantId)!;
    v.unlimited = true;
    written.push(v);
  }
  return written;
}
