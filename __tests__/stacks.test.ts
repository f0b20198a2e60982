import { synthModule, synthRoot, resource } from './helpers/synth';
import { MODULE_PROVIDER_VERSIONS } from '../stacks/module-stack';
import { validateRootStackConfig } from '../stacks/stack-config';

describe('module stack', () => {
  const tf = synthModule();

  it('has no provider or backend blocks', () => {
    expect(tf.provider).toBeUndefined();
    expect(tf.terraform.backend).toBeUndefined();
  });

  it('declares provider version ranges, not exact pins', () => {
    expect(tf.terraform.required_providers.aws).toEqual({
      source: 'hashicorp/aws',
      version: MODULE_PROVIDER_VERSIONS.aws,
    });
    expect(tf.terraform.required_providers.random).toEqual({
      source: 'hashicorp/random',
      version: MODULE_PROVIDER_VERSIONS.random,
    });
  });

  it('protects the data volume with a literal prevent_destroy', () => {
    expect(resource(tf, 'aws_ebs_volume', 'data_volume_volume').lifecycle.prevent_destroy).toBe(
      true,
    );
  });

  it('never renders a JavaScript value Terraform cannot read (undefined, NaN, [object Object])', () => {
    expect(JSON.stringify(tf)).not.toMatch(/\bundefined\b|\bNaN\b|\[object Object\]/);
  });

  it('uses readable, hash-free Terraform addresses', () => {
    for (const [type, byName] of Object.entries(tf.resource as Record<string, object>)) {
      for (const name of Object.keys(byName)) {
        expect(`${type}.${name}`).toMatch(/^[a-z0-9_]+\.pmm_[a-z0-9_]+$/);
      }
    }
  });
});

describe('root stack', () => {
  it('configures the aws provider region from a variable and default tags from tags', () => {
    const tf = synthRoot();
    expect(tf.provider.aws[0].region).toBe('${var.region}');
    expect(tf.provider.aws[0].default_tags[0].tags).toBe('${var.tags}');
    expect(tf.variable.region.default).toBeNull();
    expect(tf.provider.random).toBeDefined();
  });

  it('pins the providers the bindings were generated for', () => {
    const tf = synthRoot();
    expect(tf.terraform.required_providers.aws).toEqual({
      source: 'hashicorp/aws',
      version: '6.25.0',
    });
  });

  it('keeps local state on a relative path outside cdktf.out', () => {
    const tf = synthRoot();
    expect(tf.terraform.backend.local.path).toBe('../../../terraform.pmm.tfstate');
  });

  it('switches to an S3 backend from config', () => {
    const tf = synthRoot({
      backend: { type: 's3', bucket: 'b', key: 'pmm.tfstate', region: 'eu-west-1' },
    });
    expect(tf.terraform.backend.s3).toEqual({
      bucket: 'b',
      key: 'pmm.tfstate',
      region: 'eu-west-1',
      encrypt: true,
      use_lockfile: true,
    });
  });

  it('turns config variables into variable defaults', () => {
    const tf = synthRoot({
      region: 'eu-west-1',
      variables: { environment: 'prod', ebs_volume_size: 200 },
    });
    expect(tf.variable.environment.default).toBe('prod');
    expect(tf.variable.ebs_volume_size.default).toBe(200);
    expect(tf.variable.region.default).toBe('eu-west-1');
  });

  it('protects the data volume with a literal prevent_destroy', () => {
    expect(
      resource(synthRoot(), 'aws_ebs_volume', 'data_volume_volume').lifecycle.prevent_destroy,
    ).toBe(true);
  });
});

describe('root stack config', () => {
  it('rejects unknown variables and names the allowed ones', () => {
    expect(() => validateRootStackConfig({ variables: { ebs_size: 1 } })).toThrow(
      /variables\.ebs_size: unknown key; did you mean "ebs_volume_size"\?/,
    );
  });

  it('rejects an incomplete s3 backend', () => {
    expect(() => validateRootStackConfig({ backend: { type: 's3', bucket: 'b' } })).toThrow(
      /backend: missing required key "key"/,
    );
  });

  it('rejects an unknown backend type', () => {
    expect(() => validateRootStackConfig({ backend: { type: 'gcs' } })).toThrow(
      /backend\.type: must be one of "local", "s3"/,
    );
  });
});
