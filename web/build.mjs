// Builds the dashboard into dist/: the sources as they are (plain ES modules, no bundler: the browser
// loads them directly) and the few files of npm packages the page uses. Every script is parsed with
// `node --check` first, so a syntax error fails the .NET build rather than the browser.
// The .NET build (src/Vigil.Service) runs `npm ci` and this, then embeds dist/ in the service.
import { cpSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');

// what the page takes from node_modules, and where it finds it under dist/
const vendor = [
  ['uplot/dist/uPlot.esm.js', 'vendor/uPlot.esm.js'],
  ['uplot/dist/uPlot.min.css', 'vendor/uPlot.min.css'],
  ['uplot/LICENSE', 'vendor/uPlot.LICENSE.txt'],
];

function files(dir) {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const sources = files(src);
for (const file of sources.filter(f => f.endsWith('.js'))) {
  try {
    execFileSync(process.execPath, ['--check', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    process.stderr.write(`web build: ${relative(root, file)} does not parse:\n${e.stderr}`);
    process.exit(1);
  }
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
cpSync(src, dist, { recursive: true });
for (const [from, to] of vendor) {
  mkdirSync(dirname(join(dist, to)), { recursive: true });
  cpSync(join(root, 'node_modules', from), join(dist, to));
}
// the .NET build's up-to-date check compares against this file
writeFileSync(join(dist, '.built'), `${sources.length + vendor.length} files\n`);
console.log(`web build: ${sources.length} sources and ${vendor.length} package files in ${relative(process.cwd(), dist) || dist}`);
