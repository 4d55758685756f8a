// "API preview": the curl command and the SDK call that fetch what the screen shows, so a person
// can copy the current list query into a script or an app.

import type { ListOptions } from '@galley/sdk';
import { galley } from '../client.ts';

/** A shell word in single quotes: a quote inside becomes '\''. */
const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export function apiPreview(collection: string, options: Omit<ListOptions, 'signal'>): { curl: string; sdk: string } {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || value === '') continue;
    params.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  const search = params.toString();
  const url = `${galley.url}/api/v1/collections/${encodeURIComponent(collection)}/records${search ? `?${search}` : ''}`;
  const curl = `curl -H "Authorization: Bearer $GALLEY_TOKEN" ${shellQuote(url)}`;
  const args = Object.entries(options)
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([key, value]) => `${key}: ${JSON.stringify(value)}`)
    .join(', ');
  const sdk = `await galley.collection(${JSON.stringify(collection)}).list({ ${args} });`;
  return { curl, sdk };
}

export function ApiPreview({ collection, options }: { collection: string; options: Omit<ListOptions, 'signal'> }) {
  const { curl, sdk } = apiPreview(collection, options);
  return (
    <details className="api-preview">
      <summary>API preview</summary>
      <h2 id="api-curl">curl</h2>
      <pre aria-labelledby="api-curl" tabIndex={0}><code>{curl}</code></pre>
      <h2 id="api-sdk">SDK</h2>
      <pre aria-labelledby="api-sdk" tabIndex={0}><code>{sdk}</code></pre>
    </details>
  );
}
