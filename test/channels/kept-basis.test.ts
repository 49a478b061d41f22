/**
 * What a push's answer may put back as the basis of a level (server/channels/sink.ts keptBasis,
 * docs/attribution.md "The same number, other stock"): the basis the push was sent with is replaced
 * by the one in its answer; a basis booked from a report while the push was out is never replaced
 * by an older one, or the next push would wait for a change its feed has already reported.
 */
import { keptBasis } from '../../server/channels/sink';
import type { PushOutcome } from '../../server/connectors/types';

const applied = (basis?: string): PushOutcome => ({ sku: 'ART-1', locationId: 'default', status: 'applied', level: 4, ...(basis !== undefined ? { basis } : {}) });

describe('the basis a push answer leaves behind', () => {
  test('sent with mvt:2 and nothing booked since: the answer’s mvt:7 is kept', () => {
    expect(keptBasis(applied('mvt:7'), 'mvt:2', 'mvt:2')).toEqual({ basis: 'mvt:7' });
    expect(keptBasis(applied('mvt:7'), null, null)).toEqual({ basis: 'mvt:7' });
  });

  test('sent with mvt:2, a report booked mvt:9 while it was out: the answer’s mvt:7 is dropped and mvt:9 stays', () => {
    expect(keptBasis(applied('mvt:7'), 'mvt:2', 'mvt:9')).toEqual({});
    expect(keptBasis({ sku: 'ART-1', locationId: 'default', status: 'stale', observed: 3, basis: 'mvt:7' }, null, 'mvt:9')).toEqual({});
  });

  test('an answer with no basis, an empty one, one too long to keep, or a refusal leaves the held basis as it is', () => {
    expect(keptBasis(applied(), 'mvt:2', 'mvt:2')).toEqual({});
    expect(keptBasis(applied(''), 'mvt:2', 'mvt:2')).toEqual({});
    expect(keptBasis(applied(`mvt:${'9'.repeat(300)}`), 'mvt:2', 'mvt:2')).toEqual({});
    expect(keptBasis({ sku: 'ART-1', locationId: 'default', status: 'failed', message: 'no' }, 'mvt:2', 'mvt:2')).toEqual({});
  });
});
