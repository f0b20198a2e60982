import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsElbServiceAccount } from '@cdktf/provider-aws/lib/data-aws-elb-service-account';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { Fn, IResolvable, ITerraformDependable, propertyAccess, Token } from 'cdktf';
import { Construct } from 'constructs';
import { countWhen, countWhenAll, Flag, oneAttribute } from '../util/plan-time';
import { requireInRange } from '../util/validate';

/** S3 `bucket_prefix` is limited to 37 characters (63 minus the 26-character suffix). */
export const BUCKET_PREFIX_MAX_LENGTH = 37;

/**
 * Regions that opened before August 2022, where ELB writes access logs as a regional AWS
 * account (`data.aws_elb_service_account` knows its ID; it fails with "Unknown region"
 * anywhere else, so it is read only in these regions). Every region, old or new, also
 * accepts the `logdelivery.elasticloadbalancing.amazonaws.com` service principal, which
 * the policy always grants.
 */
export const LEGACY_ELB_ACCOUNT_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-east-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ca-central-1',
  'eu-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-south-1',
  'eu-north-1',
  'me-south-1',
  'sa-east-1',
  'us-gov-west-1',
  'us-gov-east-1',
  'cn-north-1',
  'cn-northwest-1',
] as const;

export const ELB_LOG_DELIVERY_PRINCIPAL = 'logdelivery.elasticloadbalancing.amazonaws.com';

export interface AccessLogsBucketProps {
  /** `<service_name>-<environment>`; the bucket name starts with it (truncated to fit). */
  readonly namePrefix: string;
  /** Creates everything only when true (a plan-time `count`). */
  readonly enabled: Flag;
  /** Days after which log objects expire (1..36500). */
  readonly retentionDays: number;
  /** Lets `terraform destroy` delete a bucket that still holds logs. */
  readonly forceDestroy: Flag;
}

/**
 * The ALB access-logs bucket: private (public access blocked, BucketOwnerEnforced), SSE-S3
 * (ALB log delivery does not support SSE-KMS), TLS-only, writable by ELB log delivery only
 * under `AWSLogs/<account>/`, objects expiring after `retentionDays`. Nothing exists when
 * `enabled` is false; `bucketName` is then null.
 */
export class AccessLogsBucket extends Construct {
  /** Bucket name, or null when access logs are off. */
  public readonly bucketName: string;
  /** The bucket policy: the ALB must wait for it (ELB checks its permission on enable). */
  public readonly policy: ITerraformDependable;

  constructor(scope: Construct, id: string, props: AccessLogsBucketProps) {
    super(scope, id);
    requireInRange('AccessLogsBucket', 'retentionDays', props.retentionDays, 1, 36500);
    const count = countWhen(props.enabled);

    const bucket = new S3Bucket(this, 'bucket', {
      count,
      bucketPrefix: Token.asString(
        Fn.substr(`${props.namePrefix}-alb-logs-`, 0, BUCKET_PREFIX_MAX_LENGTH),
      ),
      forceDestroy: props.forceDestroy,
      tags: { Name: `${props.namePrefix}-alb-logs` },
    });
    const bucketId = oneAttribute(bucket, 'id');
    const bucketArn = oneAttribute(bucket, 'arn');
    this.bucketName = bucketId;

    const publicAccessBlock = new S3BucketPublicAccessBlock(this, 'public_access_block', {
      count,
      bucket: bucketId,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'ownership', {
      count,
      bucket: bucketId,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      count,
      bucket: bucketId,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    });
    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      count,
      bucket: bucketId,
      rule: [
        {
          id: 'expire-access-logs',
          status: 'Enabled',
          filter: [{ prefix: '' }],
          expiration: [{ days: props.retentionDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });

    // ---- Bucket policy.
    const account = new DataAwsCallerIdentity(this, 'account', {});
    const region = new DataAwsRegion(this, 'region', {});
    const logsPath = `${bucketArn}/AWSLogs/${account.accountId}/*`;
    const legacyCount = countWhenAll(
      props.enabled,
      Fn.contains([...LEGACY_ELB_ACCOUNT_REGIONS], region.name) as IResolvable,
    );
    const elbAccount = new DataAwsElbServiceAccount(this, 'elb_account', { count: legacyCount });
    const legacyDocument = new DataAwsIamPolicyDocument(this, 'legacy_elb_account_policy', {
      count: legacyCount,
      statement: [
        {
          sid: 'AllowRegionalElbAccountLogDelivery',
          effect: 'Allow',
          principals: [{ type: 'AWS', identifiers: [oneAttribute(elbAccount, 'arn')] }],
          actions: ['s3:PutObject'],
          resources: [logsPath],
        },
      ],
    });
    const document = new DataAwsIamPolicyDocument(this, 'policy_document', {
      count,
      sourcePolicyDocuments: Token.asList(propertyAccess(legacyDocument, ['*', 'json'])),
      statement: [
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          principals: [{ type: '*', identifiers: ['*'] }],
          actions: ['s3:*'],
          resources: [bucketArn, `${bucketArn}/*`],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
        {
          sid: 'AllowElbLogDelivery',
          effect: 'Allow',
          principals: [{ type: 'Service', identifiers: [ELB_LOG_DELIVERY_PRINCIPAL] }],
          actions: ['s3:PutObject'],
          resources: [logsPath],
        },
      ],
    });
    this.policy = new S3BucketPolicy(this, 'policy', {
      count,
      bucket: bucketId,
      policy: oneAttribute(document, 'json'),
      // S3 rejects concurrent bucket-level changes ("conflicting conditional operation").
      dependsOn: [publicAccessBlock],
    });
  }
}
