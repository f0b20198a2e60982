import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TerraformOutput, Testing } from 'cdktf';
import { resource, resourcesOf, synthModule, TfJson } from './helpers/synth';
import { PmmModuleStack } from '../stacks/module-stack';
import { PmmHost } from '../constructs/host';
import { evaluateTemplate } from './helpers/hcl-template';
import { HOST_FILES, TEMPLATE_DIR, stripShellComments } from '../constructs/host/user-data';
import { AGENT_DISK_PATHS, AGENT_NAMESPACE, agentMetricsFor } from '../constructs/agent-metrics';

const tf = synthModule();

/** The module stack with the host's public attributes as outputs (as other constructs see them). */
function probeHostAttributes(): TfJson {
  const stack = new PmmModuleStack(Testing.app(), 'probe');
  const host = stack.node.findAll().find((c) => c instanceof PmmHost) as PmmHost;
  new TerraformOutput(stack, 'probe_root_volume_arn', { value: host.rootVolumeArn });
  new TerraformOutput(stack, 'probe_role_arn', { value: host.roleArn });
  new TerraformOutput(stack, 'probe_data_disk_dimensions', {
    value: host.agentMetricDimensions.dataDiskUsedPercent.dimensions,
  });
  return JSON.parse(Testing.synth(stack, false));
}
const probe = probeHostAttributes();
const instance = resource(tf, 'aws_instance', 'host_instance');

describe('PMM instance', () => {
  it('uses the newest Ubuntu Pro 24.04 amd64 AMI from Canonical (no arm64 PMM image exists)', () => {
    const ami = tf.data.aws_ami.pmm_host_ami;
    expect(ami.owners).toEqual(['099720109477']);
    expect(ami.most_recent).toBe(true);
    const byName = Object.fromEntries(
      ami.filter.map((f: { name: string; values: string[] }) => [f.name, f.values]),
    );
    expect(byName.name).toEqual([
      'ubuntu-pro-server/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-pro-server-*',
    ]);
    expect(byName.architecture).toEqual(['x86_64']);
    expect(tf.data.aws_ec2_instance_type.pmm_host_instance_type.instance_type).toBe(
      '${var.instance_type}',
    );
    expect(instance.ami).toBe('${data.aws_ami.pmm_host_ami.id}');
  });

  it('uses the persistent network interface in the first private subnet with the instance security group', () => {
    const eni = resource(tf, 'aws_network_interface', 'host_network_interface');
    expect(eni.subnet_id).toBe('${element(var.private_subnet_ids, 0)}');
    expect(eni.security_groups).toEqual(['${aws_security_group.pmm_network_instance.id}']);
    expect(instance.network_interface).toEqual([
      {
        device_index: 0,
        network_interface_id: '${aws_network_interface.pmm_host_network_interface.id}',
      },
    ]);
    // delete_on_termination unset: the provider's default (false) keeps the interface.
    expect(instance.network_interface[0].delete_on_termination).toBeUndefined();
    expect(instance.subnet_id).toBeUndefined();
    expect(instance.vpc_security_group_ids).toBeUndefined();
    expect(instance.instance_type).toBe(
      '${data.aws_ec2_instance_type.pmm_host_instance_type.instance_type}',
    );
  });

  it('requires IMDSv2 with a hop limit of 1', () => {
    expect(instance.metadata_options).toMatchObject({
      http_endpoint: 'enabled',
      http_tokens: 'required',
      http_put_response_hop_limit: 1,
    });
  });

  it('has an encrypted gp3 root volume of root_volume_size with the optional KMS key', () => {
    expect(instance.root_block_device).toMatchObject({
      volume_type: 'gp3',
      volume_size: '${var.root_volume_size}',
      encrypted: true,
      kms_key_id: '${var.kms_key_id}',
      delete_on_termination: true,
    });
  });

  it('is EBS-optimized, switches detailed monitoring and the key pair by variable', () => {
    expect(instance.ebs_optimized).toBe(true);
    expect(instance.monitoring).toBe('${var.enable_detailed_monitoring}');
    expect(instance.key_name).toBe('${var.ssh_key_name}');
    expect(instance.iam_instance_profile).toBe(
      '${aws_iam_instance_profile.pmm_host_iam_profile.name}',
    );
  });

  it('ignores AMI changes so a newer image never replaces the host', () => {
    expect(instance.lifecycle.ignore_changes).toEqual(['ami']);
  });

  it('sends gzip+base64 user data and refuses to plan user data over the 16 KB limit', () => {
    expect(instance.user_data_base64).toBe('${base64gzip(local.pmm_host_user_data)}');
    expect(instance.user_data).toBeUndefined();
    expect(instance.lifecycle.precondition).toEqual([
      {
        condition:
          '${(floor(((length(trim(base64gzip(local.pmm_host_user_data), "=")) * 3) / 4)) <= 16384)}',
        error_message: expect.stringContaining('16 KB'),
      },
    ]);
  });

  it('attaches the data volume as /dev/xvdf and stops the instance before detaching', () => {
    expect(resource(tf, 'aws_volume_attachment', 'host_data_volume_attachment')).toEqual({
      device_name: '/dev/xvdf',
      volume_id: '${local.pmm_data_volume_current_id}',
      instance_id: '${aws_instance.pmm_host_instance.id}',
      stop_instance_before_detaching: true,
    });
  });

  it('exposes the ARN of the root EBS volume for backups', () => {
    expect(probe.output.probe_root_volume_arn.value).toBe(
      '${join(":", ["arn", data.aws_partition.pmm_host_partition.partition, "ec2", data.aws_region.pmm_host_region.name, data.aws_caller_identity.pmm_host_account.account_id, join("/", ["volume", aws_instance.pmm_host_instance.root_block_device[0].volume_id])])}',
    );
  });
});

// The instance role: __tests__/host-iam.test.ts

describe('user data', () => {
  const template = tf.locals.pmm_host_user_data as string;
  const rendered = evaluateTemplate(template);

  it('is multi-part MIME: a cloud-config part and a shell script that runs boot.sh', () => {
    expect(rendered).toMatch(
      /^Content-Type: multipart\/mixed; boundary="(.+)"\nMIME-Version: 1.0\n/,
    );
    expect(rendered).toContain('Content-Type: text/cloud-config');
    expect(rendered).toContain('#cloud-config\nwrite_files:\n');
    expect(rendered).toContain(
      'Content-Type: text/x-shellscript; charset="us-ascii"\nContent-Disposition: attachment; filename="pmm-boot.sh"\n\n#!/bin/sh\nexec /usr/local/lib/pmm/boot.sh\n',
    );
  });

  it.each(HOST_FILES.map((f) => [f.path, f]))(
    'writes %s from its template unchanged (shell scripts without their comment lines)',
    (_, file) => {
      const template = readFileSync(join(TEMPLATE_DIR, file.template), 'utf8');
      const shipped = file.template.endsWith('.sh') ? stripShellComments(template) : template;
      const text = shipped.replace(/\n$/, '');
      const indented = text
        .split('\n')
        .map((l) => (l === '' ? '' : `      ${l}`))
        .join('\n');
      const pattern = indented
        .split(/@@[A-Z_]+@@/)
        .map((chunk) => chunk.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^\\n]*?<<[^\\n]+?>>[^\\n]*?');
      expect(rendered).toMatch(
        new RegExp(
          `  - path: ${file.path}\\n    owner: root:root\\n    permissions: '${file.permissions}'\\n    content: \\|\\n${pattern}\\n`,
        ),
      );
    },
  );

  it('passes shell, systemd and agent syntax through Terraform untouched', () => {
    expect(rendered).toContain('got=$(sha256sum "$work/$r.yml" | cut -d \' \' -f 1)');
    expect(rendered).toContain(
      'ExecStartPre=-/usr/bin/timeout 300 /usr/bin/docker pull ${PMM_IMAGE}',
    );
    expect(rendered).toContain('"InstanceId": "${aws:InstanceId}"');
    expect(rendered).toContain('image=${PMM_IMAGE:?PMM_IMAGE is not set');
  });

  it('fills in only our own values, none of which changes on day 2', () => {
    expect(rendered).toContain('AWS_REGION=<<data.aws_region.pmm_host_region.name>>');
    expect(rendered).toContain('PMM_CONFIG_PATH=/pmm/<<var.service_name>>-<<var.environment>>');
    expect(rendered).toContain(
      '"log_group_name": "<<aws_cloudwatch_log_group.pmm_logs_log_group.name>>"',
    );
    expect(rendered).not.toContain('@@');
    expect(rendered.match(/pmm_version|disable_telemetry|custom_queries|dns_names/g)).toBeNull();
  });

  it('references only values known at plan time that no day-2 change touches', () => {
    const references = new Set([...template.matchAll(/(?<!\$)\$\{([^}]*)\}/g)].map((m) => m[1]));
    expect([...references].sort()).toEqual([
      'aws_cloudwatch_log_group.pmm_logs_log_group.name',
      'data.aws_region.pmm_host_region.name',
      'var.environment',
      'var.service_name',
    ]);
  });

  it('never contains the admin password', () => {
    expect(template).not.toMatch(/random_password|secret_version|secret_string|\.result/);
    expect(JSON.stringify(instance)).not.toMatch(/random_password|secret_string/);
  });
});

describe('pmm-server.service', () => {
  const unit = readFileSync(join(TEMPLATE_DIR, 'pmm-server.service'), 'utf8');
  const lines = unit.split('\n');

  it('needs Docker and the mounted data volume and always restarts', () => {
    expect(lines).toContain('Requires=docker.service');
    expect(lines).toContain('RequiresMountsFor=/srv');
    expect(lines).toContain('ExecStartPre=/usr/local/lib/pmm/check-data-mount.sh');
    expect(lines).toContain('Restart=always');
    expect(lines).toContain('StartLimitIntervalSec=0');
  });

  it('starts the cached image when docker pull fails or stalls (5-minute timeout)', () => {
    expect(lines).toContain('ExecStartPre=-/usr/bin/timeout 300 /usr/bin/docker pull ${PMM_IMAGE}');
    expect(lines).toContain('ExecStart=/usr/local/lib/pmm/run-pmm-server.sh');
    expect(lines.filter((l) => l.includes('docker pull'))).toHaveLength(1);
  });

  it('checks /srv, installs the TLS certificate, fetches the admin password, pulls, stops cleanly, removes, then runs', () => {
    expect(lines.filter((l) => /^Exec(Start|StartPre)=/.test(l))).toEqual([
      'ExecStartPre=/usr/local/lib/pmm/check-data-mount.sh',
      'ExecStartPre=-/usr/local/lib/pmm/pmm-tls.sh',
      'ExecStartPre=/usr/local/lib/pmm/fetch-admin-password.sh',
      'ExecStartPre=-/usr/bin/timeout 300 /usr/bin/docker pull ${PMM_IMAGE}',
      'ExecStartPre=-/usr/bin/docker stop --time 120 pmm-server',
      'ExecStartPre=-/usr/bin/docker rm --force pmm-server',
      'ExecStart=/usr/local/lib/pmm/run-pmm-server.sh',
    ]);
    expect(lines).toContain('ExecStop=/usr/bin/docker stop --time 120 pmm-server');
    expect(lines).toContain('TimeoutStopSec=150');
  });

  it('reads the runtime configuration apply-config.sh writes (image digest, volume, secret)', () => {
    expect(lines).toContain('EnvironmentFile=/etc/pmm/host.env');
    expect(lines).toContain('EnvironmentFile=/etc/pmm/runtime.env');
  });

  it('uses PMM 3 environment names (PMM 2 names are silently ignored)', () => {
    const script = readFileSync(join(TEMPLATE_DIR, 'apply-config.sh'), 'utf8');
    expect(script).toContain(
      "printf 'PMM_ENABLE_TELEMETRY=%s\\nPMM_PUBLIC_ADDRESS=%s\\nGF_SECURITY_COOKIE_SECURE=true\\n'",
    );
    expect(script).not.toMatch(/DISABLE_TELEMETRY/);
  });
});

describe('CloudWatch agent config and the metrics contract', () => {
  const config = JSON.parse(readFileSync(join(TEMPLATE_DIR, 'cloudwatch-agent.json'), 'utf8'));
  const contract = agentMetricsFor('i-0123');

  /** The dimension sets the agent publishes for a metric (what alarms can match). */
  function publishedDimensionSets(metric: string): string[][] {
    const appended = Object.keys(config.metrics.append_dimensions);
    if (metric === 'mem_used_percent') return [appended.sort()];
    // disk: raw series also carry fstype; the aggregated series carry exactly these.
    return config.metrics.aggregation_dimensions.map((d: string[]) => [...d].sort());
  }

  it('publishes to the contract namespace with InstanceId and no host dimension', () => {
    expect(config.metrics.namespace).toBe(AGENT_NAMESPACE);
    expect(config.metrics.append_dimensions).toEqual({ InstanceId: '${aws:InstanceId}' });
    expect(config.agent.omit_hostname).toBe(true);
  });

  it('collects memory and disk usage for exactly the contract paths, without device names', () => {
    expect(config.metrics.metrics_collected.mem.measurement).toEqual(['mem_used_percent']);
    expect(config.metrics.metrics_collected.disk.measurement).toEqual(['used_percent']);
    expect(config.metrics.metrics_collected.disk.drop_device).toBe(true);
    expect(config.metrics.metrics_collected.disk.resources).toEqual([
      AGENT_DISK_PATHS.root,
      AGENT_DISK_PATHS.data,
    ]);
    expect([
      contract.rootDiskUsedPercent.dimensions.path,
      contract.dataDiskUsedPercent.dimensions.path,
    ]).toEqual(config.metrics.metrics_collected.disk.resources);
  });

  it.each(Object.entries(contract))('%s matches a dimension set the agent publishes', (_, m) => {
    expect(m.namespace).toBe(config.metrics.namespace);
    const collected = m.metricName === 'mem_used_percent' ? 'mem' : 'disk';
    const measurement = config.metrics.metrics_collected[collected].measurement[0];
    expect(m.metricName).toBe(collected === 'mem' ? measurement : `disk_${measurement}`);
    expect(publishedDimensionSets(m.metricName)).toContainEqual(Object.keys(m.dimensions).sort());
    expect(m.dimensions.InstanceId).toBe('i-0123');
  });

  it('gives the monitoring construct the instance id as the InstanceId dimension', () => {
    expect(probe.output.probe_data_disk_dimensions.value).toEqual({
      InstanceId: '${aws_instance.pmm_host_instance.id}',
      path: '/srv',
    });
    expect(probe.output.probe_role_arn.value).toBe('${aws_iam_role.pmm_host_iam_role.arn}');
  });

  it('ships the journal, cloud-init and agent logs to the host log group', () => {
    const files = config.logs.logs_collected.files.collect_list;
    expect(files.map((f: { file_path: string }) => f.file_path)).toEqual([
      '/var/log/pmm/journal.log',
      '/var/log/cloud-init-output.log',
      '/opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log',
    ]);
    for (const f of files) expect(f.log_group_name).toBe('@@LOG_GROUP_NAME@@');
  });
});

it('creates exactly one instance', () => {
  expect(Object.keys(resourcesOf(tf, 'aws_instance'))).toEqual(['pmm_host_instance']);
});
