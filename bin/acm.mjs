#!/usr/bin/env node
// `acm`: the CLI app owners use (see `acm help`). Runs the TypeScript entry through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
