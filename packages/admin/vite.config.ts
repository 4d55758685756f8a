// Vite builds the dashboard for /admin: content-hashed files under assets/, nothing inlined into
// index.html (the server's Content-Security-Policy allows scripts and styles from 'self' only).

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  build: {
    assetsDir: 'assets',
    // No data: URLs for fonts or images: every asset is a file the CSP names as 'self'.
    assetsInlineLimit: 0,
    // Browsers the dashboard supports all know modulepreload; the polyfill would only add bytes.
    modulePreload: { polyfill: false },
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    // `npm run dev -w packages/admin`: the API of a server started with `npm start`.
    proxy: { '/api': { target: 'http://127.0.0.1:8090', ws: true } },
  },
});
