import { AcmCertificate } from '@cdktf/provider-aws/lib/acm-certificate';
import { AcmCertificateValidation } from '@cdktf/provider-aws/lib/acm-certificate-validation';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import {
  Fn,
  forExpression,
  Precondition,
  TerraformIterator,
  TerraformProvider,
  Token,
} from 'cdktf';
import { isNotEmpty } from '../util/plan-time';
import { Construct } from 'constructs';

/** TTL of the validation and CAA records. */
export const RECORD_TTL_SECONDS = 300;

export interface DnsCertificateProps {
  readonly namePrefix: string;
  /** Public zone of the validation and CAA records. */
  readonly zoneId: string;
  /** Zone name without the trailing dot. */
  readonly zoneName: string;
  /** Host names relative to the zone; the first is the certificate's domain name. */
  readonly dnsNames: string[];
  /** CA domains for CAA records on every name; an empty list creates none. */
  readonly certificateIssuers: string[];
  /** Provider of the Route53 records. @default - the default AWS provider */
  readonly route53Provider?: TerraformProvider;
  /** Checked before the certificate is requested (the validation zone's). @default [] */
  readonly preconditions?: Precondition[];
}

/**
 * An ACM certificate for `<name>.<zone>` of every name, DNS-validated in the zone.
 * The validation records are keyed by the names themselves (known at plan time); each
 * picks its option out of `domain_validation_options` (unknown until apply) with a
 * for-expression lookup by domain name, so the plan never depends on an unknown set.
 * CAA records (one per name, listing `certificateIssuers`) exist before the certificate
 * is requested. Adding a name keeps the validation records of the others (ignore_changes on
 * their name/type/value: ACM reuses a domain's validation CNAME across certificates).
 */
export class DnsCertificate extends Construct {
  /** The certificate ARN once validated (referencing it waits for validation). */
  public readonly validatedCertificateArn: string;
  /** `<name>.<zone>` of every name. */
  public readonly fqdns: string[];

  constructor(scope: Construct, id: string, props: DnsCertificateProps) {
    super(scope, id);
    this.fqdns = Token.asList(Fn.formatlist('%s.%s', [props.dnsNames, props.zoneName]));
    const fqdnOf = (name: string): string => `${name}.${props.zoneName}`;

    const issuers = TerraformIterator.fromList(
      Token.asList(Fn.conditional(isNotEmpty(props.certificateIssuers), props.dnsNames, [])),
    );
    const caa = new Route53Record(this, 'caa', {
      provider: props.route53Provider,
      forEach: issuers,
      zoneId: props.zoneId,
      name: fqdnOf(Token.asString(issuers.value)),
      type: 'CAA',
      ttl: RECORD_TTL_SECONDS,
      records: Token.asList(
        Fn.formatlist(Fn.rawString('0 issue "%s"'), [props.certificateIssuers]),
      ),
    });

    const certificate = new AcmCertificate(this, 'certificate', {
      domainName: Token.asString(Fn.element(this.fqdns, 0)),
      subjectAlternativeNames: Token.asList(Fn.slice(this.fqdns, 1, Fn.lengthOf(this.fqdns))),
      validationMethod: 'DNS',
      tags: { Name: `${props.namePrefix}-alb` },
      lifecycle: {
        createBeforeDestroy: true,
        precondition: props.preconditions?.length ? props.preconditions : undefined,
      },
      dependsOn: [caa],
    });

    // domain_name => validation option, evaluated at apply time inside each record.
    const options = forExpression(certificate.domainValidationOptions, 'val', 'val.domain_name');
    const names = TerraformIterator.fromList(props.dnsNames);
    const option = (attribute: string): string =>
      Token.asString(Fn.lookupNested(options, [fqdnOf(Token.asString(names.value)), attribute]));
    const records = new Route53Record(this, 'validation_record', {
      provider: props.route53Provider,
      forEach: names,
      zoneId: props.zoneId,
      name: option('resource_record_name'),
      type: option('resource_record_type'),
      ttl: RECORD_TTL_SECONDS,
      records: [option('resource_record_value')],
      // ACM reuses the same record for a name across certificates (create_before_destroy).
      allowOverwrite: true,
      lifecycle: {
        // A new certificate (a name added, removed or made first) has unknown validation
        // options at plan time; without this every record would be planned for replacement.
        // ACM gives a domain the same validation CNAME for every certificate in the account,
        // so the record of an unchanged name stays valid: only added names get records.
        ignoreChanges: ['name', 'type', 'records'],
      },
    });

    const validation = new AcmCertificateValidation(this, 'validation', {
      certificateArn: certificate.arn,
      validationRecordFqdns: Token.asList(
        TerraformIterator.fromResources(records).pluckProperty('fqdn'),
      ),
    });
    this.validatedCertificateArn = validation.certificateArn;
  }
}
