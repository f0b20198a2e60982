/**
 * Day-2 changes never replace the instance by accident: the synthesized module's references
 * show which resources each day-2 variable reaches (the instance is not among them for the
 * in-place variables), and real Terraform shows the instance is replaced only when the data
 * volume itself changes. Adding a DNS name keeps the validation records of the other names
 * (real Terraform on the synthesized lifecycle, with stand-ins for the certificate).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resource, synthModule, TfJson } from './helpers/synth';
import { terraformTestEnv } from './helpers/terraform';

const tf = synthModule();
const instance = resource(tf, 'aws_instance', 'host_instance');

/** Terraform addresses an expression tree refers to (var.x, local.x, type.name, data.t.n). */
function references(value: unknown): Set<string> {
  const out = new Set<string>();
  const text = JSON.stringify(value);
  for (const m of text.matchAll(
    /(?<![\w.$])(var\.\w+|local\.\w+|data\.\w+\.\w+|aws_\w+\.\w+|terraform_data\.\w+)/g,
  )) {
    out.add(m[1]);
  }
  return out;
}

/** Everything `address` depends on, through locals and other resources (transitively). */
function closure(body: unknown): Set<string> {
  const seen = new Set<string>();
  const queue = [...references(body)];
  while (queue.length) {
    const a = queue.pop()!;
    if (seen.has(a)) continue;
    seen.add(a);
    let next: unknown;
    if (a.startsWith('local.')) next = tf.locals?.[a.slice(6)];
    else if (a.startsWith('data.')) {
      const [, type, name] = a.split('.');
      next = tf.data?.[type]?.[name];
    } else if (!a.startsWith('var.')) {
      const [type, name] = a.split('.');
      next = tf.resource?.[type]?.[name];
    }
    if (next !== undefined) queue.push(...references(next));
  }
  return seen;
}

/** Managed resources whose own arguments refer to `variable` directly or through locals. */
function resourcesReferencing(variable: string): string[] {
  const out: string[] = [];
  for (const [type, byName] of Object.entries(tf.resource as Record<string, TfJson>)) {
    for (const [name, body] of Object.entries(byName as TfJson)) {
      const direct = references(body);
      const viaLocals = [...direct]
        .filter((r) => r.startsWith('local.'))
        .some((l) => closure({ l: `\${${l}}` }).has(`var.${variable}`));
      if (direct.has(`var.${variable}`) || viaLocals) out.push(`${type}.${name}`);
    }
  }
  return out.sort();
}

describe('what the instance depends on', () => {
  // The instance's own arguments and user data (not resources it merely names by id: an
  // in-place update of those keeps their id).
  const instanceInputs = new Set(
    [...references(instance)].flatMap((r) =>
      r.startsWith('local.') ? [r, ...closure({ r: `\${${r}}` })] : [r],
    ),
  );

  it.each([
    'pmm_version',
    'disable_telemetry',
    'postgresql_custom_queries_high_resolution',
    'postgresql_custom_queries_medium_resolution',
    'postgresql_custom_queries_low_resolution',
    'dns_names',
    'ebs_volume_size',
  ])('%s does not reach the instance (changed in place elsewhere)', (variable) => {
    expect(instanceInputs.has(`var.${variable}`)).toBe(false);
  });

  it.each([
    ['pmm_version', ['aws_ssm_parameter.pmm_config_config']],
    ['disable_telemetry', ['aws_ssm_parameter.pmm_config_config']],
    [
      'postgresql_custom_queries_high_resolution',
      ['aws_ssm_parameter.pmm_config_config', 'aws_ssm_parameter.pmm_config_custom_queries_high'],
    ],
  ])('%s changes only the SSM configuration', (variable, expected) => {
    expect(resourcesReferencing(variable)).toEqual(expected);
  });

  it('the user data reads only names fixed by the name lock and the region', () => {
    const userData = references(tf.locals.pmm_host_user_data);
    expect([...userData].filter((r) => r.startsWith('var.')).sort()).toEqual([
      'var.environment',
      'var.service_name',
    ]);
  });

  it('is replaced when, and only when, the data volume changes (a restore)', () => {
    expect(instance.lifecycle.replace_triggered_by).toEqual([
      'terraform_data.pmm_host_data_volume_id',
    ]);
    expect(resource(tf, 'terraform_data', 'pmm_host_data_volume_id').input).toEqual({
      volume_id: '${local.pmm_data_volume_current_id}',
    });
  });
});

/** A scratch Terraform folder (builtin provider only). */
function scratch(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env = terraformTestEnv();
  const terraform = (...args: string[]) =>
    execFileSync('terraform', [...args, '-no-color', '-input=false'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      env,
    });
  const write = (json: unknown) => writeFileSync(join(dir, 'main.tf.json'), JSON.stringify(json));
  return { dir, terraform, write, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('with real Terraform', () => {
  it('replaces the instance for a new data volume id, and for nothing else', () => {
    const s = scratch('pmm-tf-volume-');
    try {
      // The synthesized input references the real volume; here it comes from a variable.
      s.write({
        variable: { volume: { type: 'string' }, telemetry: { type: 'string' } },
        resource: {
          terraform_data: {
            pmm_host_data_volume_id: { input: { volume_id: '${var.volume}' } },
            config: { input: '${var.volume}-${var.telemetry}' },
            instance: {
              input: 'pmm',
              lifecycle: { replace_triggered_by: instance.lifecycle.replace_triggered_by },
            },
          },
        },
      });
      s.terraform('init');
      s.terraform('apply', '-auto-approve', '-var', 'volume=vol-1', '-var', 'telemetry=off');
      const configOnly = s.terraform('plan', '-var', 'volume=vol-1', '-var', 'telemetry=on');
      expect(configOnly).toContain('terraform_data.config will be updated in-place');
      expect(configOnly).not.toMatch(/terraform_data\.instance (will|must)/);
      expect(s.terraform('plan', '-var', 'volume=vol-2', '-var', 'telemetry=off')).toContain(
        'terraform_data.instance will be replaced due to changes in replace_triggered_by',
      );
    } finally {
      s.cleanup();
    }
  }, 60_000);

  it('adding a DNS name creates records for it only; the other names keep theirs', () => {
    const records = tf.resource.aws_route53_record.pmm_front_door_tls_validation_record;
    expect(records.lifecycle.ignore_changes).toEqual(['name', 'type', 'records']);
    const s = scratch('pmm-tf-dns-');
    // Stand-ins: the certificate is replaced when the names change (its validation options
    // are unknown until apply, as ACM's are); each record is replaced when its name/value
    // changes (ForceNew, as aws_route53_record's name) unless the lifecycle ignores them.
    const certificate = 'terraform_data.certificate.output';
    const option = (attr: string) =>
      `\${{ for o in ${certificate} : o.domain_name => o }["\${each.value}.example.com"].${attr}}`;
    const body = {
      for_each: '${toset(var.dns_names)}',
      input: { name: option('name'), value: option('value') },
      triggers_replace: { name: option('name'), value: option('value') },
      // The synthesized ignore_changes of name/type/records, mapped onto the stand-in.
      lifecycle: {
        ignore_changes: records.lifecycle.ignore_changes.includes('name')
          ? ['input', 'triggers_replace']
          : [],
      },
    };
    try {
      s.write({
        variable: { dns_names: { type: 'list(string)' } },
        resource: {
          terraform_data: {
            certificate: {
              triggers_replace: '${var.dns_names}',
              input:
                '${[for n in var.dns_names : { domain_name = "${n}.example.com", name = "_acm.${n}.example.com.", value = "_v.acm-validations.aws." }]}',
            },
            validation_record: body,
          },
        },
      });
      s.terraform('init');
      s.terraform('apply', '-auto-approve', '-var', 'dns_names=["pmm"]');
      const plan = s.terraform('plan', '-var', 'dns_names=["pmm","grafana"]');
      expect(plan).toContain('terraform_data.validation_record["grafana"] will be created');
      expect(plan).not.toMatch(/validation_record\["pmm"\] (will|must)/);
      expect(plan).toContain('Plan: 2 to add, 0 to change, 1 to destroy.');
      expect(plan).toContain('terraform_data.certificate must be replaced');
    } finally {
      s.cleanup();
    }
  }, 60_000);
});
