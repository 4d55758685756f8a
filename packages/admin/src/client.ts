// The one SDK client of the dashboard. Cookie mode: the session lives in the server's httpOnly
// cookie, so no script on the page can read a superuser's token. Same origin as the page.

import { createClient } from '@galley/sdk';

export const galley = createClient(window.location.origin, { session: 'cookie' });
