/**
 * Renders the REAL user data for the boot proof: synthesizes the module stack, takes the
 * `pmm_host_user_data` local exactly as the instance uses it (`base64gzip(...)`), and lets
 * real Terraform (`terraform console`, no providers) evaluate it with the module's own
 * variable declarations (validations included). Only the attributes of resources and data
 * sources, which exist after an apply, are replaced by fixed test values; a reference this
 * script does not know fails the render (update BOOT_TEST_ATTRIBUTES).
 *
 * Usage: tsx scripts/boot-test/render-user-data.ts OUT_DIR
 * Writes OUT_DIR/user-data (the gzip bytes EC2 hands to cloud-init) and OUT_DIR/expected.env
 * (the values the boot test asserts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readStackJson, synthModuleStack } from '../synth-module';
import { terraformEnv } from '../verify/lib/terraform';

/** What an apply would know: resource and data source attributes the user data reads. */
export const BOOT_TEST_ATTRIBUTES: Readonly<Record<string, string | number>> = {
  'aws_ebs_volume.pmm_data_volume_volume.id': 'vol-0b0075e57da7a0001',
  // The id of the volume the host mounts after an apply (constructs/data-volume.ts: the
  // current generation's aws_ebs_volume), read by the SSM config parameter.
  'local.pmm_data_volume_current_id': 'vol-0b0075e57da7a0001',
  'aws_secretsmanager_secret.pmm_admin_secret_secret.arn':
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pmm-server-boot-test-admin-AbCdEf',
  'data.aws_region.pmm_host_region.name': 'eu-west-1',
  'aws_cloudwatch_log_group.pmm_logs_log_group.name': '/aws/ec2/pmm-server-boot-test',
  'data.aws_route53_zone.pmm_front_door_zone.name': 'boot-test.example.com.',
  // m5.large (the default instance_type) has 8 GiB: the automatic ClickHouse profile is
  // low-memory and the automatic swap is 4096 MiB.
  'data.aws_ec2_instance_type.pmm_host_instance_type.memory_size': 8192,
};

/** Module variables set for the boot (the rest keep their defaults). */
export const BOOT_TEST_VARIABLES: Readonly<Record<string, unknown>> = {
  environment: 'boot-test',
  pmm_version: '3.4.1',
  dns_names: ['pmm'],
  // Exercises the gz+b64 write_files entry and run-pmm-server.sh's extra volume.
  postgresql_custom_queries_high_resolution:
    'pg_boot_test:\n  query: "SELECT 1 AS one"\n  metrics:\n    - one:\n        usage: "GAUGE"\n        description: "One"\n',
};

const REFERENCE =
  /\b(?:(?:data\.)?aws_[a-z0-9_]+\.[a-z0-9_]+\.[a-z_]+|local\.pmm_data_volume_current_id)\b/g;

/**
 * Replaces every resource or data source attribute in a Terraform template with its test
 * value (an HCL string literal); throws naming any attribute without one.
 */
export function substituteAttributes(
  template: string,
  attributes: Readonly<Record<string, string | number>> = BOOT_TEST_ATTRIBUTES,
): string {
  const unknown = new Set<string>();
  const substituted = template.replace(REFERENCE, (ref) => {
    const value = attributes[ref];
    if (value === undefined) {
      unknown.add(ref);
      return ref;
    }
    return JSON.stringify(value);
  });
  if (unknown.size > 0) {
    throw new Error(
      `the user data reads ${[...unknown].join(', ')}: add test values to BOOT_TEST_ATTRIBUTES in scripts/boot-test/render-user-data.ts`,
    );
  }
  return substituted;
}

/** The synthesized SSM parameter resource whose name ends with `suffix` (its value template). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function ssmValue(tf: Record<string, any>, suffix: string): string {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const found = Object.values(tf.resource?.aws_ssm_parameter ?? {}).find((r: any) =>
    String(r.name).endsWith(suffix),
  ) as { value?: unknown } | undefined;
  if (typeof found?.value !== 'string')
    throw new Error(`the module has no SSM parameter */${suffix}`);
  return found.value;
}

/** Renders the user data and SSM values into `outDir`; returns what the boot test asserts. */
export function renderBootUserData(outDir: string): Record<string, string> {
  const stackDir = synthModuleStack();
  const tf = readStackJson(stackDir);
  const template = tf.locals?.pmm_host_user_data;
  if (typeof template !== 'string') throw new Error('the module has no local.pmm_host_user_data');
  // What the host reads from SSM: the config parameter and the custom query parameter, rendered
  // from the module's own value templates exactly as an apply would write them.
  const templates = {
    user_data: template,
    config: ssmValue(tf, '/config'),
    queries_high: ssmValue(tf, '/custom-queries/high'),
  };
  const substituted = Object.fromEntries(
    Object.entries(templates).map(([k, v]) => [k, substituteAttributes(v)]),
  );
  const used = new Set(
    Object.values(templates).flatMap((t) =>
      [...t.matchAll(/\bvar\.([a-z0-9_]+)/g)].map((m) => m[1]),
    ),
  );
  const variable = Object.fromEntries(
    [...used].map((name) => {
      const decl = tf.variable?.[name];
      if (decl === undefined) throw new Error(`the user data reads undeclared var.${name}`);
      return [name, decl];
    }),
  );

  const work = mkdtempSync(join(tmpdir(), 'pmm-boot-render-'));
  try {
    writeFileSync(join(work, 'main.tf.json'), JSON.stringify({ variable, locals: substituted }));
    const tfvars = Object.fromEntries(
      Object.entries(BOOT_TEST_VARIABLES).filter(([k]) => used.has(k)),
    );
    writeFileSync(join(work, 'boot-test.auto.tfvars.json'), JSON.stringify(tfvars));
    const out = execFileSync('terraform', ['console', '-no-color'], {
      cwd: work,
      input:
        'base64encode(jsonencode({ user_data = base64gzip(local.user_data), config = local.config, queries_high = local.queries_high }))\n',
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      env: terraformEnv('/dev/null'),
    });
    const rendered = JSON.parse(
      Buffer.from(JSON.parse(out.trim()) as string, 'base64').toString('utf8'),
    ) as { user_data: string; config: string; queries_high: string };
    const gzip = Buffer.from(rendered.user_data, 'base64');
    const text = gunzipSync(gzip).toString('utf8');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'user-data'), gzip);
    writeFileSync(join(outDir, 'ssm-config'), rendered.config);
    writeFileSync(join(outDir, 'ssm-custom-queries-high'), rendered.queries_high);
    const env = (source: string, name: string): string => {
      const m = source.match(new RegExp(`^ *${name}=(.*)$`, 'm'));
      if (m === null) throw new Error(`the rendered user data or config sets no ${name}`);
      return m[1];
    };
    const expected = {
      CONFIG_PATH: env(text, 'PMM_CONFIG_PATH'),
      DATA_VOLUME_ID: env(rendered.config, 'PMM_DATA_VOLUME_ID'),
      ADMIN_SECRET_ARN: env(rendered.config, 'PMM_ADMIN_SECRET_ARN'),
      PMM_IMAGE_TAG: env(rendered.config, 'PMM_IMAGE_TAG'),
      PUBLIC_ADDRESS: env(rendered.config, 'PMM_PUBLIC_ADDRESS'),
      USER_DATA_GZIP_BYTES: String(gzip.length),
    };
    writeFileSync(
      join(outDir, 'expected.env'),
      Object.entries(expected)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
    console.log(
      `rendered user data: ${gzip.length} bytes gzipped (${text.length} bytes of MIME), config ${expected.CONFIG_PATH}/config: volume ${expected.DATA_VOLUME_ID}, image ${expected.PMM_IMAGE_TAG}`,
    );
    return expected;
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(stackDir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('render-user-data.ts')) {
  const outDir = process.argv[2];
  if (outDir === undefined) {
    console.error('usage: tsx scripts/boot-test/render-user-data.ts OUT_DIR');
    process.exit(2);
  }
  renderBootUserData(outDir);
}
