// The seller's one-click onboarding: the CloudFormation console's quick-create page for deploy/seller-onboarding.yaml,
// with the connection's external ID and the vendor's principal filled in. The parameter names are the template's.

export const ONBOARDING_REGION = 'us-east-1';

export interface OnboardingLinkInput {
  templateUrl: string;
  vendorPrincipal: string;
  externalId: string;
  connectionId: string;
  eventBusArn?: string | null;
}

/** CloudFormation stack names: a letter first, then letters, digits and hyphens, at most 128 characters. */
export function onboardingStackName(connectionId: string): string {
  return `listing-sync-${connectionId.replace(/[^A-Za-z0-9-]/g, '-')}`.slice(0, 128);
}

export function onboardingQuickCreateUrl(input: OnboardingLinkInput): string {
  const params = new URLSearchParams({
    templateURL: input.templateUrl,
    stackName: onboardingStackName(input.connectionId),
    param_VendorPrincipal: input.vendorPrincipal,
    param_ExternalId: input.externalId,
  });
  if (input.eventBusArn) params.set('param_VendorEventBusArn', input.eventBusArn);
  // The console reads the quick-create parameters from the fragment; Catalog events exist only in us-east-1.
  return `https://${ONBOARDING_REGION}.console.aws.amazon.com/cloudformation/home?region=${ONBOARDING_REGION}#/stacks/quickcreate?${params.toString()}`;
}
