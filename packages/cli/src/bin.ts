#!/usr/bin/env node
import { main } from './cli.js';

// Ctrl-C ends `zkit watch` and `zkit top` cleanly (exit 0, session closed); a second one exits at once.
const interrupted = new AbortController();
process.once('SIGINT', () => {
  interrupted.abort();
  process.once('SIGINT', () => process.exit(130));
});

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // Read only by `zkit top` on a terminal: touching process.stdin earlier would be for nothing.
  get stdin() {
    return process.stdin;
  },
  signal: interrupted.signal,
});
