/**
 * `npm run schema`: writes schemas/pmm.config.schema.json from the module variables
 * (stacks/config-schema.ts). `npm run schema -- --check` fails when the file is out of date.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { CONFIG_SCHEMA_FILE, generateConfigSchema } from '../stacks/config-schema';

export const schemaPath = join(__dirname, '..', CONFIG_SCHEMA_FILE);

/** The schema file's text, formatted as `npm run lint` (prettier) expects. */
export async function renderSchemaFile(): Promise<string> {
  const options = (await resolveConfig(schemaPath)) ?? {};
  return format(JSON.stringify(generateConfigSchema().schema), { ...options, parser: 'json' });
}

async function main(): Promise<void> {
  const next = await renderSchemaFile();
  let current = '';
  try {
    current = readFileSync(schemaPath, 'utf8');
  } catch {
    current = '';
  }
  if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error(`${CONFIG_SCHEMA_FILE} is out of date: run \`npm run schema\`.`);
      process.exit(1);
    }
    console.log(`${CONFIG_SCHEMA_FILE} is up to date.`);
  } else {
    mkdirSync(dirname(schemaPath), { recursive: true });
    writeFileSync(schemaPath, next);
    console.log(`wrote ${CONFIG_SCHEMA_FILE}`);
  }
}

if (require.main === module) void main();
