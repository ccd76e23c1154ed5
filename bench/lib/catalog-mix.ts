import { ENTITY_TYPES } from '../../src/domain/entity-types.ts';

/** Products per entity type for one connection, as the emulator's `generate` takes them. */
export type Catalog = Partial<Record<(typeof ENTITY_TYPES)[number], number>>;

/** `--products`: a number gives every connection that many SaaS products; `mixed` is a real seller base. */
export type ProductMix = number | 'mixed';

export function parseMix(raw: string): ProductMix {
  if (raw === 'mixed') return 'mixed';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--products takes a count or "mixed", not ${raw}`);
  return n;
}

const LISTED_TYPES = ['SaaSProduct', 'AmiProduct', 'ContainerProduct'] as const;

/**
 * The catalog of connection `i` of `n`. "mixed": most connections have 1–10 products spread over SaaS, AMI and
 * container products, and one in 60 has 101–130 products in one type (past the fast path's two pages); the same
 * seed gives the same catalogs, so two runs compare. 600 connections carry 3,612 products, 10 of them over 100 in one type.
 */
export function catalogOf(mix: ProductMix, i: number, n: number): Catalog {
  if (mix !== 'mixed') return mix > 0 ? { SaaSProduct: mix } : {};
  const large = Math.floor(n / 60) > 0 && i % 60 === 59;
  const r = hash(i);
  const type = LISTED_TYPES[r % LISTED_TYPES.length]!;
  if (large) return { [type]: 101 + (r % 30) };
  const count = 1 + (r % 7);
  const catalog: Catalog = {};
  for (let k = 0; k < count; k += 1) {
    const t = LISTED_TYPES[hash(i * 31 + k) % LISTED_TYPES.length]!;
    catalog[t] = (catalog[t] ?? 0) + 1;
  }
  return catalog;
}

export function productsIn(catalog: Catalog): number {
  return Object.values(catalog).reduce((a, b) => a + (b ?? 0), 0);
}

/**
 * The fewest AWS calls a sync of this catalog can make: one AssumeRole, every type's pages of 50 (at least one page
 * per type, ProfessionalServicesProduct included), one BatchDescribeEntities per 20 new products.
 */
export function minimumCalls(catalog: Catalog): { total: number; describe: number } {
  const pages = ENTITY_TYPES.reduce((sum, t) => sum + Math.max(1, Math.ceil((catalog[t] ?? 0) / 50)), 0);
  const describe = Math.ceil(productsIn(catalog) / 20);
  return { total: 1 + pages + describe, describe };
}

function hash(x: number): number {
  let h = (x + 0x9e3779b9) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
