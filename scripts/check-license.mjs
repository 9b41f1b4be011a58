// Checks that the package in the current directory ships the repository's license: its
// package.json declares Apache-2.0, and the tarball `npm pack` would publish holds a LICENSE
// file identical to the one at the repository root. Run by each package's `check:package`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const problems = [];

if (manifest.license !== 'Apache-2.0') {
  problems.push(
    `package.json declares license ${JSON.stringify(manifest.license)}, not "Apache-2.0"`,
  );
}
// `npm pack` always adds a LICENSE found next to package.json, whatever `files` says; asking it
// for the file list checks what would really be published.
const [packed] = JSON.parse(
  execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' }),
);
if (!packed.files.some((file) => file.path === 'LICENSE')) {
  problems.push('the tarball has no LICENSE file');
} else if (!readFileSync('LICENSE').equals(readFileSync(join(root, 'LICENSE')))) {
  problems.push("LICENSE differs from the repository root's LICENSE");
}

if (problems.length > 0) {
  process.stderr.write(`${manifest.name}: ${problems.join('; ')}\n`);
  process.exit(1);
}
process.stdout.write(`${manifest.name}: LICENSE (Apache-2.0) is in the tarball\n`);
