/**
 * A scratch lab for the host's data-volume scripts, run FOR REAL as root: disk images on loop
 * devices (some served by faulty-disk.py, whose reads fail with EIO), by-id links, a mount
 * point and an fstab in a temporary directory, and recording shims on PATH. `cleanup()`
 * unmounts, detaches and stops everything it made.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const VOLUME_ID = 'vol-0123456789abcdef0';
export const BY_ID_NAME = 'nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0';
const FAULTY_DISK = join(__dirname, 'faulty-disk.py');

export interface LabEnv {
  readonly byIdDir: string;
  readonly mountPoint: string;
  readonly fstab: string;
  readonly lockFile: string;
}

export interface RunResult {
  readonly code: number | null;
  readonly out: string;
  readonly stderr: string;
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function isMounted(mountPoint: string): boolean {
  return spawnSync('mountpoint', ['-q', mountPoint]).status === 0;
}

/** How many mounts are stacked on the mount point (0: not mounted). */
export function mountCount(mountPoint: string): number {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4] === mountPoint).length;
}

/** blkid's view of a device or image file, bypassing any faulty-disk layer when given the image. */
export function fsUuid(deviceOrImage: string): string {
  return sh('blkid', ['-p', '-o', 'value', '-s', 'UUID', deviceOrImage]);
}

export class LoopLab {
  readonly work = mkdtempSync(join(tmpdir(), 'pmm-loop-lab-'));
  /** Shims on PATH (first) and the commands they recorded. */
  readonly shims = join(this.work, 'shims');
  readonly calls = join(this.work, 'calls');
  private readonly loops: string[] = [];
  private readonly mounts: string[] = [];
  private readonly servers: { stop: () => void }[] = [];

  constructor() {
    mkdirSync(this.shims);
    writeFileSync(this.calls, '');
    this.shim('systemctl', 'echo "systemctl $*" >> "$PMM_TEST_CALLS"');
  }

  /** A command on PATH ahead of the real one; `real` is the real command's path. */
  shim(name: string, body: string): void {
    const real = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    const file = join(this.shims, name);
    writeFileSync(file, `#!/usr/bin/env bash\nreal=${JSON.stringify(real)}\n${body}\n`);
    chmodSync(file, 0o755);
  }

  /** A shim that records its arguments, then runs the real command. */
  recordingShim(name: string, before = ''): void {
    this.shim(name, `echo "${name} $*" >> "$PMM_TEST_CALLS"\n${before}\nexec "$real" "$@"`);
  }

  removeShim(name: string): void {
    rmSync(join(this.shims, name), { force: true });
  }

  takeCalls(): string[] {
    const text = existsSync(this.calls) ? readFileSync(this.calls, 'utf8') : '';
    writeFileSync(this.calls, '');
    return text.trim() === '' ? [] : text.trim().split('\n');
  }

  image(name: string, sizeMiB: number): string {
    const image = join(this.work, `${name}.img`);
    sh('truncate', ['-s', `${sizeMiB}M`, image]);
    return image;
  }

  attach(file: string, readOnly = false): string {
    const loop = sh('losetup', [...(readOnly ? ['--read-only'] : []), '--find', '--show', file]);
    this.loops.push(loop);
    return loop;
  }

  /**
   * Serves `image` through faulty-disk.py (reads touching `errors` byte ranges fail with EIO)
   * and attaches a loop device to it.
   */
  async faultyLoop(image: string, errors: [number, number][]): Promise<string> {
    const mnt = mkdtempSync(join(this.work, 'fuse-'));
    const child = spawn(
      'python3',
      [FAULTY_DISK, image, mnt, ...errors.map(([a, b]) => `${a}:${b}`)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve();
      });
      child.on('exit', (code) =>
        reject(new Error(`faulty-disk.py exited (${code}) before it was ready: ${stderr}`)),
      );
    });
    this.servers.push({
      stop: () => {
        child.kill('SIGTERM');
        spawnSync('umount', ['-l', mnt]);
      },
    });
    return this.attach(join(mnt, 'disk'));
  }

  env(name: string, loop?: string): LabEnv {
    const dir = join(this.work, name);
    const byIdDir = join(dir, 'by-id');
    const mountPoint = join(dir, 'srv');
    mkdirSync(byIdDir, { recursive: true });
    mkdirSync(mountPoint, { recursive: true });
    if (loop) symlinkSync(loop, join(byIdDir, BY_ID_NAME));
    this.mounts.push(mountPoint);
    return { byIdDir, mountPoint, fstab: join(dir, 'fstab'), lockFile: join(dir, 'lock') };
  }

  /** Environment for a host script run against `env`. */
  scriptEnv(env: LabEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: `${this.shims}:${process.env.PATH}`,
      PMM_TEST_CALLS: this.calls,
      PMM_SYSTEMCTL: join(this.shims, 'systemctl'),
      PMM_DATA_VOLUME_ID: VOLUME_ID,
      PMM_MOUNT_POINT: env.mountPoint,
      PMM_FSTAB: env.fstab,
      PMM_BY_ID_DIR: env.byIdDir,
      PMM_LOCK_FILE: env.lockFile,
      PMM_NITRO: 'true',
      PMM_DEVICE_TIMEOUT_SECONDS: '4',
      PMM_PROBE_TIMEOUT_SECONDS: '10',
      ...extra,
    };
  }

  run(script: string, env: LabEnv, extra: Record<string, string> = {}): RunResult {
    const r = spawnSync('bash', [script], { encoding: 'utf8', env: this.scriptEnv(env, extra) });
    return { code: r.status, out: `${r.stdout}${r.stderr}`, stderr: r.stderr };
  }

  /** Starts a run without waiting for it (for concurrent runs). */
  runAsync(
    script: string,
    env: LabEnv,
    extra: Record<string, string> = {},
  ): Promise<RunResult & { endedAtMs: number }> {
    const child = spawn('bash', [script], { env: this.scriptEnv(env, extra) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) =>
      child.on('close', (code) =>
        resolve({ code, out: stdout + stderr, stderr, endedAtMs: Date.now() }),
      ),
    );
  }

  unmountAll(mountPoint: string): void {
    while (isMounted(mountPoint)) {
      if (spawnSync('umount', [mountPoint]).status !== 0) spawnSync('umount', ['-l', mountPoint]);
    }
  }

  cleanup(): void {
    for (const m of this.mounts) this.unmountAll(m);
    for (const l of this.loops) spawnSync('losetup', ['-d', l]);
    for (const s of this.servers) s.stop();
    rmSync(this.work, { recursive: true, force: true });
  }
}
