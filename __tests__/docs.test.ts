import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderInterfaceDocs, spliceDocs, DOCS_BEGIN, DOCS_END } from '../scripts/module-docs';
import { synthModule } from './helpers/synth';

describe('README inputs/outputs tables', () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

  it('match the synthesized module (run `npm run docs` after changing the interface)', () => {
    expect(spliceDocs(readme, renderInterfaceDocs(synthModule()))).toBe(readme);
  });

  it('list every variable and output once', () => {
    const tf = synthModule();
    for (const name of [...Object.keys(tf.variable), ...Object.keys(tf.output)]) {
      expect(readme.split(`\n| ${name} |`).length).toBe(2);
    }
  });
});

describe('spliceDocs', () => {
  it('replaces only the generated section', () => {
    const doc = `intro\n${DOCS_BEGIN}\nold\n${DOCS_END}\noutro`;
    expect(spliceDocs(doc, `${DOCS_BEGIN}\nnew\n${DOCS_END}`)).toBe(
      `intro\n${DOCS_BEGIN}\nnew\n${DOCS_END}\noutro`,
    );
  });

  it('refuses a document without markers', () => {
    expect(() => spliceDocs('no markers', 'x')).toThrow(/BEGIN_TF_DOCS/);
  });
});
