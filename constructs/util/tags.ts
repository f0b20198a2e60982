import { Aspects, Fn, IAspect, TerraformResource, Token } from 'cdktf';
import { IConstruct } from 'constructs';

interface Taggable {
  tags?: Record<string, string>;
  tagsInput?: Record<string, string>;
}

function isTaggable(node: IConstruct): node is TerraformResource & Taggable {
  return node instanceof TerraformResource && 'tagsInput' in node;
}

/**
 * Applies `tags` (a literal map or the `tags` module variable) to every AWS resource in
 * scope that takes tags, merged under the resource's own tags (its Name wins). Works in
 * the module stack too, where there is no provider `default_tags`.
 */
export class TagEverything implements IAspect {
  constructor(private readonly tags: Record<string, string>) {}

  visit(node: IConstruct): void {
    if (!isTaggable(node)) return;
    const own = node.tagsInput ?? {};
    node.tags = Token.asStringMap(Fn.merge([this.tags, own]));
  }

  static applyTo(scope: IConstruct, tags: Record<string, string>): void {
    Aspects.of(scope).add(new TagEverything(tags));
  }
}
