/**
 * Builds the reconciler Lambda: esbuild bundle (minified, node22, CommonJS, got bundled,
 * AWS SDK v3 clients left to the nodejs22.x runtime) and a deterministic zip
 * (fixed timestamps, so the same source gives the same bytes and source_code_hash).
 *
 *   npm run build:lambda
 */
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';

export const FUNCTION_DIR = resolve(__dirname);
export const DIST_DIR = join(FUNCTION_DIR, 'dist');
export const BUNDLE_PATH = join(DIST_DIR, 'index.js');
/** The file the construct references as a TerraformAsset. */
export const ZIP_PATH = join(DIST_DIR, 'asg-reconciler.zip');
const INSTALL_SCRIPT = resolve(FUNCTION_DIR, '../../templates/reconciler/install.sh');

/** A one-file zip with a fixed DOS timestamp (1980-01-01 00:00). */
export function zipOneFile(name: string, data: Buffer): Buffer {
  const deflated = deflateRawSync(data, { level: 9 });
  const crc = crc32(data);
  const nameBuf = Buffer.from(name, 'utf8');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4); // version needed
  local.writeUInt16LE(0, 6); // flags
  local.writeUInt16LE(8, 8); // deflate
  local.writeUInt16LE(0, 10); // time
  local.writeUInt16LE(0x21, 12); // date 1980-01-01
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(deflated.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(nameBuf.length, 26);
  local.writeUInt16LE(0, 28);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(0x031e, 4); // made by: unix, 3.0
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(0, 8);
  central.writeUInt16LE(8, 10);
  central.writeUInt16LE(0, 12);
  central.writeUInt16LE(0x21, 14);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(deflated.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(nameBuf.length, 28);
  central.writeUInt16LE(0, 30); // extra
  central.writeUInt16LE(0, 32); // comment
  central.writeUInt16LE(0, 34); // disk
  central.writeUInt16LE(0, 36); // internal attrs
  central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // external attrs: -rw-r--r--
  central.writeUInt32LE(0, 42); // local header offset
  const localSize = local.length + nameBuf.length + deflated.length;
  const centralSize = central.length + nameBuf.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(localSize, 16);
  return Buffer.concat([local, nameBuf, deflated, central, nameBuf, end]);
}

export interface BuildResult {
  readonly bundleBytes: number;
  readonly zipBytes: number;
}

export async function buildLambda(): Promise<BuildResult> {
  rmSync(DIST_DIR, { recursive: true, force: true });
  mkdirSync(DIST_DIR, { recursive: true });
  await build({
    entryPoints: [join(FUNCTION_DIR, 'src/index.ts')],
    outfile: BUNDLE_PATH,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    legalComments: 'none',
    // The nodejs22.x runtime ships AWS SDK v3; bundling the four clients would take the zip
    // far past 1 MB (EC2 alone is several MB minified). got is bundled deliberately.
    external: ['@aws-sdk/*'],
    define: { __INSTALL_SCRIPT__: JSON.stringify(readFileSync(INSTALL_SCRIPT, 'utf8')) },
    logLevel: 'warning',
  });
  const bundle = readFileSync(BUNDLE_PATH);
  writeFileSync(ZIP_PATH, zipOneFile('index.js', bundle));
  return { bundleBytes: bundle.length, zipBytes: statSync(ZIP_PATH).size };
}

if (require.main === module) {
  buildLambda().then(
    (r) =>
      console.log(`asg-reconciler: bundle ${r.bundleBytes} B, zip ${r.zipBytes} B -> ${ZIP_PATH}`),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
