/**
 * `npm run docs`: rewrites the README's inputs/outputs tables from the synthesized module.
 * `npm run docs -- --check`: fails when the README is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderInterfaceDocs, spliceDocs } from './module-docs';
import { readStackJson, synthModuleStack } from './synth-module';

const readmePath = join(__dirname, '..', 'README.md');
const current = readFileSync(readmePath, 'utf8');
const next = spliceDocs(current, renderInterfaceDocs(readStackJson(synthModuleStack())));

if (process.argv.includes('--check')) {
  if (next !== current) {
    console.error('README.md inputs/outputs tables are out of date: run `npm run docs`.');
    process.exit(1);
  }
  console.log('README.md inputs/outputs tables are up to date.');
} else {
  writeFileSync(readmePath, next);
  console.log(`updated ${readmePath}`);
}
