import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { Fn, Op, Token } from 'cdktf';
import { Construct } from 'constructs';
import { countWhenSet, Flag } from './util/plan-time';
import {
  EXTRA_ENV_LINE_PREFIX,
  PmmTuning,
  ROOT_RESERVED_GIB,
  rootSpareMiB,
  swapSizeExpression,
  tuningLines,
  validateTuning,
} from './pmm-tuning';

/** The custom query resolutions PMM's PostgreSQL collector reads. */
export const CUSTOM_QUERY_RESOLUTIONS = ['high', 'medium', 'low'] as const;
export type CustomQueryResolution = (typeof CUSTOM_QUERY_RESOLUTIONS)[number];

/** SSM Parameter Store limits: standard tier 4 KB, advanced tier 8 KB (characters). */
export const SSM_STANDARD_MAX_CHARS = 4096;
export const SSM_ADVANCED_MAX_CHARS = 8192;

/** The image the host runs: `percona/pmm-server:<pmm_version>`. */
export const PMM_IMAGE_REPOSITORY = 'percona/pmm-server';

/**
 * Value of the CA certificate parameter until the host has published its CA (the reconciler
 * refuses to talk to PMM while it reads this).
 */
export const CA_CERTIFICATE_PLACEHOLDER = 'unpublished';

/** Value of the image record before the host has resolved an image. */
export const IMAGE_RECORD_PLACEHOLDER = 'unresolved';

export interface PmmConfigProps {
  /** Prefix for names (`<service>-<environment>`). */
  readonly namePrefix: string;
  /** Tag of percona/pmm-server ("3", "3.x" or "3.x.y"). */
  readonly pmmVersion: string;
  /** Disable PMM telemetry (PMM_ENABLE_TELEMETRY=false). */
  readonly disableTelemetry: Flag;
  /** Public host name PMM advertises (PMM_PUBLIC_ADDRESS). */
  readonly publicAddress: string;
  /** The data volume the host mounts at /srv. */
  readonly dataVolumeId: string;
  /** The admin password secret (its ARN only). */
  readonly adminSecretArn: string;
  /** Custom PostgreSQL query YAML per resolution (each may be null). @default - none */
  readonly postgresqlCustomQueries?: Partial<Record<CustomQueryResolution, string>>;
  /** Variable names, for error messages. @default - postgresql_custom_queries_<r>_resolution */
  readonly customQueryVariableNames?: Partial<Record<CustomQueryResolution, string>>;
  /** Retention, resolutions, ClickHouse profile, swap, extra env (constructs/pmm-tuning.ts). @default {} */
  readonly tuning?: PmmTuning;
  /**
   * The instance type's memory in MiB (`aws_ec2_instance_type.memory_size`), for the automatic
   * ClickHouse profile and swap size. @default 8192 (m5.large)
   */
  readonly instanceMemoryMiB?: number;
  /** Root volume size in GiB (the swap file lives there). @default 20 */
  readonly rootVolumeSizeGiB?: number;
}

/**
 * PMM's runtime configuration in SSM Parameter Store, so a change reaches the running host
 * without touching the instance (its user data only names the parameter path):
 * - `<path>/config`: env-file lines (image tag, data volume, admin secret ARN, telemetry,
 *   public address, SHA-256 of each custom query file, tuning: retention, resolutions,
 *   ClickHouse profile, swap size, `PMM_EXTRA_ENV_<NAME>` lines); no secrets: it is plain
 *   text in state and in SSM;
 * - `<path>/custom-queries/<resolution>`: base64(gzip(YAML)), only when set;
 * - `<path>/image`: written by the HOST (Terraform ignores its value): the image digest it
 *   resolved for the config it applied, `config=<sha256> image=<repo>@sha256:... tag=<tag>`.
 *   A reboot or a replaced instance reuses that digest while the config is unchanged, so
 *   "3" moves to a newer image only when the operator applies a config change.
 * - `<path>/ca-certificate`: written by the HOST (Terraform ignores its value): the PEM of
 *   its private CA (public), which the reconciler and the install script trust
 *   (templates/host/pmm-tls.sh, docs/tls.md).
 * The host polls every minute (templates/host/pmm-config.timer, apply-config.sh).
 */
export class PmmConfig extends Construct {
  /** Parameter path, e.g. `/pmm/pmm-server-production` (no trailing slash). */
  public readonly path: string;
  public readonly configParameterArn: string;
  /** ARN pattern of the custom query parameters (`.../custom-queries/*`). */
  public readonly customQueriesParameterArnPattern: string;
  public readonly imageParameterArn: string;
  public readonly imageParameterName: string;
  /** The image record the host last wrote (refreshed on every plan/apply). */
  public readonly imageRecord: string;
  /** The parameter the host publishes its CA certificate (PEM, public) to. */
  public readonly caParameterArn: string;
  public readonly caParameterName: string;

  constructor(scope: Construct, id: string, props: PmmConfigProps) {
    super(scope, id);
    this.path = `/pmm/${props.namePrefix}`;
    const queries = props.postgresqlCustomQueries ?? {};
    const tuning = props.tuning ?? {};
    validateTuning('PmmConfig', tuning);
    const memoryMiB = props.instanceMemoryMiB ?? 8192;
    const rootGiB = props.rootVolumeSizeGiB ?? 20;

    const shaLines = CUSTOM_QUERY_RESOLUTIONS.map((resolution) => {
      const yaml = queries[resolution];
      const sha =
        yaml === undefined
          ? ''
          : Token.asString(Fn.conditional(Op.eq(yaml, Token.nullValue()), '', Fn.sha256(yaml)));
      return `PMM_CUSTOM_QUERIES_${resolution.toUpperCase()}_SHA256=${sha}`;
    });

    const value = [
      `PMM_IMAGE_TAG=${PMM_IMAGE_REPOSITORY}:${props.pmmVersion}`,
      `PMM_DATA_VOLUME_ID=${props.dataVolumeId}`,
      `PMM_ADMIN_SECRET_ARN=${props.adminSecretArn}`,
      `PMM_ENABLE_TELEMETRY=${Token.asString(Fn.conditional(props.disableTelemetry, 'false', 'true'))}`,
      `PMM_PUBLIC_ADDRESS=${props.publicAddress}`,
      ...shaLines,
      ...tuningLines(tuning, memoryMiB, rootGiB),
      '',
    ].join('\n');
    const config = new SsmParameter(this, 'config', {
      name: `${this.path}/config`,
      description: 'PMM runtime configuration, applied by the PMM host within about a minute',
      type: 'String',
      tier: 'Standard',
      value,
      lifecycle: {
        precondition: [
          {
            condition: Op.lte(Fn.lengthOf(value), SSM_STANDARD_MAX_CHARS),
            errorMessage: `The PMM configuration (SSM parameter ${this.path}/config) would exceed ${SSM_STANDARD_MAX_CHARS} characters: shorten pmm_extra_env (each entry adds a ${EXTRA_ENV_LINE_PREFIX}<NAME>=<value> line).`,
          },
          {
            condition: Op.lte(
              swapSizeExpression(tuning, memoryMiB, rootGiB),
              rootSpareMiB(rootGiB),
            ),
            errorMessage: `swap_size_mib does not fit the root volume: the swap file lives there, and the system needs ${ROOT_RESERVED_GIB} GiB of it; raise root_volume_size to at least ${ROOT_RESERVED_GIB} GiB plus the swap size, or lower swap_size_mib.`,
          },
        ],
      },
    });

    for (const resolution of CUSTOM_QUERY_RESOLUTIONS) {
      const yaml = queries[resolution];
      if (yaml === undefined) continue;
      const variable =
        props.customQueryVariableNames?.[resolution] ??
        `postgresql_custom_queries_${resolution}_resolution`;
      const encoded = Fn.base64gzip(yaml);
      new SsmParameter(this, `custom_queries_${resolution}`, {
        count: countWhenSet(yaml),
        name: `${this.path}/custom-queries/${resolution}`,
        description: `PMM custom PostgreSQL queries (${resolution} resolution), base64(gzip(YAML))`,
        type: 'String',
        tier: Token.asString(
          Fn.conditional(
            Op.gt(Fn.lengthOf(encoded), SSM_STANDARD_MAX_CHARS),
            'Advanced',
            'Standard',
          ),
        ),
        value: encoded,
        lifecycle: {
          precondition: [
            {
              condition: Op.lte(Fn.lengthOf(encoded), SSM_ADVANCED_MAX_CHARS),
              errorMessage: `${variable} is too large: gzipped and base64-encoded it must fit in ${SSM_ADVANCED_MAX_CHARS} characters (an SSM advanced parameter); shorten the queries.`,
            },
          ],
        },
      });
    }

    const image = new SsmParameter(this, 'image', {
      name: `${this.path}/image`,
      description:
        'The percona/pmm-server image the PMM host resolved for the configuration it applied (written by the host)',
      type: 'String',
      tier: 'Standard',
      insecureValue: IMAGE_RECORD_PLACEHOLDER,
      // The host owns the value; Terraform only creates the parameter and reads it back.
      lifecycle: { ignoreChanges: ['insecure_value', 'value'] },
    });

    // A String parameter: a CA certificate is public; only the host's role may write it.
    const ca = new SsmParameter(this, 'ca_certificate', {
      name: `${this.path}/ca-certificate`,
      description:
        "PEM certificate of the PMM host's private CA (public; written by the host, trusted by the ASG reconciler and pmm-agents)",
      type: 'String',
      tier: 'Standard',
      insecureValue: CA_CERTIFICATE_PLACEHOLDER,
      lifecycle: { ignoreChanges: ['insecure_value', 'value'] },
    });

    this.configParameterArn = config.arn;
    this.customQueriesParameterArnPattern = Token.asString(
      Fn.replace(config.arn, '/config$/', 'custom-queries/*'),
    );
    this.imageParameterArn = image.arn;
    this.imageParameterName = image.name;
    this.imageRecord = image.insecureValue;
    this.caParameterArn = ca.arn;
    this.caParameterName = ca.name;
  }
}
