// A small JSON-over-fetch helper for setup traffic (login, seeding, probes): bounded by a timeout,
// and any status other than the expected one is an error that quotes the response.

export class HttpError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export interface JsonRequest {
  method?: 'GET' | 'POST';
  body?: unknown;
  token?: string;
  expect?: number;
  timeoutMs?: number;
}

export async function requestJson<T>(url: string, options: JsonRequest = {}): Promise<T> {
  const { method = 'GET', body, token, expect = 200, timeoutMs = 60_000 } = options;
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (res.status !== expect) {
    throw new HttpError(`${method} ${new URL(url).pathname} → ${res.status} (expected ${expect}): ${text.slice(0, 500)}`, res.status);
  }
  return JSON.parse(text) as T;
}
