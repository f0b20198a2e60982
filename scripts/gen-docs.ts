/**
 * `npm run docs`: rewrites the README's inputs/outputs tables from the synthesized module.
 * `npm run docs -- --check`: fails when the README is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDay2Table, spliceDay2 } from './day2-docs';
import { renderInterfaceDocs, spliceDocs } from './module-docs';
import { DAY2_CHANGES } from './verify/day2-changes';
import { readStackJson, synthModuleStack } from './synth-module';

const readmePath = join(__dirname, '..', 'README.md');
const current = readFileSync(readmePath, 'utf8');
const next = spliceDay2(
  spliceDocs(current, renderInterfaceDocs(readStackJson(synthModuleStack()))),
  renderDay2Table(DAY2_CHANGES),
);

if (process.argv.includes('--check')) {
  if (next !== current) {
    console.error('README.md inputs/outputs or day-2 tables are out of date: run `npm run docs`.');
    process.exit(1);
  }
  console.log('README.md inputs/outputs and day-2 tables are up to date.');
} else {
  writeFileSync(readmePath, next);
  console.log(`updated ${readmePath}`);
}
