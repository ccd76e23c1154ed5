/**
 * AWS's own copy of a product's listing content, read from a DescribeEntity / BatchDescribeEntities
 * DetailsDocument. It is an AWS-owned snapshot kept beside the app's content, never in place of it.
 */
export interface AwsDetails {
  short_description: string | null;
  long_description: string | null;
  highlights: string[];
  categories: string[];
  search_keywords: string[];
  logo_url: string | null;
  support_description: string | null;
}

// AWS's own listing limits (short description 1,000, long 5,000 characters; 3 highlights, 3 categories)
// with room to spare, so a product's snapshot stays well under 32 KB whatever the document holds.
export const DETAILS_LIMITS = {
  shortText: 1_000,
  longText: 5_000,
  listEntries: 20,
  listEntry: 500,
  url: 2_048,
} as const;

function field(doc: unknown, ...path: string[]): unknown {
  let value: unknown = doc;
  for (const key of path) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function text(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed ? trimmed.slice(0, max) : null;
}

function texts(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value
    .map((v) => text(v, DETAILS_LIMITS.listEntry))
    .filter((v): v is string => v !== null)
    .slice(0, DETAILS_LIMITS.listEntries);
}

function url(value: unknown): string | null {
  const candidate = text(value, DETAILS_LIMITS.url);
  return candidate && /^https?:\/\//i.test(candidate) ? candidate : null;
}

/**
 * Reads the fields every product type shares (`Description.*`, `PromotionalResources.LogoUrl`,
 * `SupportInformation.Description`). A field that is missing or of another shape is left empty, never fatal.
 */
export function extractDetails(document: unknown): AwsDetails {
  return {
    short_description: text(field(document, 'Description', 'ShortDescription'), DETAILS_LIMITS.shortText),
    long_description: text(field(document, 'Description', 'LongDescription'), DETAILS_LIMITS.longText),
    highlights: texts(field(document, 'Description', 'Highlights')),
    categories: texts(field(document, 'Description', 'Categories')),
    search_keywords: texts(field(document, 'Description', 'SearchKeywords')),
    logo_url: url(field(document, 'PromotionalResources', 'LogoUrl')),
    support_description: text(field(document, 'SupportInformation', 'Description'), DETAILS_LIMITS.longText),
  };
}

/** The legacy `Details` string holds the same document; older answers may carry only it. */
export function detailsDocumentOf(entity: { DetailsDocument?: unknown; Details?: unknown }): unknown {
  if (entity.DetailsDocument && typeof entity.DetailsDocument === 'object') return entity.DetailsDocument;
  if (typeof entity.Details === 'string') {
    try {
      return JSON.parse(entity.Details) as unknown;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
