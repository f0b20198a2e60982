/** moto in server mode on 127.0.0.1 (free port): start, seed, stop. */
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { AmiFilter } from './tf-json';

export interface Moto {
  readonly url: string;
  readonly pid: number;
  stop(): void;
}

let running: ChildProcess | undefined;

/** Stops the moto server if one is running (also called from exit/signal handlers). */
export function stopMoto(): void {
  if (running && running.exitCode === null && running.pid) {
    try {
      running.kill('SIGTERM');
    } catch {
      // already gone
    }
  }
  running = undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** moto `MOTO_AMIS_PATH` entries for images that match the module's AMI lookups. */
export function standInAmis(filters: readonly AmiFilter[]): object[] {
  const out: object[] = [];
  let n = 0;
  for (const f of filters) {
    for (const owner of f.owners.length > 0 ? f.owners : ['123456789012']) {
      for (const pattern of f.namePatterns) {
        const name = pattern.replace(/\*/g, '20250101');
        const arch = /arm64|aarch64/.test(pattern) ? 'arm64' : (f.architectures[0] ?? 'x86_64');
        out.push({
          ami_id: `ami-0verify${(n++).toString(16).padStart(8, '0')}`,
          name,
          owner_id: owner,
          state: 'available',
          public: true,
          architecture: arch,
          virtualization_type: 'hvm',
          hypervisor: 'xen',
          image_type: 'machine',
          root_device_type: 'ebs',
          root_device_name: '/dev/sda1',
          sriov: 'simple',
          image_location: `${owner}/${name}`,
          description: `verify stand-in for ${f.address}`,
          creation_date: '2025-01-01T00:00:00.000Z',
        });
      }
    }
  }
  return out;
}

export async function startMoto(
  python: string,
  scriptsDir: string,
  workDir: string,
  amis: object[],
): Promise<Moto> {
  const port = await freePort();
  const extra = join(workDir, 'moto-extra-amis.json');
  writeFileSync(extra, JSON.stringify(amis, null, 2));
  const log = createWriteStream(join(workDir, 'logs', 'moto-server.log'));
  const child = spawn(
    python,
    [join(scriptsDir, 'moto_server.py'), String(port), extra, join(workDir, 'moto-amis.json')],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      // ACM certificates requested with DNS validation turn ISSUED after this many seconds;
      // AWS-managed IAM policies (AmazonSSMManagedInstanceCore, AWSBackupServiceRolePolicyFor*)
      // exist in moto only when it is told to load them.
      env: {
        ...process.env,
        MOTO_ACM_VALIDATION_WAIT: '0',
        MOTO_IAM_LOAD_MANAGED_POLICIES: 'true',
      },
    },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  running = child;
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `moto server exited with ${child.exitCode}; see ${join(workDir, 'logs', 'moto-server.log')}`,
      );
    }
    try {
      const res = await fetch(`${url}/moto-api/`);
      if (res.ok || res.status < 500) {
        return { url, pid: child.pid!, stop: stopMoto };
      }
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  stopMoto();
  throw new Error(`moto server did not answer on ${url} within 60s`);
}
