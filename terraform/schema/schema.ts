/**
 * The shape of terraform/schema/google-provider.schema.json: the part of the google provider's schema that
 * terraform/*.tf uses, extracted from @cdktf/provider-google by `npm run terraform:schema` (extract.ts) and read
 * by the checker (check.ts). It mirrors `terraform providers schema -json` closely enough for the checks:
 * attributes with their type and required / optional / computed flags (plus the enum values the provider
 * documents as "Possible values"), nested blocks with their nesting mode and item limits.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface AttributeSchema {
  /**
   * Terraform type: string, number, bool, list(string), set(string), map(string), ..., list(object), set(object),
   * object or dynamic.
   */
  type: string;
  required?: true;
  optional?: true;
  /** Set by the provider; an attribute that is computed and neither required nor optional is read-only. */
  computed?: true;
  /** The values the provider accepts, where it documents them ("Possible values: [...]"). */
  enum?: string[];
  /** The element's attributes, for object-typed attributes (list(object), set(object), object). */
  object?: BlockSchema;
}

export interface BlockSchema {
  attributes: Record<string, AttributeSchema>;
  blocks: Record<string, NestedBlockSchema>;
}

export interface NestedBlockSchema extends BlockSchema {
  /** single: `x { }` referenced as `.x.attr`; list / set: referenced as `.x[0].attr` (list) or iterated (set). */
  nesting: 'single' | 'list' | 'set';
  /** 1 for the provider's MaxItems: 1 blocks. */
  maxItems?: number;
  /** At least one block is required. */
  required?: true;
}

export interface ProviderSchema {
  $comment: string;
  /** The npm package and exact version the schema was extracted from. */
  package: string;
  packageVersion: string;
  /** The provider (registry address and version) that package was generated from. */
  provider: string;
  providerVersion: string;
  resources: Record<string, BlockSchema>;
  dataSources: Record<string, BlockSchema>;
}

export const SCHEMA_PATH = path.join('terraform', 'schema', 'google-provider.schema.json');

export function loadProviderSchema(root: string): ProviderSchema {
  return JSON.parse(readFileSync(path.join(root, SCHEMA_PATH), 'utf8')) as ProviderSchema;
}

/** Attributes and blocks of a block, in one list, for "did you mean" suggestions. */
export function memberNames(block: BlockSchema): string[] {
  return [...Object.keys(block.attributes), ...Object.keys(block.blocks)];
}
