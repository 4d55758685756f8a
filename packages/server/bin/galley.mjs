#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader: `npx galley …` works from a checkout.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
