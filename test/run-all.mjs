// Runs the whole vitest suite and ends with one plain summary line ("N passed, N failed, N skipped")
// that any CI log reader understands. The exit status is vitest's.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';

mkdirSync('test/.tmp', { recursive: true });
const out = 'test/.tmp/results.json';
const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${out}`, ...process.argv.slice(2)], { stdio: 'inherit' });
try {
  const j = JSON.parse(readFileSync(out, 'utf8'));
  const skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  console.log(`${j.numPassedTests} passed, ${j.numFailedTests} failed, ${skipped} skipped`);
} catch (e) {
  console.log(`vitest wrote no results (${e.message})`);
}
process.exit(r.status ?? 1);
