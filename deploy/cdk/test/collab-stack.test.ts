import { spawnSync } from 'child_process';
import * as path from 'path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import cdkJson from '../cdk.json';
import { CollabServerStack, MISSING_IMAGE_MESSAGE } from '../lib/collab-stack';
import * as settings from '../lib/settings';

const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/collab-server:1.0.0';
const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

/**
 * Builds the stack the way `cdk synth -c …` does: with the feature flags from cdk.json and the
 * given context, and like bin/collab.ts without an `env`, so nothing is ever looked up in AWS.
 */
function synth(context: Record<string, unknown> = { image: IMAGE }): { stack: Stack; template: Template } {
  const app = new App({ context: { ...cdkJson.context, ...context } });
  const stack = new CollabServerStack(app, 'CollabServerStack');
  return { stack, template: Template.fromStack(stack) };
}

/** The logical id of the CloudFormation resource behind a construct path such as 'Database'. */
function logicalId(stack: Stack, constructPath: string): string {
  const construct = stack.node.findAll().find((c) => c.node.path === `${stack.node.path}/${constructPath}`);
  if (!construct) {
    throw new Error(`no construct at ${constructPath}`);
  }
  const resource = (construct.node.defaultChild ?? construct) as CfnElement;
  return stack.getLogicalId(resource);
}

const groupId = (stack: Stack, securityGroupPath: string) => ({
  'Fn::GetAtt': [logicalId(stack, securityGroupPath), 'GroupId'],
});

/** The single container definition of the task definition. */
function container(template: Template): Record<string, any> {
  const taskDefinitions = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
  expect(taskDefinitions).toHaveLength(1);
  const containers = taskDefinitions[0].Properties.ContainerDefinitions;
  expect(containers).toHaveLength(1);
  return containers[0];
}

/** Ingress rules (standalone or inline) that let traffic into a security group. */
function ingressRules(template: Template, stack: Stack, securityGroupPath: string): Record<string, any>[] {
  const standalone = Object.values(
    template.findResources('AWS::EC2::SecurityGroupIngress', {
      Properties: { GroupId: groupId(stack, securityGroupPath) },
    }),
  ).map((resource) => resource.Properties);
  const group = template.toJSON().Resources[logicalId(stack, securityGroupPath)];
  return [...standalone, ...(group.Properties.SecurityGroupIngress ?? [])];
}

describe('CollabServerStack', () => {
  const { stack, template } = synth();

  describe('container', () => {
    test('health check probes liveness with curl, every 10 s, 5 s timeout, 3 retries, 60 s start period', () => {
      expect(container(template).HealthCheck).toEqual({
        Command: ['CMD-SHELL', 'curl -fsS --max-time 2 http://127.0.0.1:8081/actuator/health/liveness || exit 1'],
        Interval: 10,
        Timeout: 5,
        Retries: 3,
        StartPeriod: 60,
      });
    });

    test('stopTimeout is 90 s', () => {
      expect(container(template).StopTimeout).toBe(90);
    });

    test('runs the image from context on port 8080/tcp, without an init process (tini is the entrypoint)', () => {
      const definition = container(template);
      expect(definition.Name).toBe('collab-server');
      expect(definition.Image).toBe(IMAGE);
      expect(definition.Essential).toBe(true);
      expect(definition.PortMappings).toEqual([
        { ContainerPort: 8080, Protocol: 'tcp', Name: 'http' },
        { ContainerPort: 8081, Protocol: 'tcp', Name: 'management' },
      ]);
      expect(definition.LinuxParameters).toBeUndefined();
    });

    test('environment: JSON logs, workspace root on EFS, database URL from the instance endpoint, timeouts', () => {
      const environment = Object.fromEntries(
        container(template).Environment.map((variable: { Name: string; Value: unknown }) => [variable.Name, variable.Value]),
      );
      const database = logicalId(stack, 'Database');
      expect(environment).toEqual({
        LOG_FORMAT: 'json',
        MANAGEMENT_SERVER_PORT: '8081',
        COLLAB_WORKSPACE_ROOT: '/workspaces',
        COLLAB_DATA_DIR: '/var/lib/collab',
        SPRING_DATASOURCE_URL: {
          'Fn::Join': [
            '',
            [
              'jdbc:postgresql://',
              { 'Fn::GetAtt': [database, 'Endpoint.Address'] },
              ':',
              { 'Fn::GetAtt': [database, 'Endpoint.Port'] },
              '/collab',
            ],
          ],
        },
        SERVER_JETTY_CONNECTION_IDLE_TIMEOUT: '75s',
        COLLAB_STREAM_HEARTBEAT: '15s',
        COLLAB_SWEEPER_INITIAL_DELAY: '90s',
        SPRING_LIFECYCLE_TIMEOUT_PER_SHUTDOWN_PHASE: '20s',
        COLLAB_AUTH_TRUSTED_PROXIES: { 'Fn::GetAtt': [logicalId(stack, 'Vpc'), 'CidrBlock'] },
      });
    });

    test('database username and password come from the generated secret via ECS secrets, never from the environment', () => {
      const definition = container(template);
      const secretAttachment = Object.keys(template.findResources('AWS::SecretsManager::SecretTargetAttachment'));
      expect(secretAttachment).toHaveLength(1);
      const fromSecret = (key: string) => ({ 'Fn::Join': ['', [{ Ref: secretAttachment[0] }, `:${key}::`]] });
      expect(definition.Secrets).toEqual([
        { Name: 'SPRING_DATASOURCE_USERNAME', ValueFrom: fromSecret('username') },
        { Name: 'SPRING_DATASOURCE_PASSWORD', ValueFrom: fromSecret('password') },
      ]);
      const names: string[] = definition.Environment.map((variable: { Name: string }) => variable.Name);
      expect(names.filter((name) => name.includes('PASSWORD'))).toEqual([]);
      expect(JSON.stringify(definition.Environment)).not.toMatch(/secretsmanager|password/i);
    });

    test('logs go to a dedicated, retained log group through awslogs in non-blocking mode with a 25 MiB buffer', () => {
      expect(container(template).LogConfiguration).toEqual({
        LogDriver: 'awslogs',
        Options: {
          'awslogs-group': { Ref: logicalId(stack, 'LogGroup') },
          'awslogs-stream-prefix': 'collab',
          'awslogs-region': { Ref: 'AWS::Region' },
          mode: 'non-blocking',
          'max-buffer-size': '26214400b',
        },
      });
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: { RetentionInDays: 30 },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });

    test('an ECR image gets pull rights for the execution role', () => {
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: logicalId(stack, 'TaskDefinition/ExecutionRole') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
              Resource: {
                'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:eu-west-1:123456789012:repository/collab-server']],
              },
            }),
            Match.objectLike({ Action: 'ecr:GetAuthorizationToken', Resource: '*' }),
          ]),
        },
      });
    });

    test('an image outside ECR is used as given, with no ECR rights', () => {
      const { template: other } = synth({ image: 'example/collab:1' });
      expect(container(other).Image).toBe('example/collab:1');
      expect(JSON.stringify(other.findResources('AWS::IAM::Policy'))).not.toContain('ecr:');
    });
  });

  describe('task definition', () => {
    test('Fargate, 1 vCPU, 2 GiB, Linux x86_64', () => {
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        RequiresCompatibilities: ['FARGATE'],
        NetworkMode: 'awsvpc',
        Cpu: '1024',
        Memory: '2048',
        RuntimePlatform: { OperatingSystemFamily: 'LINUX', CpuArchitecture: 'X86_64' },
      });
    });

    test('the workspaces volume is the EFS access point, with transit encryption and IAM authorization, mounted read-write at /workspaces', () => {
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        Volumes: [
          {
            Name: 'workspaces',
            EFSVolumeConfiguration: {
              FilesystemId: { Ref: logicalId(stack, 'WorkspacesFileSystem') },
              TransitEncryption: 'ENABLED',
              AuthorizationConfig: {
                AccessPointId: { Ref: logicalId(stack, 'WorkspacesFileSystem/WorkspacesAccessPoint') },
                IAM: 'ENABLED',
              },
            },
          },
        ],
      });
      expect(container(template).MountPoints).toEqual([
        { SourceVolume: 'workspaces', ContainerPath: '/workspaces', ReadOnly: false },
      ]);
    });

    test('the task role may mount and write the file system', () => {
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: logicalId(stack, 'TaskDefinition/TaskRole') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
              Effect: 'Allow',
              Resource: { 'Fn::GetAtt': [logicalId(stack, 'WorkspacesFileSystem'), 'Arn'] },
            }),
          ]),
        },
      });
    });
  });

  describe('workspaces file system', () => {
    test('the access point works as uid/gid 10001 and creates /workspaces with mode 750', () => {
      template.hasResourceProperties('AWS::EFS::AccessPoint', {
        FileSystemId: { Ref: logicalId(stack, 'WorkspacesFileSystem') },
        PosixUser: { Uid: '10001', Gid: '10001' },
        RootDirectory: {
          Path: '/workspaces',
          CreationInfo: { OwnerUid: '10001', OwnerGid: '10001', Permissions: '750' },
        },
      });
    });

    test('encrypted, general purpose, elastic throughput, retained, one mount target per private subnet', () => {
      template.hasResource('AWS::EFS::FileSystem', {
        Properties: { Encrypted: true, PerformanceMode: 'generalPurpose', ThroughputMode: 'elastic' },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
      const privateSubnets = [1, 2].map((n) => ({ Ref: logicalId(stack, `Vpc/privateSubnet${n}/Subnet`) }));
      const mountTargets = Object.values(template.findResources('AWS::EFS::MountTarget'));
      expect(mountTargets.map((target) => target.Properties.SubnetId)).toEqual(expect.arrayContaining(privateSubnets));
      expect(mountTargets).toHaveLength(2);
    });
  });

  describe('database', () => {
    test('PostgreSQL 17 on db.t4g.small: encrypted, Multi-AZ, deletion protection, 7 days of backups, snapshot on delete', () => {
      template.hasResource('AWS::RDS::DBInstance', {
        Properties: {
          Engine: 'postgres',
          EngineVersion: '17',
          DBInstanceClass: 'db.t4g.small',
          DBName: 'collab',
          StorageEncrypted: true,
          StorageType: 'gp3',
          AllocatedStorage: '20',
          MultiAZ: true,
          DeletionProtection: true,
          BackupRetentionPeriod: 7,
          PubliclyAccessible: false,
        },
        DeletionPolicy: 'Snapshot',
        UpdateReplacePolicy: 'Snapshot',
      });
    });

    test('credentials are a generated Secrets Manager secret for user collab', () => {
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        GenerateSecretString: Match.objectLike({
          SecretStringTemplate: '{"username":"collab"}',
          GenerateStringKey: 'password',
        }),
      });
    });

    test('lives in the private subnets', () => {
      template.hasResourceProperties('AWS::RDS::DBSubnetGroup', {
        SubnetIds: [1, 2].map((n) => ({ Ref: logicalId(stack, `Vpc/privateSubnet${n}/Subnet`) })),
      });
    });
  });

  describe('load balancer', () => {
    test('internet-facing, idle timeout 60 s, HTTP/2', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        Scheme: 'internet-facing',
        LoadBalancerAttributes: Match.arrayWith([{ Key: 'idle_timeout.timeout_seconds', Value: '60' }]),
      });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        LoadBalancerAttributes: Match.arrayWith([{ Key: 'routing.http2.enabled', Value: 'true' }]),
      });
    });

    test('the target group checks readiness: 200 only, every 10 s, 5 s timeout, healthy after 2, unhealthy after 3', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Protocol: 'HTTP',
        Port: 8080,
        TargetType: 'ip',
        HealthCheckPort: '8081',
        HealthCheckPath: '/actuator/health/readiness',
        Matcher: { HttpCode: '200' },
        HealthCheckIntervalSeconds: 10,
        HealthCheckTimeoutSeconds: 5,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 3,
      });
    });

    test('deregistration delay is 20 s and there is no stickiness', () => {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '20' }]),
      });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        TargetGroupAttributes: Match.arrayWith([{ Key: 'stickiness.enabled', Value: 'false' }]),
      });
    });

    test('without certificateArn: one HTTP listener on 80 that forwards to the target group', () => {
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: 80,
        Protocol: 'HTTP',
        DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: logicalId(stack, 'TargetGroup') } }],
      });
    });

    test('Actuator is on its own port: in the environment, and no listener forwards to it', () => {
      expect(container(template).Environment).toContainEqual({ Name: 'MANAGEMENT_SERVER_PORT', Value: '8081' });
      for (const listener of Object.values(template.findResources('AWS::ElasticLoadBalancingV2::Listener'))) {
        expect(listener.Properties.Port).not.toBe(8081);
      }
      for (const group of Object.values(template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'))) {
        expect(group.Properties.Port).toBe(8080);
      }
      template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 0);
    });

    test('with certificateArn: HTTPS on 443 with the certificate, and 80 redirects to 443', () => {
      const { stack: tls, template: tlsTemplate } = synth({ image: IMAGE, certificateArn: CERTIFICATE_ARN });
      tlsTemplate.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
      tlsTemplate.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: 443,
        Protocol: 'HTTPS',
        Certificates: [{ CertificateArn: CERTIFICATE_ARN }],
        DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: logicalId(tls, 'TargetGroup') } }],
      });
      tlsTemplate.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: 80,
        Protocol: 'HTTP',
        DefaultActions: [
          { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
        ],
      });
      const open = ingressRules(tlsTemplate, tls, 'LoadBalancerSecurityGroup').map((rule) => [rule.FromPort, rule.CidrIp]);
      expect(open).toEqual(expect.arrayContaining([[80, '0.0.0.0/0'], [443, '0.0.0.0/0']]));
      expect(open).toHaveLength(2);
    });
  });

  describe('service', () => {
    test('health check grace 60 s, circuit breaker with rollback, 100/200 % healthy during deploys', () => {
      template.hasResourceProperties('AWS::ECS::Service', {
        HealthCheckGracePeriodSeconds: 60,
        DeploymentConfiguration: {
          DeploymentCircuitBreaker: { Enable: true, Rollback: true },
          MinimumHealthyPercent: 100,
          MaximumPercent: 200,
        },
      });
    });

    test('two tasks by default, in the private subnets, without public IPs or ECS Exec, behind the target group', () => {
      template.hasResourceProperties('AWS::ECS::Service', {
        LaunchType: 'FARGATE',
        DesiredCount: 2,
        EnableExecuteCommand: false,
        NetworkConfiguration: {
          AwsvpcConfiguration: {
            AssignPublicIp: 'DISABLED',
            SecurityGroups: [groupId(stack, 'ServiceSecurityGroup')],
            Subnets: [1, 2].map((n) => ({ Ref: logicalId(stack, `Vpc/privateSubnet${n}/Subnet`) })),
          },
        },
        LoadBalancers: [
          { ContainerName: 'collab-server', ContainerPort: 8080, TargetGroupArn: { Ref: logicalId(stack, 'TargetGroup') } },
        ],
      });
    });

    test('desiredCount comes from context', () => {
      synth({ image: IMAGE, desiredCount: '3' }).template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 3 });
    });

    test('waits for the EFS mount targets, so the first tasks can mount the volume', () => {
      const dependsOn: string[] = template.toJSON().Resources[logicalId(stack, 'Service/Service')].DependsOn;
      const mountTargets = Object.keys(template.findResources('AWS::EFS::MountTarget'));
      expect(dependsOn).toEqual(expect.arrayContaining(mountTargets));
    });

    test('the cluster has Container Insights on', () => {
      template.hasResourceProperties('AWS::ECS::Cluster', {
        ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
      });
    });
  });

  describe('security groups', () => {
    test('the ALB accepts port 80 from anywhere and nothing else without a certificate', () => {
      expect(ingressRules(template, stack, 'LoadBalancerSecurityGroup')).toEqual([
        expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 80, ToPort: 80 }),
      ]);
    });

    test('the tasks accept 8080 (API) and 8081 (health checks) from the ALB security group only', () => {
      const rules = ingressRules(template, stack, 'ServiceSecurityGroup');
      expect(rules).toHaveLength(2);
      expect(rules).toEqual(
        expect.arrayContaining([8080, 8081].map((port) =>
          expect.objectContaining({
            IpProtocol: 'tcp',
            FromPort: port,
            ToPort: port,
            SourceSecurityGroupId: groupId(stack, 'LoadBalancerSecurityGroup'),
          }),
        )),
      );
    });

    test('the database accepts 5432 from the service security group only', () => {
      expect(ingressRules(template, stack, 'DatabaseSecurityGroup')).toEqual([
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: 5432,
          ToPort: 5432,
          SourceSecurityGroupId: groupId(stack, 'ServiceSecurityGroup'),
        }),
      ]);
    });

    test('EFS accepts 2049 from the service security group only', () => {
      expect(ingressRules(template, stack, 'FileSystemSecurityGroup')).toEqual([
        expect.objectContaining({
          IpProtocol: 'tcp',
          FromPort: 2049,
          ToPort: 2049,
          SourceSecurityGroupId: groupId(stack, 'ServiceSecurityGroup'),
        }),
      ]);
    });
  });

  describe('network', () => {
    test('two AZs with a public and a private subnet each, one NAT gateway', () => {
      template.resourceCountIs('AWS::EC2::Subnet', 4);
      template.resourceCountIs('AWS::EC2::NatGateway', 1);
      template.hasResourceProperties('AWS::EC2::Subnet', {
        MapPublicIpOnLaunch: false,
        AvailabilityZone: { 'Fn::Select': [1, { 'Fn::GetAZs': '' }] },
      });
    });
  });

  test('outputs the ALB DNS name, the database secret ARN, the file system id and the log group', () => {
    template.hasOutput('LoadBalancerDnsName', {
      Value: { 'Fn::GetAtt': [logicalId(stack, 'LoadBalancer'), 'DNSName'] },
    });
    template.hasOutput('DatabaseSecretArn', {
      Value: { Ref: Object.keys(template.findResources('AWS::SecretsManager::SecretTargetAttachment'))[0] },
    });
    template.hasOutput('WorkspacesFileSystemId', { Value: { Ref: logicalId(stack, 'WorkspacesFileSystem') } });
    template.hasOutput('LogGroupName', { Value: { Ref: logicalId(stack, 'LogGroup') } });
  });

  test('synthesizes offline: no context lookups and no warnings or errors', () => {
    const assembly = (stack.node.root as App).synth();
    expect(assembly.manifest.missing ?? []).toEqual([]);
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
    Annotations.fromStack(stack).hasNoError('*', Match.anyValue());
  });
});

describe('configuration errors', () => {
  test('a missing image fails with one message that names -c image=', () => {
    expect(() => synth({})).toThrow(MISSING_IMAGE_MESSAGE);
    expect(() => synth({ image: '' })).toThrow(MISSING_IMAGE_MESSAGE);
    expect(MISSING_IMAGE_MESSAGE).toContain('-c image=');
  });

  test('the app prints only that message and exits 1 when image is missing', () => {
    const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'bin/collab.ts'], {
      cwd: path.join(__dirname, '..'),
      encoding: 'utf8',
      // A context that the CLI would pass, without an image.
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(cdkJson.context) },
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(MISSING_IMAGE_MESSAGE);
  });

  test('a desiredCount that is not a whole number fails', () => {
    expect(() => synth({ image: IMAGE, desiredCount: 'two' })).toThrow(/desiredCount must be a whole number/);
    expect(() => synth({ image: IMAGE, desiredCount: '1.5' })).toThrow(/desiredCount must be a whole number/);
  });

  test('an empty certificateArn means none: plain HTTP', () => {
    synth({ image: IMAGE, certificateArn: '' }).template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
  });

  test('a certificateArn that is not an ACM ARN fails', () => {
    expect(() => synth({ image: IMAGE, certificateArn: 'my-cert' })).toThrow(/certificateArn must be an ACM certificate ARN/);
  });
});

/** The timings only work together; these relations are why each value is what it is. */
describe('settings are consistent', () => {
  const s = (duration: { toSeconds(): number }) => duration.toSeconds();

  test('SSE heartbeat < ALB idle timeout < Jetty idle timeout, with room for a late heartbeat', () => {
    expect(s(settings.STREAM_HEARTBEAT)).toBeLessThan(s(settings.ALB_IDLE_TIMEOUT));
    expect(s(settings.ALB_IDLE_TIMEOUT)).toBeLessThan(s(settings.JETTY_IDLE_TIMEOUT));
    expect(2 * s(settings.STREAM_HEARTBEAT)).toBeLessThanOrEqual(s(settings.ALB_IDLE_TIMEOUT));
  });

  test('deregistration delay < stopTimeout', () => {
    expect(s(settings.DEREGISTRATION_DELAY)).toBeLessThan(s(settings.STOP_TIMEOUT));
  });

  test('the shutdown phases\' worst cases together < stopTimeout <= the Fargate maximum', () => {
    expect(s(settings.SHUTDOWN_PHASE_TIMEOUT)).toBe(20);
    // drain + runs (interrupt-grace 3 s + 7 s) + background + notifications (10 s) + event log (10 s)
    const worstCase = s(settings.SHUTDOWN_PHASE_TIMEOUT) + (3 + 7) + s(settings.SHUTDOWN_PHASE_TIMEOUT) + 10 + 10;
    expect(worstCase).toBeLessThan(s(settings.STOP_TIMEOUT));
    expect(s(settings.STOP_TIMEOUT)).toBeLessThanOrEqual(s(settings.FARGATE_MAX_STOP_TIMEOUT));
  });

  test('health check grace period, then the target group verdict, both end before the first sweep', () => {
    expect(s(settings.HEALTH_CHECK_GRACE_PERIOD)).toBeLessThan(s(settings.SWEEPER_INITIAL_DELAY));
    const judgedHealthy = settings.TARGET_HEALTHY_THRESHOLD * s(settings.TARGET_HEALTH_CHECK_INTERVAL);
    expect(judgedHealthy).toBeLessThan(s(settings.SWEEPER_INITIAL_DELAY));
  });

  test('container health start period <= health check grace period', () => {
    expect(s(settings.CONTAINER_HEALTH_CHECK_START_PERIOD)).toBeLessThanOrEqual(s(settings.HEALTH_CHECK_GRACE_PERIOD));
  });

  test('every probe times out before its next interval, and curl gives up before the container check does', () => {
    expect(s(settings.TARGET_HEALTH_CHECK_TIMEOUT)).toBeLessThan(s(settings.TARGET_HEALTH_CHECK_INTERVAL));
    expect(s(settings.CONTAINER_HEALTH_CHECK_TIMEOUT)).toBeLessThan(s(settings.CONTAINER_HEALTH_CHECK_INTERVAL));
    expect(s(settings.LIVENESS_CURL_MAX_TIME)).toBeLessThan(s(settings.CONTAINER_HEALTH_CHECK_TIMEOUT));
  });

  test('a task leaves the target group only after at least 30 s of failed readiness (rides out a database blip)', () => {
    expect(settings.TARGET_UNHEALTHY_THRESHOLD * s(settings.TARGET_HEALTH_CHECK_INTERVAL)).toBeGreaterThanOrEqual(30);
  });
});

/**
 * The stack, the image and the server's defaults are three files that must agree; a change to
 * one of them alone is caught here rather than in production.
 */
describe('agrees with the Dockerfile and the server defaults', () => {
  const fs = require('fs') as typeof import('fs');
  const repository = path.resolve(__dirname, '..', '..', '..');
  const dockerfile = fs.readFileSync(path.join(repository, 'Dockerfile'), 'utf8');
  const applicationYaml = fs.readFileSync(path.join(repository, 'src/main/resources/application.yaml'), 'utf8');
  // collab.* defaults live only in the @DefaultValue of each feature's properties record.
  const javaSource = (file: string) => fs.readFileSync(path.join(repository, 'src/main/java/dev/collab', file), 'utf8');
  const streamProperties = javaSource('stream/StreamProperties.java');
  const sweeperProperties = javaSource('workspace/SweeperProperties.java');

  test('the image runs as the uid and gid that the EFS access point uses', () => {
    expect(dockerfile).toContain(`--uid ${settings.COLLAB_UID}`);
    expect(dockerfile).toContain(`--gid ${settings.COLLAB_GID}`);
  });

  test('the image exposes the container port, mounts the workspace volume there and has its data dir', () => {
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${settings.CONTAINER_PORT}$`, 'm'));
    expect(dockerfile).toContain(`VOLUME ["${settings.WORKSPACES_MOUNT_PATH}"]`);
    expect(dockerfile).toContain(`COLLAB_WORKSPACE_ROOT=${settings.WORKSPACES_MOUNT_PATH}`);
    expect(dockerfile).toContain(`COLLAB_DATA_DIR=${settings.DATA_DIR}`);
  });

  test('the image ships curl and tini, which the health check and the entrypoint need', () => {
    expect(dockerfile).toMatch(/apt-get install[^\n]*\btini\b[^\n]*\bcurl\b/);
    expect(dockerfile).toContain('ENTRYPOINT ["/usr/bin/tini", "--"');
    expect(dockerfile).toContain(settings.LIVENESS_PATH);
  });

  test('the server defaults match what the stack sizes its timeouts against', () => {
    expect(applicationYaml).toMatch(
      new RegExp(`timeout-per-shutdown-phase: ${settings.SHUTDOWN_PHASE_TIMEOUT.toSeconds()}s`));
    expect(streamProperties).toMatch(
      new RegExp(`@DefaultValue\\("${settings.STREAM_HEARTBEAT.toSeconds()}s"\\) Duration heartbeat\\b`));
    expect(sweeperProperties).toMatch(
      new RegExp(`@DefaultValue\\("${settings.SWEEPER_INITIAL_DELAY.toSeconds()}s"\\) Duration initialDelay\\b`));
    expect(applicationYaml).toMatch(new RegExp(`port: ${settings.CONTAINER_PORT}`));
  });
});
