import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BAD_INPUTS } from '../scripts/verify/bad-inputs';
import { CONFIG_SCHEMA_FILE, generateConfigSchema } from '../stacks/config-schema';

const schemaPath = join(__dirname, '..', CONFIG_SCHEMA_FILE);
import { configProblems, didYouMean, keyPath } from '../stacks/config-validator';
import { MODULE_VARIABLES } from '../stacks/module-variables';
import { ConfigError, validateRootStackConfig } from '../stacks/stack-config';
import { awsCronPattern, intInRange, eachMatches } from '../stacks/variable-helpers';
import { terraformEval } from './helpers/terraform';
import { terraformTypeToSchema } from '../stacks/terraform-type-schema';

const root = join(__dirname, '..');
const generated = generateConfigSchema();

describe('pmm.config.json schema (generated from MODULE_VARIABLES)', () => {
  it('is shipped in sync: schemas/pmm.config.schema.json is what `npm run schema` writes', () => {
    // Formatting is prettier's (npm run lint checks it); the content must be the generated one.
    expect(JSON.parse(readFileSync(schemaPath, 'utf8'))).toEqual(generated.schema);
  });

  it('has one property per module variable, none hand-listed', () => {
    const vars = (generated.schema.properties as Record<string, { properties: object }>).variables;
    expect(Object.keys(vars.properties)).toEqual(Object.keys(MODULE_VARIABLES));
  });

  it('derives types, ranges, patterns and strict objects for a variable added later', () => {
    const g = generateConfigSchema({
      new_count: {
        type: 'number',
        default: 2,
        description: 'x',
        rules: [{ expr: intInRange('new_count', 1, 5), message: 'new_count 1-5' }],
      },
      new_list: {
        type: 'list(object({ name = string, size = optional(number, 3) }))',
        default: [],
        description: 'y',
        rules: [
          { expr: eachMatches('new_list', '^x$'), message: 'never applies to objects' },
          {
            expr: 'alltrue([for o in var.new_list : o.size >= 1 && o.size <= 9])',
            message: 'new_list[*].size 1-9',
          },
        ],
      },
    });
    const vars = (generated.schema.properties as Record<string, object>).variables;
    expect(vars).toBeDefined();
    const props = (g.schema.properties as Record<string, { properties: Record<string, object> }>)
      .variables.properties;
    expect(props.new_count).toMatchObject({ type: 'integer', minimum: 1, maximum: 5, default: 2 });
    expect(props.new_list).toMatchObject({
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          size: { anyOf: [{ type: 'number', minimum: 1, maximum: 9 }, { type: 'null' }] },
        },
      },
    });
  });

  it("lists every rule it cannot express in the variable's $comment (Terraform-only)", () => {
    const props = (
      generated.schema.properties as Record<
        string,
        { properties: Record<string, { $comment?: string }> }
      >
    ).variables.properties;
    const tfOnly = generated.coverage.filter((c) => c.coverage !== 'schema');
    expect(tfOnly.length).toBeGreaterThan(0); // CIDR arithmetic at least
    for (const c of tfOnly) expect(props[c.variable].$comment).toContain(c.message);
    expect(tfOnly.map((c) => c.variable)).toEqual(
      expect.arrayContaining(['admin_cidr_block', 'allowed_cidr_blocks', 'certificate_issuers']),
    );
  });

  it('accepts the example config and every variable default', () => {
    const example = JSON.parse(
      readFileSync(join(root, 'examples', 'pmm.config.example.json'), 'utf8'),
    ) as { $schema: string };
    expect(example.$schema).toBe(`./${CONFIG_SCHEMA_FILE}`);
    expect(configProblems(example)).toEqual([]);
    const defaults = Object.fromEntries(
      Object.entries(MODULE_VARIABLES)
        .filter(([, v]) => 'default' in v)
        .map(([k, v]) => [k, (v as { default: unknown }).default]),
    );
    expect(configProblems({ variables: defaults })).toEqual([]);
  });

  it('rejects every bad-input row whose rule it fully covers, naming the variable and its rule message', () => {
    let checked = 0;
    for (const c of generated.coverage.filter((x) => x.coverage === 'schema')) {
      for (const row of BAD_INPUTS[c.variable] ?? []) {
        if ((row.rule ?? 0) !== c.rule) continue;
        const problems = configProblems({ variables: { [c.variable]: row.value } });
        expect({ variable: c.variable, value: row.value, problems }).toEqual({
          variable: c.variable,
          value: row.value,
          problems: expect.arrayContaining([expect.stringContaining(`variables.${c.variable}`)]),
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});

describe('config errors a newcomer can act on', () => {
  const asg = { asg_name: 'a', username: 'u', security_group_id: 'sg-0123456789abcdef0' };

  it.each([
    [{ regoin: 'us-east-1' }, /^regoin: unknown key; did you mean "region"\?/],
    [
      { variables: { ebs_volum_size: 10 } },
      /variables\.ebs_volum_size: unknown key; did you mean "ebs_volume_size"\?/,
    ],
    [
      {
        backend: { type: 's3', bucket: 'bkt', key: 'k', region: 'us-east-1', dynamodb_table: 't' },
      },
      /backend\.dynamodb_table: unknown key; did you mean "dynamodbTable"\?/,
    ],
    [
      { variables: { monitored_asgs: [asg, { ...asg, asg_name: 'b', pasword_secret_arn: 'x' }] } },
      /variables\.monitored_asgs\[1\]\.pasword_secret_arn: unknown key; did you mean "password_secret_arn"\?/,
    ],
    [
      { backend: { type: 'local', bucket: 'x' } },
      /backend\.bucket: unknown key \(allowed here: type, path\)/,
    ],
    [
      { variables: { ebs_volume_size: '100' } },
      /variables\.ebs_volume_size: must be integer \(got "100"\)/,
    ],
    [
      { variables: { monitored_asgs: [{ ...asg, port: 70000 }] } },
      /monitored_asgs\[0\]\.port: must be <= 65535 \(got 70000\): monitored_asgs\[\*\]\.port must be a whole number/,
    ],
    [
      { variables: { monitored_asgs: [{ asg_name: 'a' }] } },
      /monitored_asgs\[0\]: missing required key "username"/,
    ],
    [
      { variables: { ssl_policy: 'ELBSecurityPolicy-2016-08' } },
      /variables\.ssl_policy: must be one of/,
    ],
    [
      { variables: { backup_schedule: 'cron(0 25 ? * * *)' } },
      /variables\.backup_schedule: must match .*hours 0-23/,
    ],
    [{ variables: { tags: { team: 1 } } }, /variables\.tags\.team: must be string \(got 1\)/],
    [{ variables: { environment: null } }, /variables\.environment: must be string \(got null\)/],
  ])('%j', (config, expected) => {
    expect(configProblems(config).join('\n')).toMatch(expected);
  });

  it('reports all problems at once, with the file name and no stack', () => {
    let err: unknown;
    try {
      validateRootStackConfig(
        { regoin: 1, variables: { zone_id: 'x', ebs_iops: 1 } },
        '/x/pmm.config.json',
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^\/x\/pmm.config.json: 3 problems/);
  });

  it('accepts null for nullable variables and optional attributes', () => {
    expect(
      configProblems({
        variables: {
          kms_key_id: null,
          monitored_asgs: [{ ...asg, password_secret_arn: null, port: null }],
        },
      }),
    ).toEqual([]);
  });

  it('keyPath and didYouMean', () => {
    expect(keyPath('/variables/monitored_asgs/0/port')).toBe('variables.monitored_asgs[0].port');
    expect(keyPath('')).toBe('(top level)');
    expect(didYouMean('zzzzzz', ['region', 'backend'])).toBeUndefined();
    expect(didYouMean('DYNAMODB_TABLE', ['dynamodbTable'])).toBe('dynamodbTable');
  });

  it('synth stops with exit 1, the file, the key path, and no JavaScript stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmm-config-'));
    try {
      const file = join(dir, 'pmm.config.json');
      writeFileSync(file, JSON.stringify({ variables: { monitored_asg: [] } }));
      const r = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), ['main.ts'], {
        cwd: root,
        env: { ...process.env, PMM_CONFIG: file, CDKTF_OUTDIR: join(dir, 'out') },
        encoding: 'utf8',
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`${file}: 1 problem`);
      expect(r.stderr).toContain(
        'variables.monitored_asg: unknown key; did you mean "monitored_asgs"?',
      );
      expect(r.stderr).not.toMatch(/^\s+at /m);
      writeFileSync(file, '{ "variables": ');
      const bad = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), ['main.ts'], {
        cwd: root,
        env: { ...process.env, PMM_CONFIG: file, CDKTF_OUTDIR: join(dir, 'out') },
        encoding: 'utf8',
      });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain(`${file}: not valid JSON`);
      expect(bad.stderr).not.toMatch(/^\s+at /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('AWS cron expressions (awsCronPattern)', () => {
  const good = [
    'cron(0 5 ? * * *)',
    'cron(0 6 ? * 1 *)',
    'cron(0 */4 ? * * *)',
    'cron(15,45 0-23/2 ? * MON-FRI *)',
    'cron(0 5 1 * ? *)',
    'cron(0 5 L * ? *)',
    'cron(0 5 15W * ? *)',
    'cron(0 5 ? * 6#3 *)',
    'cron(0 5 ? * 6L *)',
    'cron(59 23 31 DEC ? 2199)',
    'cron(0 0 ? jan-mar sun 1970-1999)',
  ];
  const bad = [
    'cron(0 24 ? * * *)',
    'cron(60 5 ? * * *)',
    'cron(0 5 32 * ? *)',
    'cron(0 5 0 * ? *)',
    'cron(0 5 ? 13 * *)',
    'cron(0 5 ? * 8 *)',
    'cron(0 5 ? * * 2200)',
    'cron(0 5 ? * * 1969)',
    'cron(0 5 ? * FOO *)',
    'cron(0 */0 ? * * *)',
    'cron(0 5 ? * *)',
    'rate(1 day)',
    'cron(0 5 ? * * *) ',
  ];

  it('agrees between Terraform (RE2) and the schema (ECMAScript, ajv unicode) on every sample', () => {
    const pattern = awsCronPattern();
    const samples = [...good, ...bad];
    const tf = terraformEval(
      `[for s in ${JSON.stringify(samples)} : can(regex(${JSON.stringify(pattern)}, s))]`,
    );
    const js = samples.map((s) => new RegExp(pattern, 'u').test(s));
    expect(tf).toEqual(js);
    expect(js).toEqual([...good.map(() => true), ...bad.map(() => false)]);
  });

  it('needs "?" in exactly one day field', () => {
    expect(configProblems({ variables: { backup_schedule: 'cron(0 5 ? * ? *)' } }).join()).toMatch(
      /exactly one of day-of-month and day-of-week/,
    );
    expect(configProblems({ variables: { backup_schedule: 'cron(0 5 * * * *)' } }).join()).toMatch(
      /exactly one of day-of-month and day-of-week/,
    );
  });
});

describe('cdktf CLI', () => {
  it('documented commands disable the checkpoint (telemetry) call', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    for (const [name, cmd] of Object.entries(pkg.scripts)) {
      if (/\bcdktf\s/.test(cmd))
        expect({ name, cmd }).toEqual({
          name,
          cmd: expect.stringContaining('CHECKPOINT_DISABLE=1'),
        });
    }
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const line of readme.split('\n').filter((l) => /\bnpx cdktf\b/.test(l))) {
      expect(line).toContain('CHECKPOINT_DISABLE=1');
    }
    expect(
      execFileSync('git', ['check-ignore', '-q', 'pmm.config.json'], { cwd: root }).toString(),
    ).toBe('');
  });
});

describe('optional() defaults in Terraform object types', () => {
  it('accepts empty map and list defaults and keeps string defaults verbatim', () => {
    const schema = terraformTypeToSchema(
      'object({ labels = optional(map(string), {}), ids = optional(list(string), [ ]), name = optional(string, "a b") })',
    );
    const props = (schema as { properties: Record<string, { default?: unknown }> }).properties;
    expect(props.labels.default).toEqual({});
    expect(props.ids.default).toEqual([]);
    expect(props.name.default).toBe('a b');
  });

  it('still refuses a default that is not a simple literal', () => {
    expect(() =>
      terraformTypeToSchema('object({ x = optional(map(string), { a = "b" }) })'),
    ).toThrow(/not a simple literal/);
  });
});
