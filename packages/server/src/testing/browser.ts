// A browser as far as sign-in flows need one, over fetch: a cookie jar (by host, as browsers keep
// them), redirects followed by hand so each hop can be inspected, and HTML form submission.

export interface Hop {
  url: string;
  status: number;
  location?: string;
}

export class TestBrowser {
  /** host → cookie name → value */
  readonly cookies = new Map<string, Map<string, string>>();
  /** Every request made, in order. */
  readonly history: Hop[] = [];

  cookie(url: string, name: string): string | undefined {
    return this.cookies.get(new URL(url).hostname)?.get(name);
  }

  /** One request, no redirect followed; cookies sent and stored. */
  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    const host = new URL(url).hostname;
    const jar = this.cookies.get(host) ?? new Map<string, string>();
    this.cookies.set(host, jar);
    const headers: Record<string, string> = { 'user-agent': 'galley-test-browser', ...init.headers };
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(url, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) <= Date.now()));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    const location = res.headers.get('location') ?? undefined;
    this.history.push({ url, status: res.status, location: location && new URL(location, url).href });
    return res;
  }

  /**
   * Follows redirects from `url` until a page that is not a redirect, or until the next hop would
   * go to a URL for which `stop` says true (that URL is returned, not requested).
   */
  async follow(url: string, stop: (next: string) => boolean = () => false, init: Parameters<TestBrowser['request']>[1] = {}): Promise<{ url: string; response?: Response }> {
    let current = url;
    let options = init;
    for (let hops = 0; hops < 20; hops++) {
      const res = await this.request(current, options);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { url: current, response: res };
      await res.body?.cancel();
      current = new URL(location, current).href;
      options = {};
      if (stop(current)) return { url: current };
    }
    throw new Error(`more than 20 redirects from ${url}`);
  }

  /** Submits the first form of an HTML page: its hidden inputs plus `fields`, to its action. */
  async submitForm(pageUrl: string, html: string, fields: Record<string, string>, stop?: (next: string) => boolean): Promise<{ url: string; response?: Response }> {
    const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
    if (!form) throw new Error(`no form on ${pageUrl}`);
    const hidden: Record<string, string> = {};
    for (const input of form[2]!.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/gi)) hidden[input[1]!] = input[2]!;
    const action = new URL(form[1]!.replace(/&amp;/g, '&'), pageUrl).href;
    return this.follow(action, stop, { method: 'POST', form: { ...hidden, ...fields } });
  }
}
