import { createHash } from 'node:crypto';
import type { Product } from './state.ts';

/**
 * The DetailsDocument DescribeEntity / BatchDescribeEntities return for a product, shaped like AWS's entity
 * shapes (github.com/awslabs/aws-marketplace-catalog-api-shapes-for-python, `*_1_0_entitytype`) and the
 * ContainerProduct example in "Using the AWS Marketplace Catalog API". Content derives from the product
 * alone, so a test can predict it; a product's own `details` replaces it verbatim.
 */
export function detailsDocument(accountId: string, p: Product): Record<string, unknown> {
  if (p.details) return p.details;
  const build = BY_TYPE[p.entityType];
  return build ? build(accountId, p) : shared(accountId, p);
}

const CATEGORIES = [
  'Operating Systems',
  'Security',
  'Network Infrastructure',
  'Application Development',
  'Monitoring',
  'Data Analytics',
  'Storage',
  'DevOps',
  'Machine Learning',
  'Migration',
];

// The regions of AWS's own ContainerProduct example.
const REGIONS = [
  'ap-south-1',
  'eu-west-3',
  'eu-north-1',
  'eu-west-2',
  'eu-west-1',
  'ap-northeast-2',
  'ap-northeast-1',
  'me-south-1',
  'ca-central-1',
  'sa-east-1',
  'ap-east-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'eu-central-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
];

/** Stable pseudo-random hex per product and purpose, for the ids AWS assigns. */
function hex(p: Product, purpose: string, length: number): string {
  return createHash('sha256').update(`${p.entityId}/${purpose}`).digest('hex').slice(0, length);
}

const uuid = (p: Product, purpose: string): string => {
  const h = hex(p, purpose, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** Lowercase words of the title, digits dropped: "Acme Backup Ami 3" → ["acme", "backup", "ami"]. */
export function searchKeywords(name: string): string[] {
  return [...new Set(name.toLowerCase().match(/[a-z][a-z0-9-]*/g) ?? [])].slice(0, 5);
}

function categories(p: Product): string[] {
  const n = parseInt(hex(p, 'categories', 8), 16);
  const first = n % CATEGORIES.length;
  const second = (first + 1 + ((n >>> 8) % (CATEGORIES.length - 1))) % CATEGORIES.length;
  return [CATEGORIES[first]!, CATEGORIES[second]!];
}

const deliveryVisibility = (p: Product) => (p.visibility === 'Public' ? 'Public' : 'Limited');

/** The parts every product type has. */
function shared(accountId: string, p: Product) {
  return {
    Description: {
      ProductTitle: p.name,
      ProductCode: hex(p, 'product-code', 25),
      ShortDescription: `Short description of ${p.name}`,
      LongDescription: `Long description of ${p.name}.\n\nIt is an emulated AWS Marketplace listing.`,
      Highlights: [1, 2, 3].map((i) => `${p.name} highlight ${i}`),
      Categories: categories(p),
      SearchKeywords: searchKeywords(p.name),
      Visibility: p.visibility,
      // AWS sends these unset members as null, as in its ContainerProduct example.
      Manufacturer: null,
      AssociatedProducts: null,
      Sku: null,
    },
    PromotionalResources: {
      LogoUrl: `https://awsmp-logos.s3.amazonaws.com/${p.entityId}.png`,
      Videos: [],
      AdditionalResources: [
        { Type: 'Link', Text: `${p.name} documentation`, Url: `https://docs.example.com/${p.entityId}` },
      ],
    },
    SupportInformation: {
      Description: `Support for ${p.name}: support@example.com, 24x7.`,
      Resources: [],
    },
    // Limited products are shown to allowlisted buyers; the seller's own account is always one.
    Targeting: { PositiveTargeting: { BuyerAccounts: p.visibility === 'Limited' ? [accountId] : [] } },
  };
}

const creationDate = (p: Product) => new Date(p.lastModified).toISOString();

/** The one version a generated AMI or container product has. */
const firstVersion = (p: Product) => ({
  Id: uuid(p, 'version'),
  ReleaseNotes: `First release of ${p.name}.`,
  UpgradeInstructions: 'N/A',
  VersionTitle: '1.0',
  CreationDate: creationDate(p),
});

const BY_TYPE: Record<string, (accountId: string, p: Product) => Record<string, unknown>> = {
  SaaSProduct: (accountId, p) => ({
    ...shared(accountId, p),
    Dimensions: [
      { Key: 'Users', Name: 'Users', Description: `Users of ${p.name}`, Unit: 'Users', Types: ['Entitled'] },
    ],
    Versions: [
      {
        Id: uuid(p, 'version'),
        DeliveryOptions: [
          {
            Id: `do-${hex(p, 'delivery', 22)}`,
            Type: 'SaaSUrl',
            FulfillmentUrl: `https://saas.example.com/aws/${p.entityId}/register`,
            QuickLaunchEnabled: false,
            Visibility: deliveryVisibility(p),
          },
        ],
      },
    ],
  }),

  AmiProduct: (accountId, p) => ({
    ...shared(accountId, p),
    Versions: [
      {
        ...firstVersion(p),
        Sources: [
          {
            Id: uuid(p, 'source'),
            Type: 'AmazonMachineImage',
            Image: `ami-${hex(p, 'ami', 17)}`,
            Architecture: 'x86_64',
            VirtualizationType: 'hvm',
            OperatingSystem: {
              Name: 'AMAZONLINUX',
              Version: 'Amazon Linux 2023',
              Username: 'ec2-user',
              ScanningPort: 22,
            },
          },
        ],
        DeliveryOptions: [
          {
            Id: uuid(p, 'delivery'),
            Type: 'AmazonMachineImage',
            SourceId: uuid(p, 'source'),
            Title: '64-bit (x86) Amazon Machine Image (AMI)',
            ShortDescription: `Launch ${p.name} on EC2`,
            LongDescription: `Launch ${p.name} on an EC2 instance and connect with SSH.`,
            Instructions: { Usage: 'Connect with SSH as ec2-user.' },
            Recommendations: {
              SecurityGroups: [{ Protocol: 'tcp', FromPort: 22, ToPort: 22, CidrIps: ['0.0.0.0/0'] }],
              InstanceType: 't3.medium',
            },
            Visibility: deliveryVisibility(p),
            AmiAlias: `/aws/service/marketplace/${p.entityId}/latest`,
          },
        ],
      },
    ],
    RegionAvailability: { Regions: REGIONS, FutureRegionSupport: null },
    Dimensions: ['t3.medium', 'm5.large'].map((type) => ({
      Key: type,
      Name: type,
      Description: type,
      Unit: 'Hrs',
      Types: ['Metered'],
    })),
    Compatibility: { AvailableInstanceTypes: ['t3.medium', 'm5.large'], RestrictedInstanceTypes: [] },
  }),

  ContainerProduct: (accountId, p) => {
    const repository = `${accountId}.dkr.ecr.us-east-1.amazonaws.com/seller/${p.entityId}`;
    return {
      ...shared(accountId, p),
      Versions: [
        {
          ...firstVersion(p),
          Sources: [
            {
              Type: 'DockerImages',
              Id: uuid(p, 'source'),
              Images: [`${repository}:1.0`],
              Compatibility: { Platform: 'Linux' },
            },
          ],
          DeliveryOptions: [
            {
              Id: uuid(p, 'delivery'),
              Type: 'ElasticContainerRegistry',
              SourceId: uuid(p, 'source'),
              Title: `${p.name} on ECS and EKS`,
              ShortDescription: `Run ${p.name} from ECR`,
              isRecommended: true,
              Compatibility: { AWSServices: ['ECS', 'EKS'] },
              Instructions: { Usage: `docker pull ${repository}:1.0` },
              Recommendations: { AdditionalArtifacts: [] },
              Visibility: deliveryVisibility(p),
            },
          ],
        },
      ],
      RegionAvailability: { Regions: REGIONS, FutureRegionSupport: null },
      Repositories: [{ Url: repository, Type: 'ECR' }],
      Dimensions: [],
    };
  },

  ProfessionalServicesProduct: (accountId, p) => ({
    ...shared(accountId, p),
    Dimensions: [
      {
        Key: 'Engagement',
        Name: 'Engagement',
        Description: `One ${p.name} engagement`,
        Unit: 'Units',
        Types: ['Entitled'],
      },
    ],
  }),
};
