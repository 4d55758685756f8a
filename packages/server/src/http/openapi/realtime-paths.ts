// The realtime WebSocket (contract §8) in the OpenAPI document: OpenAPI cannot describe the
// messages of a WebSocket, so the entry documents the upgrade and points to docs/realtime.md.

import { errorResponses, PROBLEM_MEDIA_TYPE, ref, type OpenApiObject } from './problems.ts';
import { OPTIONAL_AUTH } from './record-paths.ts';

export function realtimePaths(): Record<string, OpenApiObject> {
  return {
    '/api/v1/realtime': {
      get: {
        operationId: 'openRealtime',
        tags: ['Realtime'],
        summary: 'Open the realtime WebSocket',
        description:
          'A WebSocket upgrade (`Connection: Upgrade`, `Upgrade: websocket`). Messages are envelopes `{"type", "data", "ts"}`: ' +
          '`auth`, `subscribe` `{id, collection, recordId?, filter?, since?}` and `unsubscribe` from the client; `subscribed`, `event`, ' +
          '`resync_required` and `error` from the server (docs/realtime.md). Authenticate with the session cookie at the handshake or an ' +
          '`auth` message; a browser handshake must come from an allowed Origin.',
        security: OPTIONAL_AUTH,
        responses: {
          101: { description: 'Switching protocols: the connection is now a WebSocket.' },
          426: { description: 'Not an Upgrade request (code `bad_request`; the response carries `Upgrade: websocket`).', content: { [PROBLEM_MEDIA_TYPE]: { schema: ref('schemas', 'Problem') } } },
          ...errorResponses(403),
        },
      },
    },
  };
}
