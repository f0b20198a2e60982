import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../util/project-paths';

/**
 * Renders the host's boot sequence (the files in `templates/host/`) into multi-part MIME
 * cloud-init user data: a `text/cloud-config` part that writes every script, unit and config
 * file, and a `text/x-shellscript` part that runs `boot.sh`.
 *
 * The result is a Terraform string template: the literal template text is escaped (`${` ->
 * `$${`, `%{` -> `%%{`) so Terraform passes shell and agent syntax through untouched, and only
 * our own `@@NAME@@` placeholders are replaced by values (Terraform expressions or literals).
 */

export const TEMPLATE_DIR = join(PROJECT_ROOT, 'templates', 'host');

/** EC2's user data limit, in bytes before base64 encoding. */
export const USER_DATA_LIMIT_BYTES = 16384;

export interface HostFile {
  /** Absolute path on the host. */
  readonly path: string;
  /** File name in templates/host. */
  readonly template: string;
  readonly permissions: '0755' | '0644';
}

/** Every file the boot sequence writes, from templates/host. */
export const HOST_FILES: readonly HostFile[] = [
  { path: '/usr/local/lib/pmm/boot.sh', template: 'boot.sh', permissions: '0755' },
  {
    path: '/usr/local/lib/pmm/install-packages.sh',
    template: 'install-packages.sh',
    permissions: '0755',
  },
  {
    path: '/usr/local/lib/pmm/mount-data-volume.sh',
    template: 'mount-data-volume.sh',
    permissions: '0755',
  },
  {
    path: '/usr/local/lib/pmm/check-data-mount.sh',
    template: 'check-data-mount.sh',
    permissions: '0755',
  },
  {
    path: '/usr/local/lib/pmm/apply-config.sh',
    template: 'apply-config.sh',
    permissions: '0755',
  },
  { path: '/usr/local/lib/pmm/swap.sh', template: 'swap.sh', permissions: '0755' },
  {
    path: '/usr/local/lib/pmm/run-pmm-server.sh',
    template: 'run-pmm-server.sh',
    permissions: '0755',
  },
  {
    path: '/usr/local/lib/pmm/fetch-admin-password.sh',
    template: 'fetch-admin-password.sh',
    permissions: '0755',
  },
  {
    path: '/usr/local/lib/pmm/set-admin-password.sh',
    template: 'set-admin-password.sh',
    permissions: '0755',
  },
  { path: '/usr/local/lib/pmm/pmm-tls.sh', template: 'pmm-tls.sh', permissions: '0755' },
  { path: '/etc/systemd/system/pmm-tls.service', template: 'pmm-tls.service', permissions: '0644' },
  { path: '/etc/systemd/system/pmm-tls.timer', template: 'pmm-tls.timer', permissions: '0644' },
  {
    path: '/etc/systemd/system/pmm-server.service',
    template: 'pmm-server.service',
    permissions: '0644',
  },
  {
    path: '/etc/systemd/system/pmm-config.service',
    template: 'pmm-config.service',
    permissions: '0644',
  },
  {
    path: '/etc/systemd/system/pmm-config.timer',
    template: 'pmm-config.timer',
    permissions: '0644',
  },
  {
    path: '/etc/systemd/system/pmm-data-volume.service',
    template: 'pmm-data-volume.service',
    permissions: '0644',
  },
  {
    path: '/etc/systemd/system/pmm-data-volume.timer',
    template: 'pmm-data-volume.timer',
    permissions: '0644',
  },
  {
    path: '/etc/systemd/system/pmm-admin-password.service',
    template: 'pmm-admin-password.service',
    permissions: '0644',
  },
  {
    path: '/etc/systemd/system/pmm-admin-password.timer',
    template: 'pmm-admin-password.timer',
    permissions: '0644',
  },
  {
    path: '/etc/systemd/system/pmm-journal-export.service',
    template: 'pmm-journal-export.service',
    permissions: '0644',
  },
  { path: '/etc/tmpfiles.d/pmm.conf', template: 'tmpfiles-pmm.conf', permissions: '0644' },
  { path: '/etc/logrotate.d/pmm-journal', template: 'logrotate-pmm', permissions: '0644' },
  { path: '/etc/docker/daemon.json', template: 'docker-daemon.json', permissions: '0644' },
  {
    path: '/opt/aws/amazon-cloudwatch-agent/etc/pmm-cloudwatch-agent.json',
    template: 'cloudwatch-agent.json',
    permissions: '0644',
  },
  { path: '/etc/pmm/host.env', template: 'host.env', permissions: '0644' },
];

/**
 * Values for the templates' `@@NAME@@` placeholders (literals or Terraform expressions).
 * Only values known at plan time that never change on day 2: everything PMM's operator may
 * change (image, telemetry, address, custom queries, data volume, secret) is read at run time
 * from SSM Parameter Store (constructs/pmm-config.ts, templates/host/apply-config.sh), so the
 * user data, and with it the instance, stays the same.
 */
export interface UserDataValues {
  readonly REGION: string;
  readonly LOG_GROUP_NAME: string;
  /** SSM parameter path of the runtime configuration (`/pmm/<service>-<environment>`). */
  readonly CONFIG_PATH: string;
}

export function readTemplate(name: string): string {
  return readFileSync(join(TEMPLATE_DIR, name), 'utf8');
}

/**
 * A shell script without its comment lines (the shebang stays): the repository keeps the
 * comments, the user data (16 KB) does not carry them. No template has a heredoc or a
 * multi-line string (host-scripts tests check), so no comment-like line is data.
 */
export function stripShellComments(text: string): string {
  return text
    .split('\n')
    .filter((line, i) => i === 0 || !/^\s*#/.test(line))
    .join('\n');
}

/** Escapes literal text so a Terraform string template yields it unchanged. */
export function escapeTerraformTemplate(text: string): string {
  return text.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}

/**
 * Escapes a template's literal text and replaces its `@@NAME@@` placeholders with values
 * (which are not escaped: they may be Terraform expressions).
 */
export function renderTemplate(
  name: string,
  text: string,
  values: Readonly<Record<string, string>>,
): string {
  return text
    .split(/@@([A-Z_]+)@@/)
    .map((part, i) => {
      if (i % 2 === 0) return escapeTerraformTemplate(part);
      const value = values[part];
      if (value === undefined) throw new Error(`template ${name}: no value for @@${part}@@`);
      return value;
    })
    .join('');
}

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => (line === '' ? '' : pad + line))
    .join('\n');
}

const BOUNDARY = '==PMM-BOOT-BOUNDARY==';

/**
 * The complete user data as a Terraform string template (gzip and base64 it with
 * `base64gzip`).
 */
export function renderUserData(values: UserDataValues): string {
  const entries = HOST_FILES.map((f) => {
    const text = readTemplate(f.template);
    const shipped = f.template.endsWith('.sh') ? stripShellComments(text) : text;
    const body = renderTemplate(f.template, shipped, { ...values });
    return [
      `  - path: ${f.path}`,
      `    owner: root:root`,
      `    permissions: '${f.permissions}'`,
      `    content: |`,
      indent(body.endsWith('\n') ? body.slice(0, -1) : body, 6),
    ].join('\n');
  });
  const cloudConfig = ['#cloud-config', 'write_files:', ...entries].join('\n') + '\n';
  const bootPart = '#!/bin/sh\nexec /usr/local/lib/pmm/boot.sh\n';
  return [
    `Content-Type: multipart/mixed; boundary="${BOUNDARY}"`,
    'MIME-Version: 1.0',
    '',
    `--${BOUNDARY}`,
    'Content-Type: text/cloud-config; charset="us-ascii"',
    'Content-Disposition: attachment; filename="pmm-cloud-config.yaml"',
    '',
    cloudConfig,
    `--${BOUNDARY}`,
    'Content-Type: text/x-shellscript; charset="us-ascii"',
    'Content-Disposition: attachment; filename="pmm-boot.sh"',
    '',
    bootPart,
    `--${BOUNDARY}--`,
    '',
  ].join('\n');
}
