/**
 * One synth of both stacks, for bench/synth.ts: prints {"maxRssKiB": ...} as its last line.
 * Run as `node --import tsx bench/synth-once.ts <outdir>` from the project (or a copy of it).
 */
import { buildApp } from '../main';

buildApp(process.argv[2]).synth();
console.log(JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }));
