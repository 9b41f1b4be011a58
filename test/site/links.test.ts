import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { checkLinks, REPOSITORY } from './links.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('docs site - the link check reports missing files and anchors, raw markdown and missing repository files', () => {
  const site = mkdtempSync(join(tmpdir(), 'zkit-site-'));
  try {
    mkdirSync(join(site, 'documents'));
    writeFileSync(
      join(site, 'index.html'),
      [
        '<h1 id="top">zkit</h1>',
        '<a href="">self</a> <a href="#top">top</a> <a href="#gone">gone</a>',
        '<a href="documents/guide.html#usage">ok</a>',
        '<a href="documents/guide.html#nowhere">bad anchor</a>',
        '<a href="documents/missing.html">missing</a>',
        '<a href="media/README.md">raw</a>',
        `<a href="${REPOSITORY}/tree/main/examples">repo dir</a>`,
        `<a href="${REPOSITORY}/blob/main/no/such/file.md">repo file</a>`,
        `<a href="${REPOSITORY}">repo</a> <a href="https://zookeeper.apache.org/">elsewhere</a>`,
      ].join('\n'),
    );
    writeFileSync(
      join(site, 'documents/guide.html'),
      '<h2 id="usage">Usage</h2><a href="../index.html#top">home</a><a href="../../x.html">up</a>',
    );
    expect(checkLinks(site, ROOT).sort()).toEqual(
      [
        'index.html: #gone: no anchor #gone',
        'index.html: documents/guide.html#nowhere: no anchor #nowhere',
        'index.html: documents/missing.html: no such file',
        'index.html: media/README.md: a raw markdown file',
        `index.html: ${REPOSITORY}/blob/main/no/such/file.md: no such file in the repository`,
        'documents/guide.html: ../../x.html: outside the site',
      ].sort(),
    );
  } finally {
    rmSync(site, { recursive: true, force: true });
  }
});
