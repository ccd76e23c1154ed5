import assert from 'node:assert/strict';
import { lintTemplate, readTemplate } from '../../scripts/lint-templates.ts';

const SELLER = new URL('../../deploy/seller-onboarding.yaml', import.meta.url).pathname;
const VENDOR = new URL('../../deploy/vendor-events.yaml', import.meta.url).pathname;

type Doc = Record<string, any>;

describe('CloudFormation templates', function () {
  this.timeout(30_000);
  const seller = () => readTemplate(SELLER) as Doc;

  it('pass the schema and reference checks', () => {
    assert.deepEqual(lintTemplate(seller()), []);
    assert.deepEqual(lintTemplate(readTemplate(VENDOR)), []);
  });

  it('the check fails on the mistakes it is there for', () => {
    const broken = (edit: (t: Doc) => void) => {
      const t = seller();
      edit(t);
      return lintTemplate(t).join('\n');
    };
    const role = (t: Doc) => t.Resources.ListingSyncReadOnlyRole;
    assert.match(
      broken((t) => {
        role(t).Properties.AssumeRolePolicyDocumen = role(t).Properties.AssumeRolePolicyDocument;
        delete role(t).Properties.AssumeRolePolicyDocument;
      }),
      /AssumeRolePolicyDocumen: unknown property[\s\S]*AssumeRolePolicyDocument is required/,
    );
    assert.match(
      broken((t) => (role(t).Properties.MaxSessionDuration = [3600])),
      /MaxSessionDuration: expected integer/,
    );
    assert.match(
      broken((t) => (t.Resources.CatalogEventsRule.Properties.Targets[0].RoleArnn = 'x')),
      /RoleArnn: unknown/,
    );
    assert.match(
      broken((t) => (role(t).Type = 'AWS::IAM::Rol')),
      /unknown resource type AWS::IAM::Rol/,
    );
    assert.match(
      broken((t) => (t.Outputs.RoleArn.Value = { 'Fn::GetAtt': ['ListingSyncReadOnlyRole', 'Id'] })),
      /GetAtt/,
    );
    assert.match(
      broken((t) => (t.Resources.CatalogEventsRule.Condition = 'Nope')),
      /names no condition/,
    );
    assert.match(
      broken((t) => (t.Parameters.VendorEventBusArn.Default = 'bus')),
      /Default does not match/,
    );
    assert.match(
      broken((t) => (t.Outputs.EventForwarding.Value['Fn::If'][1] = { 'Fn::Sub': '${VendorBus}' })),
      /Fn::Sub variable \$\{VendorBus\} is unknown/,
    );
  });

  it("the seller's role trusts only the vendor with the connection's external ID, and may only list and describe", () => {
    const t = seller();
    const role = t.Resources.ListingSyncReadOnlyRole.Properties;
    assert.deepEqual(role.AssumeRolePolicyDocument.Statement, [
      {
        Sid: 'VendorWithExternalId',
        Effect: 'Allow',
        Principal: { AWS: { Ref: 'VendorPrincipal' } },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } } },
      },
    ]);
    const statements = role.Policies.flatMap((p: Doc) => p.PolicyDocument.Statement);
    assert.deepEqual(
      statements.flatMap((s: Doc) => s.Action),
      ['aws-marketplace:ListEntities', 'aws-marketplace:DescribeEntity'],
    );
    assert.ok(statements.every((s: Doc) => s.Effect === 'Allow'));
    assert.equal(role.ManagedPolicyArns, undefined, 'no managed policy widens it');
    assert.deepEqual(t.Outputs.RoleArn.Value, { 'Fn::GetAtt': ['ListingSyncReadOnlyRole', 'Arn'] });
    for (const name of ['VendorPrincipal', 'ExternalId', 'VendorEventBusArn']) assert.ok(t.Parameters[name], name);
    const principal = new RegExp(t.Parameters.VendorPrincipal.AllowedPattern);
    assert.ok(principal.test('111122223333') && principal.test('arn:aws:iam::111122223333:role/worker'));
    assert.ok(!principal.test('*') && !principal.test('arn:aws:iam::*:root'));
  });

  it('forwards exactly the Catalog events from the default bus to the vendor bus, when one is given', () => {
    const t = seller();
    const rule = t.Resources.CatalogEventsRule;
    assert.equal(rule.Condition, 'ForwardEvents');
    assert.equal(rule.Properties.EventBusName, 'default');
    assert.deepEqual(rule.Properties.EventPattern, { source: ['aws.marketplacecatalog'] });
    assert.deepEqual(rule.Properties.Targets[0].Arn, { Ref: 'VendorEventBusArn' });
    assert.deepEqual(rule.Properties.Targets[0].RoleArn, { 'Fn::GetAtt': ['CatalogEventForwardingRole', 'Arn'] });
    const forwarding = t.Resources.CatalogEventForwardingRole;
    assert.equal(forwarding.Condition, 'ForwardEvents');
    assert.deepEqual(forwarding.Properties.AssumeRolePolicyDocument.Statement[0].Principal, {
      Service: 'events.amazonaws.com',
    });
    assert.deepEqual(forwarding.Properties.Policies[0].PolicyDocument.Statement, [
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: { Ref: 'VendorEventBusArn' } },
    ]);
    assert.equal(new RegExp(t.Parameters.VendorEventBusArn.AllowedPattern).test(''), true, 'optional');
  });

  it("the vendor's queue has a dead-letter queue and takes only what its rule sends", () => {
    const t = readTemplate(VENDOR) as Doc;
    const queue = t.Resources.CatalogEventsQueue.Properties;
    assert.deepEqual(queue.RedrivePolicy.deadLetterTargetArn, {
      'Fn::GetAtt': ['CatalogEventsDeadLetterQueue', 'Arn'],
    });
    assert.equal(queue.ReceiveMessageWaitTimeSeconds, 20);
    assert.deepEqual(t.Resources.CatalogEventsToQueue.Properties.EventPattern, { source: ['aws.marketplacecatalog'] });
    const [statement] = t.Resources.CatalogEventsQueuePolicy.Properties.PolicyDocument.Statement;
    assert.deepEqual(statement.Condition, {
      ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['CatalogEventsToQueue', 'Arn'] } },
    });
    assert.deepEqual(t.Resources.CatalogEventBusPolicy.Properties.Statement.Condition, {
      'ForAllValues:StringEquals': { 'events:source': 'aws.marketplacecatalog' },
      Null: { 'events:source': 'false' },
    });
  });
});
