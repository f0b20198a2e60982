/**
 * One synth of both stacks, for bench/synth.ts: prints {"maxRssKiB": ...} as its last line.
 * bench/synth.ts bundles it with esbuild and runs `node synth-once.js <outdir>`.
 */
import { buildApp } from '../main';

buildApp(process.argv[2]).synth();
console.log(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }));
