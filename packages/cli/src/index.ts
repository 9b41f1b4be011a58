/**
 * `@zkit/cli` — the `zkit` command: who holds a lock and since when, which replica leads, and
 * plain reads of the tree, through the recipes' own inspection APIs. Run it with
 * `npx @zkit/cli --help`; {@link main} runs one command line from a program.
 *
 * @packageDocumentation
 */
export { ExitCode, main } from './cli.js';
export type { CliIo, CliOutput } from './cli.js';
export { formatAge } from './format.js';
export type { CliInput } from './top.js';
