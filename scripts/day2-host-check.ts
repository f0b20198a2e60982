/**
 * Day-2 check of the host changes against the emulator (moto), for issue 12 items 1-4 and 6:
 * applies the packaged module once, then plans each change and prints what it does to the
 * instance, its network interface, the SSM configuration and the DNS validation records, and
 * applies an in-place change and an instance replacement to show the instance id / private IP.
 * Needs the verify tools (`npm run verify` once installs moto into .cache/verify).
 * Usage: npx tsx scripts/day2-host-check.ts   (work files in .cache/day2-host-check)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startMoto, standInAmis, stopMoto } from './verify/lib/moto';
import { run } from './verify/lib/proc';
import { emulatorProvider, terraformEnv, writeCliConfig } from './verify/lib/terraform';
import { amiFilters, excludeWithDependents, substituteRandom, TfJson } from './verify/lib/tf-json';
import { EMULATOR_GAPS } from './verify/emulator-gaps';

const ROOT = resolve(__dirname, '..');
const WORK = join(ROOT, '.cache', 'day2-host-check');
const PY = join(ROOT, '.cache', 'verify', 'moto', 'bin', 'python');

async function main(): Promise<void> {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(join(WORK, 'logs'), { recursive: true });
  const pkg = join(WORK, 'pkg');
  execFileSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/build-module.ts', pkg], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  const moduleJson = JSON.parse(readFileSync(join(pkg, 'main.tf.json'), 'utf8')) as TfJson;
  const { tf, substitutions } = substituteRandom(moduleJson);
  writeFileSync(join(pkg, 'main.tf.json'), JSON.stringify(tf));

  const moto = await startMoto(
    PY,
    join(ROOT, 'scripts', 'verify'),
    WORK,
    standInAmis(amiFilters(moduleJson)),
  );
  try {
    const seed = JSON.parse(
      execFileSync(PY, [join(ROOT, 'scripts', 'verify', 'seed_moto.py'), moto.url], {
        encoding: 'utf8',
      }),
    );
    const caller = join(pkg, 'day2');
    mkdirSync(caller);
    const cli = join(WORK, 'terraform.rc');
    writeCliConfig(cli);
    const env = terraformEnv(cli, moto.url);
    const base: Record<string, unknown> = {
      public_subnet_ids: seed.public_subnet_ids,
      private_subnet_ids: seed.private_subnet_ids,
      zone_id: seed.zone_id,
      environment: 'verify',
      alarm_emails: ['pmm-verify@example.com'],
      enable_detailed_monitoring: false,
    };
    for (const s of substitutions) base[s.variable] = 'Day2CheckPassw0rdNotReal';
    const gaps = Object.keys(EMULATOR_GAPS).filter((t) => moduleJson.resource?.[t]);
    const { kept } = excludeWithDependents(moduleJson, gaps);
    const targets = kept
      .filter((a) => !a.startsWith('random_'))
      .map((a) => `-target=module.pmm.${a}`);

    const write = (inputs: Record<string, unknown>) =>
      writeFileSync(
        join(caller, 'main.tf.json'),
        JSON.stringify({
          provider: { aws: [emulatorProvider(moto.url)] },
          module: { pmm: { source: './..', ...inputs } },
          output: {
            instance_id: { value: '${module.pmm.instance_id}' },
            ip: { value: '${module.pmm.instance_private_ip}' },
          },
        }),
      );
    // Asynchronous: moto's log pipes must keep draining while terraform runs.
    const terraform = async (args: string[], log: string) => {
      const flags = ['plan', 'apply', 'init'].includes(args[0])
        ? ['-no-color', '-input=false']
        : [];
      const r = await run('terraform', [...args, ...flags], {
        cwd: caller,
        env,
        log: join(WORK, 'logs', `${log}.log`),
        timeoutSeconds: 1200,
      });
      return { code: r.code, out: r.output, stdout: r.stdout };
    };
    const outputs = async () => {
      const r = await terraform(['output', '-json'], 'output');
      const o = JSON.parse(r.stdout);
      return `instance ${o.instance_id.value}, private IP ${o.ip.value}`;
    };

    write(base);
    await terraform(['init'], 'init');
    const first = await terraform(['apply', '-auto-approve', ...targets], 'apply-0');
    if (first.code !== 0) throw new Error(`first apply failed: see ${WORK}/logs/apply-0.log`);
    console.log(`first apply ok: ${await outputs()}`);

    const changes: [string, Record<string, unknown>][] = [
      ['pmm_version = "3.9.0"', { pmm_version: '3.9.0' }],
      ['disable_telemetry = false', { disable_telemetry: false }],
      [
        'postgresql_custom_queries_high_resolution set',
        { postgresql_custom_queries_high_resolution: 'pg_x:\n  query: SELECT 1\n' },
      ],
      ['dns_names = ["pmm", "grafana"] (name added)', { dns_names: ['pmm', 'grafana'] }],
      ['dns_names = ["monitoring"] (first name changed)', { dns_names: ['monitoring'] }],
      ['instance_type = "m5.xlarge"', { instance_type: 'm5.xlarge' }],
      ['instance_type = "m7i.large" (x86 family change)', { instance_type: 'm7i.large' }],
      ['instance_type = "m7g.large" (Graviton)', { instance_type: 'm7g.large' }],
      ['instance_type = "t3.small" (2 GiB)', { instance_type: 't3.small' }],
      ['environment = "verify2"', { environment: 'verify2' }],
      ['service_name = "pmm"', { service_name: 'pmm' }],
      ['sns_topic_name = "ops-alarms"', { sns_topic_name: 'ops-alarms' }],
    ];
    let i = 0;
    for (const [label, change] of changes) {
      write({ ...base, ...change });
      const log = `plan-${++i}`;
      const r = await terraform(['plan', '-refresh=false', '-out=tfplan', ...targets], log);
      if (r.code !== 0) {
        const msg = r.out
          .replace(/\s+/g, ' ')
          .match(
            /Error: (Resource postcondition failed|Invalid value for variable).*?(?= Error: |$)/,
          );
        console.log(`${label}: REFUSED at plan: ${(msg?.[0] ?? r.out.slice(-400)).slice(0, 400)}`);
        continue;
      }
      const show = await terraform(['show', '-json', 'tfplan'], `${log}-show`);
      const plan = JSON.parse(show.stdout);
      const changed = (plan.resource_changes as TfJson[])
        .filter((c) => !c.change.actions.every((a: string) => a === 'no-op' || a === 'read'))
        .map((c) => `${c.address.replace('module.pmm.', '')} ${c.change.actions.join('+')}`);
      console.log(`${label}:\n  ${changed.join('\n  ') || '(no changes)'}`);
    }

    write({ ...base, pmm_version: '3.9.0', instance_type: 'm5.xlarge' });
    const inPlace = await terraform(['apply', '-auto-approve', ...targets], 'apply-in-place');
    console.log(`apply pmm_version 3.9.0 + m5.xlarge: exit ${inPlace.code}; ${await outputs()}`);
    const replaced = await terraform(
      ['apply', '-auto-approve', '-replace=module.pmm.aws_instance.pmm_host_instance', ...targets],
      'apply-replace',
    );
    console.log(`apply -replace of the instance: exit ${replaced.code}; ${await outputs()}`);
  } finally {
    moto.stop();
    stopMoto();
  }
}

main().catch((e) => {
  stopMoto();
  console.error(e);
  process.exit(1);
});
