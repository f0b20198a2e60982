import { buildLambda } from '../../functions/asg-reconciler/build';

/** Jest globalSetup: every stack synth references the reconciler zip, so build it first. */
export default async function globalSetup(): Promise<void> {
  await buildLambda();
}
