/**
 * The functions framework parses request bodies before the function runs, with its own settings: a 1 GB limit, and
 * an HTML error page of its own for a malformed body (400 for malformed JSON, 415 for an unsupported charset or
 * content encoding). So the framework's body parsers are wrapped (once, when this module loads — before the
 * framework builds its server):
 *
 * - each parser gets this function's body limit (`bodyLimitFor`: the api's 64 KiB (the console's too), a push endpoint's largest Pub/Sub
 *   push), so an oversized body is refused while it is read — never buffered whole — instead of after the framework
 *   parsed up to 1 GB of it;
 * - a client error (4xx, including 413) of a parser is handed to the function as `req.bodyParseError` instead of
 *   short-circuiting, so the function answers it with the contract's error body.
 *
 * Everything else is unchanged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { API_MAX_BODY_BYTES, PUSH_MAX_BODY_BYTES } from '../shared/runtime/http/limits';
import { FUNCTION_SPECS } from '../shared/topology';

type Next = (err?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
type Factory = ((options?: unknown) => Middleware) & { sagaPatched?: boolean };
type BodyParserModule = Record<'json' | 'text' | 'urlencoded' | 'raw', Factory>;

/** The framework chains json, text, urlencoded and raw parsers; any of them may refuse the same request. */
const PARSERS = ['json', 'text', 'urlencoded', 'raw'] as const;

/** The function this process serves, as the framework finds it: `--target=<name>` / `--target <name>`, or FUNCTION_TARGET. */
export function functionTarget(
  argv: readonly string[] = process.argv,
  env = process.env,
): string | undefined {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg.startsWith('--target=')) return arg.slice('--target='.length);
    if (arg === '--target') return argv[i + 1];
  }
  return env.FUNCTION_TARGET;
}

/** The body limit of a function: the api's for a function users call (api, console), else a push's. */
export function bodyLimitFor(target: string | undefined): number {
  const spec = FUNCTION_SPECS.find((f) => f.key === target);
  return spec?.trigger === 'http' ? API_MAX_BODY_BYTES : PUSH_MAX_BODY_BYTES;
}

function patch(): void {
  // The body-parser instance the framework itself loads.
  const load = createRequire(require.resolve('@google-cloud/functions-framework'));
  const bodyParser = load('body-parser') as BodyParserModule;
  for (const name of PARSERS) {
    const original = bodyParser[name];
    if (original.sagaPatched) continue;
    const wrapped = (options?: unknown): Middleware => {
      // Read when the framework builds its server: by then the target is known.
      const given = (options ?? {}) as { limit?: unknown };
      const ours = bodyLimitFor(functionTarget());
      const limit = typeof given.limit === 'number' ? Math.min(given.limit, ours) : ours;
      const middleware = original({ ...given, limit });
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
