/**
 * Tries to break the data volume's promises under faults, running mount-data-volume.sh and
 * check-data-mount.sh FOR REAL as root on loop devices: real read errors (faulty-disk.py
 * serves the image over FUSE and fails chosen byte ranges with EIO, as a failing EBS volume
 * or dm-error would), real concurrent runs, real ext4 corruption, real read-only devices and
 * mounts, same-UUID copies; shims on PATH only for hangs and lying probes.
 */
import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  existsSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { TEMPLATE_DIR } from '../constructs/host/user-data';
import {
  BY_ID_NAME,
  LoopLab,
  VOLUME_ID,
  fsUuid,
  isMounted,
  mountCount,
  sh,
  type LabEnv,
} from './helpers/loop-lab';

const MOUNT = join(TEMPLATE_DIR, 'mount-data-volume.sh');
const GUARD = join(TEMPLATE_DIR, 'check-data-mount.sh');
const MIB = 1048576;

const lab = new LoopLab();
afterAll(() => lab.cleanup());

/** An ext4 image holding a file, like a data volume in use. */
function imageWithData(name: string, mkfsOptions: string[] = []): { image: string; uuid: string } {
  const image = lab.image(name, 64);
  sh('mkfs.ext4', ['-q', ...mkfsOptions, image]);
  const loop = lab.attach(image);
  const mnt = join(lab.work, `${name}-fill`);
  mkdirSync(mnt);
  sh('mount', [loop, mnt]);
  mkdirSync(join(mnt, 'pmm-data'));
  writeFileSync(join(mnt, 'pmm-data', 'metrics.db'), 'precious');
  sh('umount', [mnt]);
  sh('losetup', ['-d', loop]);
  return { image, uuid: fsUuid(image) };
}

function fstabLinesFor(env: LabEnv): string[] {
  return readFileSync(env.fstab, 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('#') && l.split(/\s+/)[1]?.replace(/\/+$/, '') === env.mountPoint);
}

/** Every refusal: non-zero, nothing formatted, mounted, recorded or started. */
function expectTouchedNothing(
  r: { code: number | null; out: string },
  env: LabEnv,
  image: string,
  uuid: string,
): void {
  expect(r.code).not.toBe(0);
  expect(r.out).not.toContain('creating an ext4 filesystem');
  const calls = lab.takeCalls();
  expect(calls.filter((c) => c.startsWith('mkfs'))).toEqual([]);
  expect(calls.filter((c) => c.startsWith('systemctl'))).toEqual([]);
  expect(isMounted(env.mountPoint)).toBe(false);
  expect(existsSync(env.fstab)).toBe(false);
  // The image itself, read without the faulty layer, is as it was.
  if (uuid === '') {
    expect(spawnSync('blkid', ['-p', image]).status).toBe(2);
  } else {
    expect(fsUuid(image)).toBe(uuid);
  }
}

describe('mount-data-volume.sh: a device is blank only when proven blank', () => {
  beforeEach(() => {
    lab.recordingShim('mkfs.ext4');
    lab.takeCalls();
  });
  afterEach(() => {
    for (const s of ['blkid', 'wipefs', 'dd', 'blockdev', 'mkfs.ext4']) lab.removeShim(s);
  });

  it('refuses a volume full of data whose first MiB cannot be read (blkid exits 2 as for "no signature")', async () => {
    const { image, uuid } = imageWithData('unreadable-start');
    const loop = await lab.faultyLoop(image, [[0, MIB]]);
    // The premise: blkid -p cannot tell this from a blank device.
    expect(spawnSync('blkid', ['-p', loop]).status).toBe(2);
    const env = lab.env('unreadable-start', loop);
    const r = lab.run(MOUNT, env);
    expect(r.stderr).toContain(`could not read the first MiB of ${loop}`);
    expect(r.stderr).toContain('Input/output error');
    expectTouchedNothing(r, env, image, uuid);
  });

  it('refuses a zeroed volume whose last MiB cannot be read', async () => {
    const image = lab.image('unreadable-end', 64);
    const loop = await lab.faultyLoop(image, [[63 * MIB, 64 * MIB]]);
    const env = lab.env('unreadable-end', loop);
    const r = lab.run(MOUNT, env);
    expect(r.stderr).toContain(`could not read the last MiB of ${loop}`);
    expectTouchedNothing(r, env, image, '');
  });

  it('formats a blank volume served through the same faulty layer when every read succeeds', async () => {
    const image = lab.image('faulty-layer-ok', 64);
    const loop = await lab.faultyLoop(image, []);
    const env = lab.env('faulty-layer-ok', loop);
    const r = lab.run(MOUNT, env);
    expect(r.out).toContain('is blank (read back as zeros, no signature): creating an ext4');
    expect(r.code).toBe(0);
    expect(lab.takeCalls()).toEqual([
      `mkfs.ext4 -q -L pmm-data -m 1 ${loop}`,
      'systemctl start --no-block pmm-server.service',
    ]);
    lab.unmountAll(env.mountPoint);
    expect(fsUuid(image)).not.toBe('');
  });

  it('refuses when blkid hangs, even though it would then say "no signature"', () => {
    const { image, uuid } = imageWithData('blkid-hangs');
    const env = lab.env('blkid-hangs', lab.attach(image));
    lab.shim('blkid', 'sleep 5; exit 2');
    const r = lab.run(MOUNT, env, { PMM_PROBE_TIMEOUT_SECONDS: '1' });
    expect(r.stderr).toContain('blkid -p timed out after 1s');
    expectTouchedNothing(r, env, image, uuid);
  });

  it('refuses when blkid says "no signature" but the first MiB holds data', () => {
    const { image, uuid } = imageWithData('blkid-lies');
    const loop = lab.attach(image);
    const env = lab.env('blkid-lies', loop);
    lab.shim('blkid', 'exit 2');
    const r = lab.run(MOUNT, env);
    expect(r.stderr).toContain(`${loop} is not blank: its first MiB holds data`);
    expectTouchedNothing(r, env, image, uuid);
  });

  it.each([
    [
      'fails',
      'echo "wipefs: probing initialization failed: Input/output error" >&2; exit 1',
      'wipefs could not probe',
    ],
    ['finds a signature blkid missed', 'echo "xfs 0x0"', 'wipefs found signatures'],
    ['hangs', 'sleep 5', 'wipefs -n timed out after 1s'],
  ])('refuses a zeroed volume when wipefs %s', (name, body, message) => {
    const image = lab.image(`wipefs-${name.split(' ')[0]}`, 64);
    const env = lab.env(`wipefs-${name.split(' ')[0]}`, lab.attach(image));
    lab.shim('wipefs', body);
    const r = lab.run(MOUNT, env, { PMM_PROBE_TIMEOUT_SECONDS: '1' });
    expect(r.stderr).toContain(message);
    expectTouchedNothing(r, env, image, '');
  });

  it('refuses when a read of the device hangs', () => {
    const image = lab.image('dd-hangs', 64);
    const env = lab.env('dd-hangs', lab.attach(image));
    lab.shim('dd', 'sleep 5');
    const r = lab.run(MOUNT, env, { PMM_PROBE_TIMEOUT_SECONDS: '1' });
    expect(r.stderr).toContain('reading the first MiB timed out after 1s');
    expectTouchedNothing(r, env, image, '');
  });

  it('refuses when the size of the device cannot be read', () => {
    const image = lab.image('no-size', 64);
    const env = lab.env('no-size', lab.attach(image));
    lab.shim(
      'blockdev',
      'echo "blockdev: ioctl error on BLKGETSIZE64: Input/output error" >&2; exit 1',
    );
    const r = lab.run(MOUNT, env);
    expect(r.stderr).toContain('could not read the size of');
    expectTouchedNothing(r, env, image, '');
  });
});

describe('mount-data-volume.sh: one run at a time', () => {
  beforeEach(() => lab.takeCalls());
  afterEach(() => {
    lab.removeShim('mkfs.ext4');
    lab.removeShim('mount');
  });

  it('four concurrent runs on a blank volume format it once and mount it once', async () => {
    const image = lab.image('concurrent', 64);
    const loop = lab.attach(image);
    const env = lab.env('concurrent', loop);
    // Widen the race: every check happens before the slowed mkfs and mount.
    lab.recordingShim('mkfs.ext4', 'sleep 2');
    lab.recordingShim('mount', 'sleep 1');
    const runs = await Promise.all([1, 2, 3, 4].map(() => lab.runAsync(MOUNT, env)));
    for (const r of runs) expect(r).toMatchObject({ code: 0 });
    const calls = lab.takeCalls();
    expect(calls.filter((c) => c.startsWith('mkfs.ext4'))).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith(`mount -w`))).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith('systemctl'))).toEqual([
      'systemctl start --no-block pmm-server.service',
    ]);
    expect(mountCount(env.mountPoint)).toBe(1);
    expect(fstabLinesFor(env)).toHaveLength(1);
    expect(runs.filter((r) => r.out.includes('already mounted'))).toHaveLength(3);
    lab.unmountAll(env.mountPoint);
  });

  it('holds the lock while it waits for the volume; others wait, or give up with a clear error', async () => {
    const waiting = lab.env('lock-holder'); // no device: waits PMM_DEVICE_TIMEOUT_SECONDS
    const other = lab.env('lock-waiter', lab.attach(lab.image('lock-waiter', 64)));
    const shared = { PMM_LOCK_FILE: waiting.lockFile };
    const holder = lab.runAsync(MOUNT, waiting, { PMM_DEVICE_TIMEOUT_SECONDS: '6' });
    // Until the holder has the lock (however slow the machine is to start it).
    const deadline = Date.now() + 5000;
    while (spawnSync('flock', ['-n', waiting.lockFile, 'true']).status === 0) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const impatient = lab.run(MOUNT, other, { ...shared, PMM_LOCK_TIMEOUT_SECONDS: '1' });
    expect(impatient.code).not.toBe(0);
    expect(impatient.stderr).toContain(`still holds ${waiting.lockFile} after 1s`);
    expect(isMounted(other.mountPoint)).toBe(false);
    const patient = lab.runAsync(MOUNT, other, { ...shared, PMM_LOCK_TIMEOUT_SECONDS: '60' });
    const [h, p] = await Promise.all([holder, patient]);
    expect(h.code).not.toBe(0);
    expect(p).toMatchObject({ code: 0 });
    expect(p.out).toContain('another run holds');
    expect(p.endedAtMs).toBeGreaterThanOrEqual(h.endedAtMs);
    lab.unmountAll(other.mountPoint);
  });
});

describe('mount-data-volume.sh: never mounts a bad filesystem or serves a read-only one', () => {
  beforeEach(() => lab.takeCalls());

  /** ext4 with two files sharing a block: e2fsck -p cannot repair it (exit 4), the kernel mounts it. */
  function corruptImage(name: string): { image: string; uuid: string } {
    const { image, uuid } = imageWithData(name, ['-O', '^extent,^64bit']);
    const loop = lab.attach(image);
    const mnt = join(lab.work, `${name}-files`);
    mkdirSync(mnt);
    sh('mount', [loop, mnt]);
    writeFileSync(join(mnt, 'a'), Buffer.alloc(8192, 1));
    writeFileSync(join(mnt, 'b'), Buffer.alloc(8192, 2));
    sh('umount', [mnt]);
    sh('losetup', ['-d', loop]);
    const block = sh('debugfs', ['-R', 'bmap /a 0', image]);
    sh('debugfs', ['-w', '-R', `sif /b block[0] ${block}`, image]);
    sh('debugfs', ['-w', '-R', 'ssv state 0', image]); // not cleanly unmounted: preen checks it
    return { image, uuid };
  }

  it.each([
    ['at a plain boot', 64],
    ['after the volume grew', 128],
  ])('does not mount a filesystem e2fsck cannot repair (%s)', (_name, sizeMiB) => {
    const { image } = corruptImage(`corrupt-${sizeMiB}`);
    sh('truncate', ['-s', `${sizeMiB}M`, image]);
    const env = lab.env(`corrupt-${sizeMiB}`, lab.attach(image));
    const r = lab.run(MOUNT, env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /e2fsck could not repair the filesystem on \/dev\/loop\d+ \(exit 4\); not mounting it/,
    );
    expect(isMounted(env.mountPoint)).toBe(false);
    expect(lab.takeCalls()).toEqual([]);
  });

  it('refuses a volume already mounted read-only, and starts nothing', () => {
    const { image } = imageWithData('mounted-ro');
    const loop = lab.attach(image);
    const env = lab.env('mounted-ro', loop);
    sh('mount', ['-o', 'ro', loop, env.mountPoint]);
    const r = lab.run(MOUNT, env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${env.mountPoint} is mounted read-only`);
    expect(lab.takeCalls()).toEqual([]);
    lab.unmountAll(env.mountPoint);
  });

  it('never falls back to a read-only mount of a write-protected device', () => {
    const { image } = imageWithData('write-protected');
    const env = lab.env('write-protected', lab.attach(image, true));
    const r = lab.run(MOUNT, env);
    expect(r.code).not.toBe(0);
    expect(isMounted(env.mountPoint)).toBe(false);
    expect(lab.takeCalls()).toEqual([]);
  });
});

describe('check-data-mount.sh: PMM starts only on the data volume, mounted read-write', () => {
  function readyVolume(name: string): { env: LabEnv; loop: string; image: string } {
    const { image } = imageWithData(name);
    const loop = lab.attach(image);
    const env = lab.env(name, loop);
    return { env, loop, image };
  }

  it('passes for the data volume mounted by mount-data-volume.sh', () => {
    const { env, loop } = readyVolume('guard-ok');
    expect(lab.run(MOUNT, env).code).toBe(0);
    const r = lab.run(GUARD, env);
    expect(r.out).toContain(`is the data volume ${VOLUME_ID} (${loop}), ext4, read-write`);
    expect(r.code).toBe(0);
    lab.unmountAll(env.mountPoint);
  });

  it('refuses when nothing is mounted (the root disk)', () => {
    const { env } = readyVolume('guard-unmounted');
    mkdirSync(join(env.mountPoint, 'pmm-data')); // looks like data, but on the root disk
    const r = lab.run(GUARD, env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${env.mountPoint} is not mounted: PMM runs only on the data volume`,
    );
  });

  it('refuses a restored copy with the same UUID mounted in its place', () => {
    const { env, loop, image } = readyVolume('guard-copy');
    const copy = join(lab.work, 'guard-copy-restored.img');
    sh('cp', ['--sparse=always', image, copy]);
    const copyLoop = lab.attach(copy);
    expect(fsUuid(copyLoop)).toBe(fsUuid(loop));
    sh('mount', [copyLoop, env.mountPoint]);
    const r = lab.run(GUARD, env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`is mounted from ${copyLoop}`);
    expect(r.stderr).toContain(`not from the data volume ${VOLUME_ID} (${loop}`);
    // The mount script refuses it too, and starts nothing.
    lab.takeCalls();
    const m = lab.run(MOUNT, env);
    expect(m.code).not.toBe(0);
    expect(m.stderr).toContain(`already mounted from ${copyLoop}`);
    expect(lab.takeCalls()).toEqual([]);
    lab.unmountAll(env.mountPoint);
  });

  it('refuses the data volume mounted read-only', () => {
    const { env, loop } = readyVolume('guard-ro');
    sh('mount', ['-o', 'ro', loop, env.mountPoint]);
    const r = lab.run(GUARD, env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is mounted read-only (ro');
    lab.unmountAll(env.mountPoint);
  });

  it('refuses a bind of a directory on the data volume', () => {
    const { env, loop } = readyVolume('guard-bind');
    const whole = join(lab.work, 'guard-bind-whole');
    mkdirSync(whole);
    sh('mount', [loop, whole]);
    mkdirSync(join(whole, 'sub', 'pmm-data'), { recursive: true });
    sh('mount', ['--bind', join(whole, 'sub'), env.mountPoint]);
    const r = lab.run(GUARD, env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is a bind of /sub on the data volume');
    lab.unmountAll(env.mountPoint);
    lab.unmountAll(whole);
  });

  it('refuses when the volume is not attached, the data directory is missing or the id is malformed', () => {
    const { env, loop } = readyVolume('guard-misc');
    sh('mount', [loop, env.mountPoint]);
    sh('rm', ['-r', join(env.mountPoint, 'pmm-data')]);
    expect(lab.run(GUARD, env).stderr).toContain('pmm-data does not exist');
    unlinkSync(join(env.byIdDir, BY_ID_NAME));
    const detached = lab.run(GUARD, env);
    expect(detached.code).toBe(1);
    expect(detached.stderr).toContain(`the data volume ${VOLUME_ID} is not attached`);
    symlinkSync(loop, join(env.byIdDir, BY_ID_NAME));
    const bad = lab.run(GUARD, env, { PMM_DATA_VOLUME_ID: '' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('PMM_DATA_VOLUME_ID must be an EBS volume id');
    lab.unmountAll(env.mountPoint);
  });
});

describe('mount-data-volume.sh: hidden files and fstab entries', () => {
  beforeEach(() => lab.takeCalls());

  it('warns about files on the root disk that the mount hides, before and after mounting, and keeps them', () => {
    const { image } = imageWithData('hidden');
    const env = lab.env('hidden', lab.attach(image));
    writeFileSync(join(env.mountPoint, 'written-while-unmounted.db'), 'x');
    mkdirSync(join(env.mountPoint, 'pmm-data'));
    const first = lab.run(MOUNT, env);
    expect(first.code).toBe(0);
    expect(first.out).toContain(`WARNING: 2 entries on the root disk under ${env.mountPoint} (`);
    expect(first.out).toContain('written-while-unmounted.db');
    // Mounted now (e.g. by srv.mount at boot): still seen, without unmounting on the host.
    const again = lab.run(MOUNT, env);
    expect(again.code).toBe(0);
    expect(again.out).toContain('already mounted');
    expect(again.out).toContain(`WARNING: 2 entries on the root disk under ${env.mountPoint} (`);
    expect(isMounted(env.mountPoint)).toBe(true);
    lab.unmountAll(env.mountPoint);
    expect(readFileSync(join(env.mountPoint, 'written-while-unmounted.db'), 'utf8')).toBe('x');
    // An empty mount point: no warning.
    sh('rm', [
      '-r',
      join(env.mountPoint, 'written-while-unmounted.db'),
      join(env.mountPoint, 'pmm-data'),
    ]);
    const clean = lab.run(MOUNT, env);
    expect(clean.out).not.toContain('WARNING');
    lab.unmountAll(env.mountPoint);
  });

  it('replaces every earlier fstab entry for the mount point, in any spelling, and keeps the rest', () => {
    const { image } = imageWithData('fstab');
    const env = lab.env('fstab', lab.attach(image));
    const mp = env.mountPoint;
    const others = [
      '# a comment naming ' + mp,
      'proc /proc proc defaults 0 0',
      `/dev/xvdg ${mp}x ext4 defaults 0 2`,
      `/dev/xvdh ${mp}/sub ext4 defaults 0 2`,
    ];
    writeFileSync(
      env.fstab,
      [
        others[0],
        `UUID=0ld-c0py ${mp}/ ext4 defaults 0 2`,
        others[1],
        `/dev/xvdf\t${mp}//\text4\tdefaults 0 0`,
        others[2],
        `LABEL=old ${mp} ext4 ro 0 0`,
        others[3],
        '',
      ].join('\n'),
    );
    const r = lab.run(MOUNT, env);
    expect(r.code).toBe(0);
    expect(r.out).toContain('replaced earlier');
    const entry = `${join(env.byIdDir, BY_ID_NAME)} ${mp} ext4 defaults,nofail,x-systemd.device-timeout=5min 0 2`;
    expect(fstabLinesFor(env)).toEqual([entry]);
    const lines = readFileSync(env.fstab, 'utf8').split('\n');
    for (const line of others) expect(lines).toContain(line);
    // A further run leaves the file as it is.
    const before = readFileSync(env.fstab, 'utf8');
    const again = lab.run(MOUNT, env);
    expect(again.out).not.toContain('recorded');
    expect(readFileSync(env.fstab, 'utf8')).toBe(before);
    lab.unmountAll(mp);
  });
});

describe('systemd ordering', () => {
  const unit = (name: string) => readFileSync(join(TEMPLATE_DIR, name), 'utf8');
  const values = (text: string, key: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${key}=`))
      .flatMap((l) => l.slice(key.length + 1).split(/\s+/));

  it('pmm-server.service runs the mount guard first, and only orders itself after the mount script', () => {
    const server = unit('pmm-server.service');
    expect(values(server, 'ExecStartPre')[0]).toBe('/usr/local/lib/pmm/check-data-mount.sh');
    expect(server).not.toContain('mountpoint -q');
    expect(values(server, 'After')).toContain('pmm-data-volume.service');
    // Wants=/Requires= would re-run the whole mount script at every restart of PMM.
    for (const key of ['Wants', 'Requires', 'BindsTo', 'Requisite']) {
      expect(values(server, key)).not.toContain('pmm-data-volume.service');
    }
  });

  it('pmm-data-volume.service runs after systemd mounted /srv from fstab, and is re-run by its timer', () => {
    const service = unit('pmm-data-volume.service');
    expect(values(service, 'After')).toContain('srv.mount');
    expect(values(service, 'Type')).toEqual(['oneshot']);
    // RemainAfterExit=yes would make every timer run a no-op.
    expect(values(service, 'RemainAfterExit')).toEqual([]);
  });
});
