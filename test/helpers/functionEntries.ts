// Vercel's file-system functions of this project: every .ts under api/ with no path segment starting with "_"
// (repository-relative, sorted). scripts/check-functions.mjs applies the same rule to what it traces.
import fs from 'node:fs';
import path from 'node:path';

const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));

export function functionEntries(root: string): string[] {
  return walk(path.join(root, 'api')).map((f) => path.relative(root, f))
    .filter((f) => f.endsWith('.ts') && !f.split('/').some((seg) => seg.startsWith('_'))).sort();
}
