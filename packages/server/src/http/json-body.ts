// The JSON body parser: refuses invalid UTF-8 (rather than silently replacing bytes), prototype
// poisoning keys (`__proto__`, `constructor.prototype`) and anything that is not JSON, as 400.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import { ApiError } from '../core/api-error.ts';

const decoder = new TextDecoder('utf-8', { fatal: true });

export function registerJsonParser(app: FastifyInstance, bodyLimit: number): void {
  // Only JSON is accepted (multipart arrives with uploads): anything else is 415, not a text body.
  app.removeAllContentTypeParsers();
  const parse = (_request: FastifyRequest, body: Buffer, done: (err: Error | null, value?: unknown) => void) => {
    if (body.length === 0) return done(new ApiError('bad_request', 'the JSON body is empty'));
    let text: string;
    try {
      text = decoder.decode(body);
    } catch {
      return done(new ApiError('bad_request', 'the body is not valid UTF-8'));
    }
    try {
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (err) {
      const proto = err instanceof SyntaxError && /prototype/i.test(err.message);
      // A RangeError here means nesting too deep to walk: as malformed as any syntax error.
      done(new ApiError('bad_request', proto ? 'the body holds a forbidden key (__proto__ or constructor.prototype)' : 'the body is not valid JSON'));
    }
  };
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, parse);
  app.addContentTypeParser(/^application\/[a-z0-9.+-]+\+json$/i, { parseAs: 'buffer', bodyLimit }, parse);
}
