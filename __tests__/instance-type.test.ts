/**
 * instance_type is judged by the type's real properties (aws_ec2_instance_type: architectures,
 * memory, vCPUs, EBS optimization) at plan time, not by a family list: the synthesized
 * postconditions evaluated by real Terraform against the EC2 data of real types.
 */
import { MIN_MEMORY_MIB, MIN_VCPUS } from '../constructs/host/instance-type';
import { INSTANCE_TYPE_PATTERN } from '../stacks/module-variables';
import { synthModule } from './helpers/synth';
import { terraformEval } from './helpers/terraform';

const tf = synthModule();
const dataSource = tf.data.aws_ec2_instance_type.pmm_host_instance_type;
const postconditions = dataSource.lifecycle.postcondition as {
  condition: string;
  error_message: string;
}[];

interface TypeData {
  readonly archs: string[];
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly ebs: 'default' | 'supported' | 'unsupported';
}

/** DescribeInstanceTypes facts (ProcessorInfo, MemoryInfo, VCpuInfo, EbsInfo). */
const TYPES: Record<string, TypeData> = {
  'm5.large': { archs: ['x86_64'], memoryMiB: 8192, vcpus: 2, ebs: 'default' },
  'm8i.large': { archs: ['x86_64'], memoryMiB: 8192, vcpus: 2, ebs: 'default' },
  'c8i.large': { archs: ['x86_64'], memoryMiB: 4096, vcpus: 2, ebs: 'default' },
  'r8i.xlarge': { archs: ['x86_64'], memoryMiB: 32768, vcpus: 4, ebs: 'default' },
  'm7i-flex.large': { archs: ['x86_64'], memoryMiB: 8192, vcpus: 2, ebs: 'default' },
  'm7a.2xlarge': { archs: ['x86_64'], memoryMiB: 32768, vcpus: 8, ebs: 'default' },
  'c5.large': { archs: ['x86_64'], memoryMiB: 4096, vcpus: 2, ebs: 'default' },
  't3.medium': { archs: ['x86_64'], memoryMiB: 4096, vcpus: 2, ebs: 'default' },
  'm4.large': { archs: ['x86_64'], memoryMiB: 8192, vcpus: 2, ebs: 'supported' },
  'm7g.large': { archs: ['arm64'], memoryMiB: 8192, vcpus: 2, ebs: 'default' },
  't4g.xlarge': { archs: ['arm64'], memoryMiB: 16384, vcpus: 4, ebs: 'default' },
  'r8g.large': { archs: ['arm64'], memoryMiB: 16384, vcpus: 2, ebs: 'default' },
  'mac1.metal': { archs: ['x86_64_mac'], memoryMiB: 32768, vcpus: 12, ebs: 'default' },
  't3.small': { archs: ['x86_64'], memoryMiB: 2048, vcpus: 2, ebs: 'default' },
  't2.micro': { archs: ['i386', 'x86_64'], memoryMiB: 1024, vcpus: 1, ebs: 'unsupported' },
  't2.medium': { archs: ['i386', 'x86_64'], memoryMiB: 4096, vcpus: 2, ebs: 'unsupported' },
};

/** The expression with `self.*` and `var.instance_type` replaced by the type's data. */
function bind(expression: string, type: string): string {
  const d = TYPES[type];
  return expression
    .replace(/self\.supported_architectures/g, JSON.stringify(d.archs))
    .replace(/self\.memory_size/g, String(d.memoryMiB))
    .replace(/self\.default_vcpus/g, String(d.vcpus))
    .replace(/self\.ebs_optimized_support/g, JSON.stringify(d.ebs))
    .replace(/var\.instance_type/g, JSON.stringify(type));
}

/** The error messages of the postconditions the type fails (real Terraform evaluation). */
function failures(type: string): string[] {
  return postconditions
    .filter((p) => terraformEval(bind(p.condition, type)) !== true)
    .map((p) => terraformEval(`"${quoteLiteralParts(bind(p.error_message, type))}"`) as string);
}

/** Escapes double quotes outside `${...}` interpolations (the message as an HCL string). */
function quoteLiteralParts(template: string): string {
  let depth = 0;
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === '$' && template[i + 1] === '{') {
      depth++;
      out += '${';
      i++;
    } else if (c === '}' && depth > 0) {
      depth--;
      out += c;
    } else if (c === '"' && depth === 0) {
      out += '\\"';
    } else {
      out += c;
    }
  }
  return out;
}

describe('instance type checks (plan time, from the type data)', () => {
  it('are postconditions of the instance type data source, read at plan', () => {
    expect(dataSource.instance_type).toBe('${var.instance_type}');
    expect(postconditions).toHaveLength(3);
    expect(MIN_MEMORY_MIB).toBe(4096);
    expect(MIN_VCPUS).toBe(2);
  });

  it.each([
    'm5.large',
    'm8i.large',
    'c8i.large',
    'r8i.xlarge',
    'm7i-flex.large',
    'm7a.2xlarge',
    'c5.large',
    't3.medium',
    'm4.large',
  ])('accepts the x86_64 type %s (large enough, no family list)', (type) => {
    expect(failures(type)).toEqual([]);
    expect(new RegExp(INSTANCE_TYPE_PATTERN).test(type)).toBe(true);
  });

  it.each(['m7g.large', 't4g.xlarge', 'r8g.large'])(
    'refuses the Graviton (arm64-only) type %s, naming instance_type and the reason',
    (type) => {
      const [message, ...rest] = failures(type);
      expect(rest).toEqual([]);
      expect(message).toContain(`instance_type "${type}" is not an x86_64 type`);
      expect(message).toContain('its architectures: arm64');
      expect(message).toContain('no native arm64 PMM Server image');
    },
  );

  it('refuses a Mac type (x86_64_mac is not x86_64)', () => {
    expect(failures('mac1.metal')[0]).toContain('instance_type "mac1.metal" is not an x86_64 type');
  });

  it.each([
    ['t3.small', '2048 MiB of memory and 2 vCPUs'],
    ['t2.micro', '1024 MiB of memory and 1 vCPUs'],
  ])('refuses %s as too small, with its real size and the minimum', (type, size) => {
    const messages = failures(type);
    expect(messages.some((m) => m.includes(`instance_type "${type}" has ${size}`))).toBe(true);
    expect(messages.some((m) => m.includes('at least 4096 MiB (4 GiB) and 2 vCPUs'))).toBe(true);
  });

  it('refuses a type without EBS optimization', () => {
    expect(failures('t2.medium')).toEqual([
      'instance_type "t2.medium" does not support EBS optimization, which the PMM host uses for its data volume; choose a current-generation type.',
    ]);
  });

  it.each(['m5.large', 'm7i-flex.large', 'u7i-12tb.224xlarge', 'c8i.metal-48xl'])(
    'the variable validation accepts the name %s',
    (name) => expect(new RegExp(INSTANCE_TYPE_PATTERN).test(name)).toBe(true),
  );

  it.each(['M5.large', 'm5', 'm5.', '.large', 'm5 large', 'm5.large;x'])(
    'the variable validation rejects the malformed name %j early',
    (name) => expect(new RegExp(INSTANCE_TYPE_PATTERN).test(name)).toBe(false),
  );
});
