/**
 * The docs site's link check: every local link of every built page resolves to a file of the
 * site, every `#anchor` exists in its target, no link leads to a raw markdown file, and a link
 * to a file of this repository on GitHub names a file that exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** Links into the repository on GitHub: `<base>/(tree|blob)/main/<path>`. */
export const REPOSITORY = 'https://github.com/zkit-js/zkit';

function pages(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.html'))
    .map((name) => join(dir, name));
}

const ids = new Map<string, Set<string>>();

/** The ids (and `name`s) a file defines, for `#anchor` links into it. */
function anchorsOf(file: string): Set<string> {
  let found = ids.get(file);
  if (found === undefined) {
    found = new Set();
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/\s(?:id|name)="([^"]*)"/g)) found.add(match[1] ?? '');
    ids.set(file, found);
  }
  return found;
}

/** Every problem with the links of the site in `siteDir`; empty when there is none. */
export function checkLinks(siteDir: string, repoRoot: string): string[] {
  ids.clear();
  const problems: string[] = [];
  for (const page of pages(siteDir)) {
    const text = readFileSync(page, 'utf8');
    const from = relative(siteDir, page);
    for (const match of text.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
      const link = (match[1] ?? '').replaceAll('&amp;', '&');
      const problem = checkLink(link, page, siteDir, repoRoot);
      if (problem !== undefined) problems.push(`${from}: ${link}: ${problem}`);
    }
  }
  return [...new Set(problems)];
}

function checkLink(
  link: string,
  page: string,
  siteDir: string,
  repoRoot: string,
): string | undefined {
  if (link.startsWith(`${REPOSITORY}/`)) {
    const path = /^\/(?:tree|blob)\/main\/([^#?]*)/.exec(link.slice(REPOSITORY.length))?.[1];
    if (path === undefined) return undefined; // the repository itself, its issues, …
    return existsSync(join(repoRoot, decodeURIComponent(path)))
      ? undefined
      : 'no such file in the repository';
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(link)) return undefined; // https:, mailto:, data:
  const [pathPart = '', anchor] = link.split('#', 2) as [string, string | undefined];
  const path = pathPart.split('?')[0] ?? '';
  if (/\.md$/i.test(path)) return 'a raw markdown file';
  const target = path === '' ? page : resolve(dirname(page), decodeURIComponent(path));
  if (!target.startsWith(resolve(siteDir))) return 'outside the site';
  if (!existsSync(target)) return 'no such file';
  const file = statSync(target).isDirectory() ? join(target, 'index.html') : target;
  if (!existsSync(file)) return 'no such file';
  if (anchor === undefined || anchor === '') return undefined;
  if (!/\.(html|svg)$/.test(file)) return undefined;
  return anchorsOf(file).has(decodeURIComponent(anchor)) ? undefined : `no anchor #${anchor}`;
}
