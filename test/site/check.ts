/**
 * `npm run docs:check` runs this after typedoc: the built site's links must all resolve
 * (see links.ts), and headless Chromium takes screenshots of the home page and a guide into
 * `docs/screenshots/`, to look at.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkLinks } from './links.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SITE = join(ROOT, 'docs/api');
const SHOTS = join(ROOT, 'docs/screenshots');
const PAGES = { home: 'index.html', guide: 'documents/Locks.html' };
// A page that did not render (typedoc's pages show nothing until their script runs) is a
// near-empty PNG of a few KB; a rendered page is hundreds.
const RENDERED_BYTES = 50_000;

const problems = checkLinks(SITE, ROOT);
if (problems.length > 0) {
  console.error(`[docs] ${problems.length} broken links in docs/api:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log('[docs] links: every local link and anchor of docs/api resolves');

function findChromium(): string | undefined {
  const candidates = [process.env['CHROMIUM'], 'chromium', 'chromium-browser', 'google-chrome'];
  for (const candidate of candidates) {
    if (candidate === undefined || candidate === '') continue;
    for (const dir of candidate.includes('/') ? [''] : (process.env['PATH'] ?? '').split(':')) {
      const path = dir === '' ? candidate : join(dir, candidate);
      try {
        if (statSync(path).isFile()) return path;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

function screenshot(browser: string, page: string, file: string): Promise<void> {
  const profile = mkdtempSync(join(tmpdir(), 'zkit-docs-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox', // CI runs as root
    '--disable-gpu',
    '--hide-scrollbars',
    `--user-data-dir=${profile}`,
    '--virtual-time-budget=5000', // lets the page's script show it
    '--window-size=1280,1600',
    `--screenshot=${file}`,
    pathToFileURL(join(SITE, page)).href,
  ];
  return new Promise((resolve, reject) => {
    execFile(browser, args, { timeout: 60_000 }, (error, _stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (error !== null) reject(new Error(`${browser} failed on ${page}: ${stderr}`));
      else resolve();
    });
  });
}

const browser = findChromium();
if (browser === undefined) {
  // CI must take them (.ci/setup installs Chromium); elsewhere they are a convenience.
  const message = '[docs] screenshots: no Chromium found (bash .ci/setup installs it)';
  if (process.env['CI'] !== undefined && process.env['CI'] !== '') {
    console.error(message);
    process.exit(1);
  }
  console.log(message);
} else {
  mkdirSync(SHOTS, { recursive: true });
  for (const [name, page] of Object.entries(PAGES)) {
    const file = join(SHOTS, `${name}.png`);
    await screenshot(browser, page, file);
    const bytes = statSync(file).size;
    if (bytes < RENDERED_BYTES) {
      console.error(`[docs] ${page} did not render: its screenshot is ${bytes} bytes`);
      process.exit(1);
    }
    console.log(`[docs] screenshot of ${page}: docs/screenshots/${name}.png`);
  }
}
