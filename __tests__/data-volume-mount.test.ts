/**
 * Runs templates/host/mount-data-volume.sh FOR REAL, as root, against ext4 images on loop
 * devices, with injected paths (mount point, fstab, by-id directory). Proves the boot
 * sequence never loses data: formats only a blank device, keeps files across re-runs and a
 * simulated reboot, never reformats an existing filesystem, times out clearly on a missing
 * device and grows a resized volume.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  openSync,
  writeSync,
  mkdtempSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEMPLATE_DIR } from '../constructs/host/user-data';

const SCRIPT = join(TEMPLATE_DIR, 'mount-data-volume.sh');
const VOLUME_ID = 'vol-0123456789abcdef0';
const BY_ID_NAME = 'nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0';

const work = mkdtempSync(join(tmpdir(), 'pmm-mount-test-'));
const loops: string[] = [];
const mounts: string[] = [];

/** Commands the script ran through the stubs below (systemctl, and wrapped e2fsprogs). */
const calls = join(work, 'calls');
const systemctl = join(work, 'systemctl');
writeFileSync(systemctl, `#!/bin/sh\necho "systemctl $*" >> ${JSON.stringify(calls)}\n`);
chmodSync(systemctl, 0o755);
/** resize2fs and e2fsck that record their arguments, then run the real tools. */
const wrappers = join(work, 'wrappers');
mkdirSync(wrappers);
for (const tool of ['resize2fs', 'e2fsck']) {
  const real = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
  writeFileSync(
    join(wrappers, tool),
    `#!/bin/sh\necho "${tool} $*" >> ${JSON.stringify(calls)}\nexec ${real} "$@"\n`,
  );
  chmodSync(join(wrappers, tool), 0o755);
}

function takeCalls(): string[] {
  const text = existsSync(calls) ? readFileSync(calls, 'utf8') : '';
  writeFileSync(calls, '');
  return text.trim() === '' ? [] : text.trim().split('\n');
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
}

function newImage(name: string, sizeMiB: number): { image: string; loop: string } {
  const image = join(work, `${name}.img`);
  sh('truncate', ['-s', `${sizeMiB}M`, image]);
  const loop = sh('losetup', ['--find', '--show', image]);
  loops.push(loop);
  return { image, loop };
}

interface Env {
  byIdDir: string;
  mountPoint: string;
  fstab: string;
}

function newEnv(name: string, loop?: string): Env {
  const dir = join(work, name);
  const byIdDir = join(dir, 'by-id');
  const mountPoint = join(dir, 'srv');
  mkdirSync(byIdDir, { recursive: true });
  mkdirSync(mountPoint, { recursive: true });
  if (loop) symlinkSync(loop, join(byIdDir, BY_ID_NAME));
  mounts.push(mountPoint);
  return { byIdDir, mountPoint, fstab: join(dir, 'fstab') };
}

function run(env: Env, extra: Record<string, string> = {}) {
  const r = spawnSync('bash', [SCRIPT], {
    encoding: 'utf8',
    env: {
      PATH: `${wrappers}:${process.env.PATH}`,
      PMM_SYSTEMCTL: systemctl,
      PMM_DATA_VOLUME_ID: VOLUME_ID,
      PMM_MOUNT_POINT: env.mountPoint,
      PMM_FSTAB: env.fstab,
      PMM_BY_ID_DIR: env.byIdDir,
      PMM_LOCK_FILE: `${env.fstab}.lock`,
      PMM_NITRO: 'true',
      PMM_DEVICE_TIMEOUT_SECONDS: '4',
      ...extra,
    },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, stderr: r.stderr };
}

/** Writes a DOS partition table (one Linux partition, no filesystem anywhere) to a device. */
function writeMbr(device: string): void {
  const mbr = Buffer.alloc(512);
  mbr.writeUInt32LE(0x5eed1234, 440); // disk identifier (PTUUID)
  const entry = 446;
  mbr[entry + 4] = 0x83; // Linux
  mbr.writeUInt32LE(2048, entry + 8); // first sector
  mbr.writeUInt32LE(65536, entry + 12); // sectors
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  const fd = openSync(device, 'r+');
  try {
    writeSync(fd, mbr, 0, 512, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function isMounted(mountPoint: string): boolean {
  return spawnSync('mountpoint', ['-q', mountPoint]).status === 0;
}

function unmount(mountPoint: string): void {
  if (isMounted(mountPoint)) sh('umount', [mountPoint]);
}

function fsUuid(loop: string): string {
  return sh('blkid', ['-p', '-o', 'value', '-s', 'UUID', loop]);
}

afterAll(() => {
  for (const m of mounts) {
    try {
      unmount(m);
    } catch {
      spawnSync('umount', ['-l', m]);
    }
  }
  for (const l of loops) spawnSync('losetup', ['-d', l]);
  rmSync(work, { recursive: true, force: true });
});

describe('mount-data-volume.sh on a loop device', () => {
  if (process.getuid?.() !== 0) {
    it('needs root (CI runs as root)', () => {
      throw new Error('run this test as root: it uses losetup, mkfs and mount');
    });
    return;
  }

  it('formats a blank volume, mounts it, survives re-runs and a reboot, and grows it', () => {
    const { image, loop } = newImage('fresh', 64);
    const env = newEnv('fresh', loop);

    takeCalls();
    const first = run(env);
    expect(first.out).toContain('is blank (read back as zeros, no signature): creating an ext4');
    expect(first.code).toBe(0);
    // It checked the new filesystem, mounted /srv itself and started PMM (which may have
    // failed its /srv dependency).
    expect(takeCalls()).toEqual([
      `e2fsck -p ${loop}`,
      'systemctl start --no-block pmm-server.service',
    ]);
    expect(isMounted(env.mountPoint)).toBe(true);
    const uuid = fsUuid(loop);
    // By the volume's own link, never by UUID (a restored copy attached for inspection shares it).
    expect(readFileSync(env.fstab, 'utf8')).toContain(
      `${join(env.byIdDir, BY_ID_NAME)} ${env.mountPoint} ext4 defaults,nofail`,
    );
    const dataDir = join(env.mountPoint, 'pmm-data');
    expect(statSync(dataDir).uid).toBe(1000);
    expect(statSync(dataDir).gid).toBe(1000);
    writeFileSync(join(dataDir, 'metrics.db'), 'precious');

    // A second run while mounted changes nothing.
    const second = run(env);
    expect(second.code).toBe(0);
    expect(second.out).toContain('already mounted');
    expect(takeCalls()).toEqual([]); // already mounted: leaves PMM alone
    expect(second.out).not.toContain('creating an ext4 filesystem');
    expect(fsUuid(loop)).toBe(uuid);
    expect(readFileSync(join(dataDir, 'metrics.db'), 'utf8')).toBe('precious');
    expect(
      readFileSync(env.fstab, 'utf8')
        .split('\n')
        .filter((l) => l.includes(env.mountPoint)),
    ).toHaveLength(1);

    // Simulated reboot: unmounted, run again.
    unmount(env.mountPoint);
    const afterReboot = run(env);
    expect(afterReboot.code).toBe(0);
    // Checked (preen) before every mount this script does itself.
    expect(takeCalls()).toEqual([
      `e2fsck -p ${loop}`,
      'systemctl start --no-block pmm-server.service',
    ]);
    expect(afterReboot.out).not.toContain('creating an ext4 filesystem');
    expect(fsUuid(loop)).toBe(uuid);
    expect(readFileSync(join(dataDir, 'metrics.db'), 'utf8')).toBe('precious');

    // The volume is resized while the instance is stopped; at the next boot the filesystem
    // is checked and grown before it is mounted, and the data stays. (Growing a mounted
    // filesystem online needs the host's real root, which EC2 has and CI containers lack.)
    const sizeBefore = Number(sh('df', ['--output=size', '-B1', env.mountPoint]).split('\n')[1]);
    unmount(env.mountPoint);
    sh('truncate', ['-s', '128M', image]);
    sh('losetup', ['--set-capacity', loop]);
    const grown = run(env);
    expect(grown.out).toContain('checking and growing the filesystem');
    expect(grown.code).toBe(0);
    const sizeAfter = Number(sh('df', ['--output=size', '-B1', env.mountPoint]).split('\n')[1]);
    expect(sizeAfter).toBeGreaterThan(sizeBefore * 1.8);
    expect(fsUuid(loop)).toBe(uuid);
    expect(readFileSync(join(dataDir, 'metrics.db'), 'utf8')).toBe('precious');

    // Once grown, a further run has nothing to grow.
    expect(run(env).out).not.toContain('grew by');
    unmount(env.mountPoint);
  });

  it('grows a mounted filesystem online (resize2fs on the mounted device, no fsck, no unmount)', () => {
    const { image, loop } = newImage('online', 64);
    const env = newEnv('online', loop);
    expect(run(env).code).toBe(0);
    const dataDir = join(env.mountPoint, 'pmm-data');
    writeFileSync(join(dataDir, 'live.db'), 'in use');
    const uuid = fsUuid(loop);
    const sizeBefore = Number(sh('df', ['--output=size', '-B1', env.mountPoint]).split('\n')[1]);
    sh('truncate', ['-s', '128M', image]);
    sh('losetup', ['--set-capacity', loop]);
    takeCalls();

    const r = run(env);
    expect(r.out).toContain('growing the mounted filesystem online');
    const ran = takeCalls();
    expect(ran).toEqual([`resize2fs ${loop}`]); // no e2fsck, no systemctl
    expect(isMounted(env.mountPoint)).toBe(true);
    expect(fsUuid(loop)).toBe(uuid);
    expect(readFileSync(join(dataDir, 'live.db'), 'utf8')).toBe('in use');
    if (r.code === 0) {
      const sizeAfter = Number(sh('df', ['--output=size', '-B1', env.mountPoint]).split('\n')[1]);
      expect(sizeAfter).toBeGreaterThan(sizeBefore * 1.8);
    } else {
      // Containers without the EXT4_IOC_RESIZE_FS privilege: a clear error, data intact.
      expect(r.stderr).toContain('could not grow the filesystem on');
      expect(r.stderr).toContain('online (the data is intact)');
    }
    unmount(env.mountPoint);
  });

  it('uses the fallback device (/dev/xvdf) on a non-Nitro instance', () => {
    const { loop } = newImage('xen', 64);
    const env = newEnv('xen'); // no by-id link: Xen instances have none
    const r = run(env, { PMM_NITRO: 'false', PMM_FALLBACK_DEVICE: loop });
    expect(r.code).toBe(0);
    expect(r.out).toContain(`volume ${VOLUME_ID} is ${loop}`);
    expect(isMounted(env.mountPoint)).toBe(true);
    unmount(env.mountPoint);
  });

  it('never uses the fallback device on a Nitro instance (it may be another volume)', () => {
    const { loop } = newImage('nitro-fallback', 64);
    sh('mkfs.ext4', ['-q', loop]);
    const uuid = fsUuid(loop);
    const env = newEnv('nitro-fallback');
    const r = run(env, {
      PMM_NITRO: 'true',
      PMM_FALLBACK_DEVICE: loop,
      PMM_DEVICE_TIMEOUT_SECONDS: '2',
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`did not appear at ${join(env.byIdDir, BY_ID_NAME)} within 2s`);
    expect(r.stderr).not.toContain(loop);
    expect(isMounted(env.mountPoint)).toBe(false);
    expect(fsUuid(loop)).toBe(uuid);
  });

  it('refuses a device that holds only a partition table, without formatting it', () => {
    const { loop } = newImage('partitioned', 64);
    writeMbr(loop);
    const ptuuid = sh('blkid', ['-p', '-o', 'value', '-s', 'PTUUID', loop]);
    const env = newEnv('partitioned', loop);
    takeCalls();
    const r = run(env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("holds 'a partition table or unknown data', not ext4");
    expect(r.out).not.toContain('creating an ext4 filesystem');
    expect(sh('blkid', ['-p', '-o', 'value', '-s', 'PTTYPE', loop])).toBe('dos');
    expect(sh('blkid', ['-p', '-o', 'value', '-s', 'PTUUID', loop])).toBe(ptuuid);
    expect(isMounted(env.mountPoint)).toBe(false);
    expect(takeCalls()).toEqual([]);
  });

  it('never reformats a volume that already holds an ext4 filesystem', () => {
    const { loop } = newImage('existing', 64);
    sh('mkfs.ext4', ['-q', '-L', 'restored', loop]);
    const uuid = fsUuid(loop);
    const pre = join(work, 'pre');
    mkdirSync(pre);
    sh('mount', [loop, pre]);
    mkdirSync(join(pre, 'pmm-data'));
    writeFileSync(join(pre, 'pmm-data', 'from-snapshot'), 'restored data');
    sh('umount', [pre]);

    const env = newEnv('existing', loop);
    const r = run(env);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('creating an ext4 filesystem');
    expect(fsUuid(loop)).toBe(uuid);
    expect(readFileSync(join(env.mountPoint, 'pmm-data', 'from-snapshot'), 'utf8')).toBe(
      'restored data',
    );
    unmount(env.mountPoint);
  });

  it('refuses to format or mount a volume holding another filesystem', () => {
    const { loop } = newImage('other-fs', 64);
    sh('mke2fs', ['-q', '-t', 'ext2', loop]);
    const uuid = fsUuid(loop);
    const env = newEnv('other-fs', loop);
    const r = run(env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("holds 'ext2', not ext4; refusing to format or mount it");
    expect(sh('blkid', ['-p', '-o', 'value', '-s', 'TYPE', loop])).toBe('ext2');
    expect(fsUuid(loop)).toBe(uuid);
    expect(isMounted(env.mountPoint)).toBe(false);
  });

  it('times out with a clear error and a non-zero exit when the volume never appears', () => {
    const env = newEnv('missing');
    const started = Date.now();
    const r = run(env, { PMM_DEVICE_TIMEOUT_SECONDS: '2' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `data volume ${VOLUME_ID} did not appear at ${join(env.byIdDir, BY_ID_NAME)} within 2s`,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(existsSync(env.fstab)).toBe(false);
  });

  it('rejects a malformed volume id before touching any device', () => {
    const env = newEnv('bad-id');
    const r = run(env, { PMM_DATA_VOLUME_ID: 'nvme1n1' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('PMM_DATA_VOLUME_ID must be an EBS volume id');
  });
});
