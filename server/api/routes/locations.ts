/** The locations stock is kept at, as configured. */
import { Type } from '@sinclair/typebox';
import type { Resource } from '../route';
import { admin, adminErrors, json } from '../schemas';

export const locations: Resource = {
  name: 'locations',
  routes: [
    {
      method: 'get',
      path: '/v1/locations',
      doc: { summary: 'Locations.', operationId: 'listLocations', security: admin, responses: { '200': json(Type.Object({ locations: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })) }), 'Locations.'), ...adminErrors } },
      handle: async (ctx, _req, res) => {
        res.json({ locations: await ctx.store.locations.list() });
      },
    },
  ],
};
