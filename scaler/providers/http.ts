// The HTTP calls of the webhook and Scaleway providers: JSON in and out, a timeout, and errors
// that say which call failed and how (status, timeout, network) without the URL's query or
// credentials, the request's headers or the answer's body, any of which may hold a secret.
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import { ProviderError } from './provider.js';

export interface HttpCall {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  dispatcher?: Dispatcher;
}

export interface HttpAnswer {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  text: string;
}

/** 1 MiB: a server list of a few hundred servers is far smaller. */
const MAX_BODY = 1024 * 1024;

/** `POST https://host/path` without the query, user or password. */
export function describeCall(method: string, url: URL): string {
  return `${method} ${url.origin}${url.pathname}`;
}

export async function httpCall(provider: string, call: HttpCall): Promise<HttpAnswer> {
  const what = describeCall(call.method, call.url);
  let res: Dispatcher.ResponseData;
  try {
    res = await request(call.url, {
      method: call.method,
      headers: call.headers,
      body: call.body,
      headersTimeout: call.timeoutMs,
      bodyTimeout: call.timeoutMs,
      signal: AbortSignal.timeout(call.timeoutMs),
      ...(call.dispatcher ? { dispatcher: call.dispatcher } : {}),
    });
  } catch (err) {
    const code = (err as { code?: string; name?: string }).code ?? (err as { name?: string }).name ?? 'error';
    // The cause is left out on purpose: undici's errors may quote the request.
    throw new ProviderError(provider, `${what} failed (${code})`, { retryable: true });
  }
  let size = 0;
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) {
        res.body.destroy();
        throw new ProviderError(provider, `${what}: answer larger than ${MAX_BODY} bytes`, { retryable: false, status: res.statusCode });
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    throw new ProviderError(provider, `${what}: answer cut (${(err as { code?: string }).code ?? 'error'})`, { retryable: true, status: res.statusCode });
  }
  return { status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') };
}

/** An HTTP status that is not the expected one, as a ProviderError (429 and 5xx: retryable). */
export function statusError(provider: string, method: string, url: URL, status: number): ProviderError {
  return new ProviderError(provider, `${describeCall(method, url)} answered HTTP ${status}`, {
    retryable: status === 429 || status >= 500,
    status,
  });
}

export function parseJson(provider: string, method: string, url: URL, answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    throw new ProviderError(provider, `${describeCall(method, url)}: answer is not JSON`, { retryable: false, status: answer.status });
  }
}
