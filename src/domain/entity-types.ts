export type CatalogType = 'SAAS' | 'AMI' | 'CONTAINER' | 'PROF';

export const ENTITY_TYPES = ['SaaSProduct', 'AmiProduct', 'ContainerProduct', 'ProfessionalServicesProduct'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

const CATALOG_TYPE_BY_ENTITY_TYPE: Record<EntityType, CatalogType> = {
  SaaSProduct: 'SAAS',
  AmiProduct: 'AMI',
  ContainerProduct: 'CONTAINER',
  ProfessionalServicesProduct: 'PROF',
};

export function isEntityType(value: string): value is EntityType {
  return (ENTITY_TYPES as readonly string[]).includes(value);
}

export function catalogTypeFor(entityType: EntityType): CatalogType {
  return CATALOG_TYPE_BY_ENTITY_TYPE[entityType];
}
