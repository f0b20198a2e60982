import { DataAwsRoute53Zone } from '@cdktf/provider-aws/lib/data-aws-route53-zone';
import { Fn, Op, Precondition, TerraformProvider, Token } from 'cdktf';
import { Construct } from 'constructs';

export interface ValidationZoneProps {
  /** The zone of the alias records. */
  readonly zoneId: string;
  /** Its name without the trailing dot. */
  readonly zoneName: string;
  /**
   * The public zone for certificate validation and CAA records (may be a null expression).
   * @default - zoneId
   */
  readonly validationZoneId?: string;
  /** Provider of the zone lookup. @default - the default AWS provider */
  readonly provider?: TerraformProvider;
}

/**
 * The zone that holds the certificate's DNS validation records and the CAA records:
 * `validation_zone_id`, or the alias records' zone. ACM resolves both through public DNS, so
 * the zone must be public, and it must be the zone of the names' domain or of a parent domain
 * (a record name must lie inside its zone). Both are checked at plan as preconditions of the
 * certificate, never discovered after a 75-minute validation timeout.
 */
export class ValidationZone extends Construct {
  public readonly zoneId: string;
  public readonly preconditions: Precondition[];

  constructor(scope: Construct, id: string, props: ValidationZoneProps) {
    super(scope, id);
    this.zoneId =
      props.validationZoneId === undefined
        ? props.zoneId
        : Token.asString(Fn.coalesce([props.validationZoneId, props.zoneId]));
    const zone = new DataAwsRoute53Zone(this, 'zone', {
      provider: props.provider,
      zoneId: this.zoneId,
    });
    const name = Token.asString(Fn.trimsuffix(zone.name, '.'));
    this.preconditions = [
      {
        // `!= true`: the provider always sets private_zone from the zone; a mock may leave it null.
        condition: Op.neq(zone.privateZone, true),
        errorMessage:
          'The certificate validation zone (validation_zone_id, or zone_id when it is null) is a private hosted zone: ACM validates certificates and checks CAA records through public DNS, so it would wait 75 minutes and fail. Set validation_zone_id to a public hosted zone of the same domain or of a parent domain.',
      },
      {
        condition: Op.or(
          Op.eq(props.zoneName, name),
          Fn.endswith(props.zoneName, Token.asString(Fn.join('', ['.', name]))),
        ),
        errorMessage:
          "validation_zone_id must be a public zone of zone_id's domain or of a parent domain: the validation and CAA records of <dns_name>.<zone_id's domain> must lie inside it.",
      },
    ];
  }
}
