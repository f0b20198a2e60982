import { TerraformElement, TerraformStack } from 'cdktf';
import { Construct, Node } from 'constructs';

/**
 * Terraform addresses from the construct path without cdktf's hash suffixes, e.g.
 * `aws_ebs_volume.pmm_data_volume_volume`. Addresses are state: they must not change when
 * code moves, so they are readable, stable and checked for collisions.
 */
export abstract class ReadableIdStack extends TerraformStack {
  private readonly allocated = new Map<string, string>();

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // cdktf writes the bare "aws" source for the prebuilt provider; name it fully.
    this.addOverride('terraform.required_providers.aws.source', 'hashicorp/aws');
  }

  protected allocateLogicalId(element: TerraformElement | Node): string {
    const node = element instanceof Node ? element : element.node;
    const parts = node.scopes.slice(node.scopes.indexOf(this) + 1).map((c) => c.node.id);
    const id = parts.join('_').replace(/[^A-Za-z0-9_-]/g, '_');
    const kind =
      (element as { terraformResourceType?: string }).terraformResourceType ??
      element.constructor.name;
    const key = `${kind}.${id}`;
    const owner = this.allocated.get(key);
    if (owner !== undefined && owner !== node.path) {
      throw new Error(`Terraform address collision: ${key} is both ${owner} and ${node.path}`);
    }
    this.allocated.set(key, node.path);
    return id;
  }
}
