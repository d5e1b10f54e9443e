/**
 * The functions framework parses `application/json` bodies before the function runs and answers a malformed body
 * with a plain-text 400 of its own. The contract wants `400 INVALID_ARGUMENT` with our error body, so the framework's
 * JSON parser is wrapped (once, when this module loads — before the framework builds its server): a parse failure
 * is handed to the function as `req.bodyParseError` instead of short-circuiting. Everything else is unchanged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';

type Next = (err?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
interface BodyParserModule {
  json: ((options?: unknown) => Middleware) & { sagaPatched?: boolean };
}

function patch(): void {
  // The body-parser instance the framework itself loads.
  const load = createRequire(require.resolve('@google-cloud/functions-framework'));
  const bodyParser = load('body-parser') as BodyParserModule;
  if (bodyParser.json.sagaPatched) return;
  const original = bodyParser.json;
  const wrapped = (options?: unknown): Middleware => {
    const middleware = original(options);
    return (req, res, next) =>
      middleware(req, res, (err?: unknown) => {
        if (err && (err as { type?: string }).type === 'entity.parse.failed') {
          Object.assign(req, { body: undefined, bodyParseError: err });
          next();
          return;
        }
        next(err);
      });
  };
  bodyParser.json = Object.assign(wrapped, { sagaPatched: true });
}

patch();
