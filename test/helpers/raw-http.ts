// Raw HTTP for security tests: the request line carries exactly the path given (no URL
// parsing, no normalisation of `..`, `%2e` or percent-escapes), redirects are never followed,
// and every request has a deadline. undici's Dispatcher.request sends `path` as is; it only
// refuses characters outside U+0021–U+00FF (test/security/fuzz.test.ts checks that it sends
// the bytes it is given).
import { Agent, type Dispatcher } from 'undici';

export interface RawRequest {
  method?: string;
  /** Sent byte for byte as the request target (must start with `/`). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Raw bytes of the body. */
  bytes: Buffer;
  /** The body as UTF-8 text. */
  text: string;
  /** The Location header, when there is exactly one. */
  location: string | undefined;
}

/** One agent for all security tests: keep-alive, no redirect interceptor. */
export const rawAgent = new Agent({ keepAliveTimeout: 10_000, connections: 16 });

export async function rawRequest(origin: string, req: RawRequest, dispatcher: Dispatcher = rawAgent): Promise<RawResponse> {
  const timeout = req.timeoutMs ?? 10_000;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeout} ms: ${req.method ?? 'GET'} ${req.path.slice(0, 300)}`)), timeout);
  const onAbort = (): void => controller.abort(req.signal?.reason);
  req.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await dispatcher.request({
      origin,
      path: req.path,
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: req.headers,
      body: req.body,
      signal: controller.signal,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of res.body) chunks.push(Buffer.from(chunk as Uint8Array));
    const bytes = Buffer.concat(chunks);
    const loc = res.headers.location;
    return {
      status: res.statusCode,
      headers: res.headers as Record<string, string | string[] | undefined>,
      bytes,
      text: bytes.toString('utf8'),
      location: typeof loc === 'string' ? loc : undefined,
    };
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onAbort);
  }
}

/** GET of an absolute URL (a redirect's Location), sent as written: origin + path-and-query. */
export function rawGetUrl(url: string, opts: Omit<RawRequest, 'path'> = {}): Promise<RawResponse> {
  const parsed = new URL(url);
  const rest = url.slice(parsed.origin.length) || '/';
  return rawRequest(parsed.origin, { ...opts, path: rest });
}
