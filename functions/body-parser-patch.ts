/**
 * The functions framework parses `application/json` bodies before the function runs and answers a malformed body
 * with an HTML error page of its own (400 for malformed JSON, 415 for an unsupported charset or content encoding).
 * The contract wants our error body with a code, so the framework's body parsers are wrapped (once, when this module
 * loads — before the framework builds its server): a client error (4xx) of a parser is handed to the function as
 * `req.bodyParseError` instead of short-circuiting. Everything else is unchanged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';

type Next = (err?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
type Factory = ((options?: unknown) => Middleware) & { sagaPatched?: boolean };
type BodyParserModule = Record<'json' | 'text' | 'urlencoded' | 'raw', Factory>;

/** The framework chains json, text, urlencoded and raw parsers; any of them may refuse the same request. */
const PARSERS = ['json', 'text', 'urlencoded', 'raw'] as const;

function patch(): void {
  // The body-parser instance the framework itself loads.
  const load = createRequire(require.resolve('@google-cloud/functions-framework'));
  const bodyParser = load('body-parser') as BodyParserModule;
  for (const name of PARSERS) {
    const original = bodyParser[name];
    if (original.sagaPatched) continue;
    const wrapped = (options?: unknown): Middleware => {
      const middleware = original(options);
      return (req, res, next) =>
        middleware(req, res, (err?: unknown) => {
          const status = (err as { status?: number } | undefined)?.status;
          if (err && typeof status === 'number' && status >= 400 && status < 500) {
            Object.assign(req, { body: undefined, bodyParseError: err });
            next();
            return;
          }
          next(err);
        });
    };
    bodyParser[name] = Object.assign(wrapped, { sagaPatched: true });
  }
}

patch();
