import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import cdkJson from '../cdk.json';
import { CollabServerStack } from '../lib/collab-stack';

const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/collab-server:1.0.0';
const ISSUER = 'https://login.example.com/oauth2/default';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:collab/oidc-client-AbCdEf';

function synth(context: Record<string, unknown>): { stack: Stack; template: Template } {
  const app = new App({ context: { ...cdkJson.context, image: IMAGE, ...context } });
  const stack = new CollabServerStack(app, 'CollabServerStack');
  return { stack, template: Template.fromStack(stack) };
}

function container(template: Template): Record<string, any> {
  const taskDefinitions = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
  expect(taskDefinitions).toHaveLength(1);
  return taskDefinitions[0].Properties.ContainerDefinitions[0];
}

/** The policy statements of the task's execution role (the role ECS reads secrets with). */
function executionRoleStatements(template: Template): Record<string, any>[] {
  const taskDefinition = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0];
  const role = taskDefinition.Properties.ExecutionRoleArn['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => policy.Properties.Roles.some((r: any) => r.Ref === role))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

/** Every resource the execution role may read secrets from (CDK merges the statements). */
function readableSecrets(template: Template): unknown[] {
  return executionRoleStatements(template)
    .filter((statement) => statement.Effect === 'Allow' && [statement.Action].flat().includes('secretsmanager:GetSecretValue'))
    .flatMap((statement) => [statement.Resource].flat());
}

/** The database credentials' secret, which the execution role reads too. */
function databaseSecret(template: Template): unknown {
  return { Ref: Object.keys(template.findResources('AWS::SecretsManager::SecretTargetAttachment'))[0] };
}

const environment = (definition: Record<string, any>) =>
  Object.fromEntries((definition.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]));

describe('OIDC login settings', () => {
  test('without them, nothing OIDC is in the task definition', () => {
    const { template } = synth({});
    const definition = container(template);
    expect(JSON.stringify(definition)).not.toMatch(/OIDC/);
    expect(template.findOutputs('OidcClientSecretArn')).toEqual({});
  });

  test('an existing secret by ARN: injected as an ECS secret, readable by the execution role exactly', () => {
    const { template } = synth({ oidcIssuerUri: ISSUER, oidcClientId: 'collab-client', oidcClientSecret: SECRET_ARN, oidcName: 'Okta' });
    const definition = container(template);

    expect(environment(definition)).toMatchObject({
      COLLAB_AUTH_OIDC_ISSUER_URI: ISSUER,
      COLLAB_AUTH_OIDC_CLIENT_ID: 'collab-client',
      COLLAB_AUTH_OIDC_NAME: 'Okta',
    });
    expect(definition.Secrets).toContainEqual({ Name: 'COLLAB_AUTH_OIDC_CLIENT_SECRET', ValueFrom: SECRET_ARN });
    // Never a plain environment value, never a CloudFormation parameter.
    expect(Object.keys(environment(definition))).not.toContain('COLLAB_AUTH_OIDC_CLIENT_SECRET');
    expect(template.toJSON().Parameters ?? {}).not.toHaveProperty('OidcClientSecret');
    expect(JSON.stringify(template.toJSON().Parameters ?? {})).not.toMatch(/oidc/i);

    // The two secrets; the OIDC one also with a suffix, in case the ARN is a partial one whose
    // name ends in '-' and six letters (the string cannot tell). No other wildcard.
    expect(readableSecrets(template)).toEqual(
      expect.arrayContaining([SECRET_ARN, `${SECRET_ARN}-??????`, databaseSecret(template)]),
    );
    expect(readableSecrets(template)).toHaveLength(3);
    expect(JSON.stringify(executionRoleStatements(template))).not.toMatch(/kms:/);
  });

  test('a partial ARN whose name ends like a suffix (collab/oidc-secret) is readable with its real suffix', () => {
    const partial = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:collab/oidc-secret';
    const { template } = synth({ oidcIssuerUri: ISSUER, oidcClientId: 'collab-client', oidcClientSecret: partial });
    expect(container(template).Secrets).toContainEqual({ Name: 'COLLAB_AUTH_OIDC_CLIENT_SECRET', ValueFrom: partial });
    // The real secret's ARN is partial + '-' + six characters: matched by this grant.
    expect(readableSecrets(template)).toContainEqual(`${partial}-??????`);
  });

  test('a partial ARN without such an ending: the suffixed form only', () => {
    const partial = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:collab/oidc';
    const { template } = synth({ oidcIssuerUri: ISSUER, oidcClientId: 'collab-client', oidcClientSecret: partial });
    const readable = readableSecrets(template);
    expect(readable).toHaveLength(2);
    expect(JSON.stringify(readable)).toContain(':secret:collab/oidc-??????');
  });

  test('allowed domains become collab.auth.oidc.allowed-domains', () => {
    const { template } = synth({ oidcIssuerUri: ISSUER, oidcClientId: 'collab-client', oidcAllowedDomains: 'example.com, example.org' });
    expect(environment(container(template))).toMatchObject({ COLLAB_AUTH_OIDC_ALLOWED_DOMAINS: 'example.com,example.org' });
  });

  test('a customer-managed KMS key of the secret: kms:Decrypt on it, through Secrets Manager only', () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { template } = synth({
      oidcIssuerUri: ISSUER,
      oidcClientId: 'collab-client',
      oidcClientSecret: 'collab/oidc-client',
      oidcClientSecretKmsKey: key,
    });
    const decrypt = executionRoleStatements(template).filter((statement) => [statement.Action].flat().includes('kms:Decrypt'));
    expect(decrypt).toHaveLength(1);
    expect(decrypt[0].Effect).toBe('Allow');
    expect(decrypt[0].Resource).toBe(key);
    expect(JSON.stringify(decrypt[0].Condition)).toContain('kms:ViaService');
  });

  test('an existing secret by name: the execution role reads that name only (with Secrets Manager\'s suffix)', () => {
    const { template } = synth({ oidcIssuerUri: ISSUER, oidcClientId: 'collab-client', oidcClientSecret: 'collab/oidc-client' });
    const definition = container(template);
    const entry = (definition.Secrets as any[]).find((s) => s.Name === 'COLLAB_AUTH_OIDC_CLIENT_SECRET');
    expect(JSON.stringify(entry.ValueFrom)).toContain(':secret:collab/oidc-client');
    const readable = readableSecrets(template);
    expect(readable).toHaveLength(2);
    expect(readable).toContainEqual(databaseSecret(template));
    const oidc = readable.find((resource) => JSON.stringify(resource).includes('collab/oidc-client'));
    expect(JSON.stringify(oidc)).toContain(':secret:collab/oidc-client-??????');
  });

  test('without a secret given, the stack creates one (kept on delete) and outputs its ARN', () => {
    const { stack, template } = synth({ oidcIssuerUri: ISSUER, oidcClientId: 'collab-client' });
    const secrets = template.findResources('AWS::SecretsManager::Secret', {
      Properties: { Description: 'collab-server: the OIDC client secret (set its value to the one from the provider)' },
    });
    const [id] = Object.keys(secrets);
    expect(id).toBeDefined();
    expect(secrets[id].DeletionPolicy).toBe('Retain');

    const definition = container(template);
    expect(definition.Secrets).toContainEqual({ Name: 'COLLAB_AUTH_OIDC_CLIENT_SECRET', ValueFrom: { Ref: id } });
    expect(readableSecrets(template)).toEqual(expect.arrayContaining([{ Ref: id }, databaseSecret(template)]));
    expect(readableSecrets(template)).toHaveLength(2);
    template.hasOutput('OidcClientSecretArn', { Value: { Ref: id } });
    expect(stack.resolve(JSON.stringify(definition.Environment))).not.toMatch(/SECRET/);
  });

  test.each([
    [{ oidcIssuerUri: ISSUER }, /needs both/],
    [{ oidcClientId: 'x' }, /needs both/],
    [{ oidcClientSecret: SECRET_ARN }, /needs both/],
    [{ oidcIssuerUri: 'http://login.example.com', oidcClientId: 'x' }, /https URL/],
    [{ oidcIssuerUri: ISSUER, oidcClientId: 'x', oidcClientSecret: 'the actual secret value' }, /name or ARN/],
    [{ oidcIssuerUri: ISSUER, oidcClientId: 'x', oidcClientSecret: 'arn:aws:ssm:eu-west-1:123456789012:parameter/x' }, /name or ARN/],
    [{ oidcIssuerUri: ISSUER, oidcClientId: 'x', oidcClientSecret: 'collab/oidc', oidcClientSecretKmsKey: 'alias/x' }, /KMS key/],
    [{ oidcIssuerUri: ISSUER, oidcClientId: 'x', oidcAllowedDomains: '*.example.com' }, /oidcAllowedDomains/],
    [{ oidcIssuerUri: ISSUER, oidcClientId: 'x', oidcClientSecretKmsKey: 'arn:aws:kms:eu-west-1:123456789012:key/abc' }, /KMS key/],
  ])('rejects %j with one clear message', (context, message) => {
    expect(() => synth(context)).toThrow(message);
  });
});
