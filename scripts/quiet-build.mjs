// Builds every package and example (`turbo run build`) without printing the build's output,
// unless it fails: then everything it printed is shown, and the exit code passed on. Used by
// `npm run demo`, which should start with the demo, not with pages of compiler output.
import { spawnSync } from 'node:child_process';

const result = spawnSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], {
  encoding: 'utf8',
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
});
if (result.status !== 0) {
  process.stdout.write(result.stdout ?? '');
  process.stderr.write(result.stderr ?? '');
  if (result.error) console.error(result.error.message);
  process.exit(result.status ?? 1);
}
