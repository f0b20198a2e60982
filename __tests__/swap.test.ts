/**
 * templates/host/swap.sh (called by apply-config.sh on every run) against stub swap tools and
 * a fake /proc/swaps: creates the file at the size asked for, does nothing while it is right,
 * resizes only when the root volume has room (keeping the old swap otherwise), removes it for
 * 0, refuses bad sizes and any path on the data volume (/srv).
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEMPLATE_DIR } from '../constructs/host/user-data';

const work = mkdtempSync(join(tmpdir(), 'pmm-swap-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const bin = join(work, 'bin');
mkdirSync(bin);
const calls = join(work, 'calls');
const proc = join(work, 'proc-swaps');

function stub(name: string, body: string): void {
  const file = join(bin, name);
  writeFileSync(file, `#!/usr/bin/env bash\nset -u\necho "${name} $*" >> ${calls}\n${body}\n`);
  chmodSync(file, 0o755);
}
// swapon/swapoff edit the fake /proc/swaps; fallocate makes a sparse file of the size.
stub('swapon', `[[ -z \${FAIL_SWAPON:-} ]] || exit 1; echo "$1 file 0 0 -2" >> ${proc}`);
stub(
  'swapoff',
  `[[ -z \${FAIL_SWAPOFF:-} ]] || exit 1; grep -v "^$1 " ${proc} > ${proc}.tmp || true; mv ${proc}.tmp ${proc}`,
);
stub('mkswap', '');
stub('fallocate', 'truncate -s "${2%M}M" "$3"');
stub('sysctl', '');
stub('df', 'printf "Avail\\n%s\\n" "${DF_AVAIL_MIB:-100000}"');

const file = join(work, 'var-lib-pmm-swap', 'swapfile');

function run(size: string, env: Record<string, string> = {}) {
  writeFileSync(calls, '');
  const r = spawnSync('bash', [join(TEMPLATE_DIR, 'swap.sh'), size], {
    encoding: 'utf8',
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      PMM_SWAP_FILE: file,
      PMM_PROC_SWAPS: proc,
      ...env,
    },
  });
  return {
    code: r.status,
    out: r.stdout + r.stderr,
    calls: readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean),
  };
}
const sizeMiB = () => statSync(file).size / 1048576;

beforeEach(() => {
  rmSync(join(work, 'var-lib-pmm-swap'), { recursive: true, force: true });
  writeFileSync(proc, 'Filename Type Size Used Priority\n');
});

describe('swap.sh', () => {
  it('creates the swap file at the size asked for, mode 0600, and turns it on', () => {
    const r = run('2048');
    expect(r.code).toBe(0);
    expect(sizeMiB()).toBe(2048);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(proc, 'utf8')).toContain(`${file} `);
    expect(r.calls).toEqual([
      'df --output=avail -B1M ' + join(work, 'var-lib-pmm-swap'),
      `fallocate -l 2048M ${file}.new`,
      `mkswap ${file}.new`,
      `swapon ${file}`,
      'sysctl -q -w vm.swappiness=10',
    ]);
  });

  it('does nothing, silently, while the file is on and of the right size', () => {
    run('2048');
    const r = run('2048');
    expect(r).toMatchObject({ code: 0, out: '', calls: [] });
  });

  it('turns it on again after a reboot (file present, not in /proc/swaps)', () => {
    run('2048');
    writeFileSync(proc, 'Filename Type Size Used Priority\n');
    const r = run('2048');
    expect(r.code).toBe(0);
    expect(r.calls).toContain(`swapon ${file}`);
  });

  it('resizes: swaps the old file off, then makes the new one', () => {
    run('2048');
    const r = run('4096');
    expect(r.code).toBe(0);
    expect(sizeMiB()).toBe(4096);
    expect(r.calls.indexOf(`swapoff ${file}`)).toBeLessThan(r.calls.indexOf(`swapon ${file}`));
    expect(r.out).toContain('4096 MiB of swap');
  });

  it('keeps the current swap when the root volume has no room for the new size', () => {
    run('2048');
    const r = run('8192', { DF_AVAIL_MIB: '3000' });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('raise root_volume_size or lower swap_size_mib');
    expect(r.calls.some((c) => c.startsWith('swapoff'))).toBe(false);
    expect(sizeMiB()).toBe(2048);
  });

  it('keeps the current swap when it cannot be swapped off (memory in use)', () => {
    run('2048');
    const r = run('1024', { FAIL_SWAPOFF: '1' });
    expect(r.code).not.toBe(0);
    expect(sizeMiB()).toBe(2048);
  });

  it('0 removes the swap file; 0 without one does nothing', () => {
    run('2048');
    const r = run('0');
    expect(r.code).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect(readFileSync(proc, 'utf8')).not.toContain(file);
    expect(run('0')).toMatchObject({ code: 0, calls: [] });
  });

  it.each(['', '4G', '-1', '1234567', '1; rm -rf /'])('refuses the size %j', (size) => {
    const r = run(size);
    expect(r.code).not.toBe(0);
    expect(r.calls).toEqual([]);
  });

  it.each(['/srv/swapfile', '/srv'])('refuses a swap file on the data volume (%s)', (path) => {
    const r = run('1024', { PMM_SWAP_FILE: path });
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('data volume');
    expect(r.calls).toEqual([]);
  });

  it('defaults to a file on the root volume, outside /srv', () => {
    const script = readFileSync(join(TEMPLATE_DIR, 'swap.sh'), 'utf8');
    expect(script).toMatch(/^file=\$\{PMM_SWAP_FILE:-\/var\/lib\/pmm-swap\/swapfile\}$/m);
  });
});
