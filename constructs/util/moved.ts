import { TerraformElement } from 'cdktf';
import { Construct } from 'constructs';

/**
 * A Terraform `moved` block between any two addresses, including instance keys
 * (`aws_x.y` -> `aws_x.y["key"]`), which cdktf's `moveFromId` cannot express. Blocks from
 * several constructs are concatenated into the stack's `moved` list.
 */
export class MovedBlock extends TerraformElement {
  constructor(
    scope: Construct,
    id: string,
    private readonly from: string,
    private readonly to: string,
  ) {
    super(scope, id);
  }

  public toTerraform(): Record<string, unknown> {
    return { moved: [{ from: this.from, to: this.to }] };
  }
}
