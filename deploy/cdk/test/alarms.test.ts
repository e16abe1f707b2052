import * as fs from 'fs';
import * as path from 'path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import cdkJson from '../cdk.json';
import {
  CRASH_LOOP_METRIC_DIMENSION,
  CRASH_LOOP_METRIC_NAME,
  databaseConnectionsThreshold,
  estimatedMaxConnections,
} from '../lib/alarms';
import { CollabServerStack } from '../lib/collab-stack';
import * as settings from '../lib/settings';

const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/collab-server:1.0.0';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:ops-alarms';

function synth(context: Record<string, unknown> = {}): { stack: Stack; template: Template } {
  const app = new App({ context: { ...cdkJson.context, image: IMAGE, ...context } });
  const stack = new CollabServerStack(app, 'CollabServerStack');
  return { stack, template: Template.fromStack(stack) };
}

/** The logical id of the CloudFormation resource behind a construct path such as 'Alarms/Topic'. */
function logicalId(stack: Stack, constructPath: string): string {
  const construct = stack.node.findAll().find((c) => c.node.path === `${stack.node.path}/${constructPath}`);
  if (!construct) {
    throw new Error(`no construct at ${constructPath}`);
  }
  const resource = (construct.node.defaultChild ?? construct) as CfnElement;
  return stack.getLogicalId(resource);
}

const ref = (stack: Stack, constructPath: string) => ({ Ref: logicalId(stack, constructPath) });
const getAtt = (stack: Stack, constructPath: string, attribute: string) => ({
  'Fn::GetAtt': [logicalId(stack, constructPath), attribute],
});

/** The properties of the alarm at a construct path under Alarms/. */
function alarm(template: Template, stack: Stack, id: string): Record<string, any> {
  return template.toJSON().Resources[logicalId(stack, `Alarms/${id}`)].Properties;
}

/** The task group of the service's tasks in ECS events: `service:<service name>`. */
const serviceTaskGroup = (stack: Stack) => ({ 'Fn::Join': ['', ['service:', getAtt(stack, 'Service', 'Name')]] });

/** A policy document that CDK rendered as a string with tokens, parsed with each token as `<token n>`. */
function parsePolicyString(document: unknown): { json: any; tokens: unknown[] } {
  const tokens: unknown[] = [];
  const parts = (document as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') {
        return part;
      }
      tokens.push(part);
      return `<token ${tokens.length - 1}>`;
    })
    .join('');
  return { json: JSON.parse(text), tokens };
}

const ALARM_IDS = [
  'Http5xxRate',
  'UnhealthyTargets',
  'TooFewHealthyTargets',
  'CrashLoop',
  'DatabaseCpu',
  'DatabaseFreeStorage',
  'DatabaseConnections',
  'WorkspacesIoLimit',
];

describe('alarm topic', () => {
  const { stack, template } = synth();

  test('a topic of the stack, encrypted with a key of the stack (not alias/aws/sns, which CloudWatch cannot use)', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: getAtt(stack, 'Alarms/TopicKey', 'Arn'),
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('the key lets CloudWatch encrypt messages for the topic, and nothing more', () => {
    const key = template.toJSON().Resources[logicalId(stack, 'Alarms/TopicKey')];
    const forCloudWatch = key.Properties.KeyPolicy.Statement.filter(
      (statement: any) => JSON.stringify(statement.Principal).includes('cloudwatch.amazonaws.com'),
    );
    expect(forCloudWatch).toEqual([
      {
        Sid: 'AllowCloudWatchAlarmsToPublishToTheEncryptedTopic',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
      },
    ]);
  });

  test("the topic policy lets this account's alarms publish, and no one else", () => {
    template.resourceCountIs('AWS::SNS::TopicPolicy', 1);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [ref(stack, 'Alarms/Topic')],
      PolicyDocument: {
        Statement: [
          {
            Sid: 'AllowThisAccountsAlarmsToPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: ref(stack, 'Alarms/Topic'),
            Condition: {
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':cloudwatch:',
                      { Ref: 'AWS::Region' },
                      ':',
                      { Ref: 'AWS::AccountId' },
                      ':alarm:*',
                    ],
                  ],
                },
              },
            },
          },
        ],
      },
    });
  });

  test('its ARN is an output', () => {
    template.hasOutput('AlarmTopicArn', { Value: ref(stack, 'Alarms/Topic') });
  });

  test('no subscription unless alarmEmail is given', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test('alarmEmail subscribes that address to the topic by email', () => {
    const withEmail = synth({ alarmEmail: ' oncall@example.com ' });
    withEmail.template.resourceCountIs('AWS::SNS::Subscription', 1);
    withEmail.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: ref(withEmail.stack, 'Alarms/Topic'),
    });
  });

  test('alarmTopicArn: every alarm notifies that topic; the stack creates no topic, key or topic policy', () => {
    const existing = synth({ alarmTopicArn: TOPIC_ARN });
    existing.template.resourceCountIs('AWS::SNS::Topic', 0);
    existing.template.resourceCountIs('AWS::SNS::TopicPolicy', 0);
    existing.template.resourceCountIs('AWS::KMS::Key', 0);
    existing.template.resourceCountIs('AWS::SNS::Subscription', 0);
    for (const id of ALARM_IDS) {
      const properties = alarm(existing.template, existing.stack, id);
      expect(properties.AlarmActions).toEqual([TOPIC_ARN]);
      expect(properties.OKActions).toEqual([TOPIC_ARN]);
    }
    existing.template.hasOutput('AlarmTopicArn', { Value: TOPIC_ARN });
  });

  test('alarmTopicArn with alarmEmail subscribes the address to that topic', () => {
    const existing = synth({ alarmTopicArn: TOPIC_ARN, alarmEmail: 'oncall@example.com' });
    existing.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: TOPIC_ARN,
    });
  });

  test('an empty alarmEmail or alarmTopicArn means none', () => {
    const empty = synth({ alarmEmail: '', alarmTopicArn: '' });
    empty.template.resourceCountIs('AWS::SNS::Topic', 1);
    empty.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test.each([
    ['alarmEmail', 'oncall', /alarmEmail must be one email address/],
    ['alarmEmail', 'a@example.com,b@example.com', /alarmEmail must be one email address/],
    ['alarmTopicArn', 'ops-alarms', /alarmTopicArn must be the ARN of a standard SNS topic/],
    ['alarmTopicArn', 'arn:aws:sqs:eu-west-1:123456789012:ops-alarms', /alarmTopicArn must be the ARN/],
    ['alarmTopicArn', `${TOPIC_ARN}.fifo`, /not \.fifo/],
  ])('%s=%s fails with a message that names it', (key, value, message) => {
    expect(() => synth({ [key]: value })).toThrow(message);
  });
});

describe('every alarm', () => {
  const { stack, template } = synth();

  test('these eight alarms, and no other', () => {
    const ids = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).sort();
    expect(ids).toEqual(ALARM_IDS.map((id) => logicalId(stack, `Alarms/${id}`)).sort());
  });

  test.each(ALARM_IDS)('%s notifies the topic when it goes into ALARM and when it is OK again', (id) => {
    const properties = alarm(template, stack, id);
    expect(properties.AlarmActions).toEqual([ref(stack, 'Alarms/Topic')]);
    expect(properties.OKActions).toEqual([ref(stack, 'Alarms/Topic')]);
    expect(properties.InsufficientDataActions).toBeUndefined();
    expect(properties.ActionsEnabled).not.toBe(false);
    expect(properties.AlarmDescription).toContain('docs/deploy.md, "Alarms"');
  });
});

describe('load balancer alarms', () => {
  const { stack, template } = synth();
  const loadBalancer = [{ Name: 'LoadBalancer', Value: getAtt(stack, 'LoadBalancer', 'LoadBalancerFullName') }];
  const metricStat = (id: string, metricName: string) => ({
    Id: id,
    ReturnData: false,
    MetricStat: {
      Metric: { Namespace: 'AWS/ApplicationELB', MetricName: metricName, Dimensions: loadBalancer },
      Period: 300,
      Stat: 'Sum',
    },
  });

  test('5xx: target and ALB 5xx as a share of the answers, when there are at least 20 per 5 minutes, > 5 % twice in a row', () => {
    const properties = alarm(template, stack, 'Http5xxRate');
    expect(properties).toMatchObject({
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 5,
      EvaluationPeriods: 2,
      TreatMissingData: 'notBreaching',
    });
    expect(properties.DatapointsToAlarm).toBeUndefined();
    expect(properties.Metrics).toEqual([
      {
        Id: 'expr_1',
        Label: '5xx answers, % of all answers',
        ReturnData: true,
        Expression:
          'IF((FILL(requests, 0) + FILL(balancerErrors, 0)) >= 20, ' +
          '100 * (FILL(targetErrors, 0) + FILL(balancerErrors, 0)) / (FILL(requests, 0) + FILL(balancerErrors, 0)), 0)',
      },
      metricStat('targetErrors', 'HTTPCode_Target_5XX_Count'),
      metricStat('balancerErrors', 'HTTPCode_ELB_5XX_Count'),
      metricStat('requests', 'RequestCount'),
    ]);
  });

  /** The target group's dimensions: its full name, and the full name of the ALB its listener belongs to. */
  const targetGroupDimensions = (listener: string) => {
    const part = (index: number) => ({ 'Fn::Select': [index, { 'Fn::Split': ['/', { Ref: listener }] }] });
    return [
      { Name: 'LoadBalancer', Value: { 'Fn::Join': ['', [part(1), '/', part(2), '/', part(3)]] } },
      { Name: 'TargetGroup', Value: getAtt(stack, 'TargetGroup', 'TargetGroupFullName') },
    ];
  };

  test('unhealthy targets: the maximum of UnHealthyHostCount > 0 for 5 minutes in a row', () => {
    expect(alarm(template, stack, 'UnhealthyTargets')).toMatchObject({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'UnHealthyHostCount',
      Dimensions: targetGroupDimensions(logicalId(stack, 'LoadBalancer/HttpListener')),
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      TreatMissingData: 'notBreaching',
    });
  });

  test('too few healthy targets: the minimum of HealthyHostCount < the desired count for 5 minutes; no data breaches', () => {
    expect(alarm(template, stack, 'TooFewHealthyTargets')).toMatchObject({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HealthyHostCount',
      Dimensions: targetGroupDimensions(logicalId(stack, 'LoadBalancer/HttpListener')),
      Statistic: 'Minimum',
      Period: 60,
      EvaluationPeriods: 5,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: settings.DEFAULT_DESIRED_COUNT,
      TreatMissingData: 'breaching',
    });
  });

  test('the healthy-targets threshold follows desiredCount; with none desired there is no such alarm', () => {
    const three = synth({ desiredCount: '3' });
    expect(alarm(three.template, three.stack, 'TooFewHealthyTargets').Threshold).toBe(3);
    const none = synth({ desiredCount: 0 });
    none.template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'HealthyHostCount' }, 0);
    none.template.resourceCountIs('AWS::CloudWatch::Alarm', ALARM_IDS.length - 1);
  });

  test('with HTTPS, the target group alarms name the ALB through the HTTPS listener', () => {
    const https = synth({ certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555' });
    const dimensions = alarm(https.template, https.stack, 'UnhealthyTargets').Dimensions;
    expect(JSON.stringify(dimensions)).toContain(logicalId(https.stack, 'LoadBalancer/HttpsListener'));
  });
});

/**
 * Sample "ECS Task State Change" events as EventBridge delivers them (the shape of
 * docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html), for the stack's
 * cluster and service as resolved below.
 */
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/CollabServerStack-ClusterEB0386A7-x1Yz2AbC3dEf`;
const SERVICE_NAME = 'CollabServerStack-ServiceD69D759B-Gh4iJk5LmNoP';
const TARGET_GROUP_ARN = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/Collab-Targe-QRSTUVWX/0123456789abcdef`;

function taskStateChange(detail: Record<string, unknown>): Record<string, any> {
  const taskArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/CollabServerStack-ClusterEB0386A7-x1Yz2AbC3dEf/5f0b6a1c9d2e4f3a8b7c6d5e4f3a2b1c`;
  return {
    version: '0',
    id: '3317b2af-7005-947d-b652-f55e762e571a',
    'detail-type': 'ECS Task State Change',
    source: 'aws.ecs',
    account: ACCOUNT,
    time: '2026-06-14T10:23:45Z',
    region: REGION,
    resources: [taskArn],
    detail: {
      attachments: [
        {
          id: '1789bcae-ddfb-4d10-8ebe-8ac87ddba5b8',
          type: 'eni',
          status: 'DELETED',
          details: [
            { name: 'subnetId', value: 'subnet-0a1b2c3d4e5f67890' },
            { name: 'networkInterfaceId', value: 'eni-0a1b2c3d4e5f67890' },
            { name: 'privateIPv4Address', value: '10.0.2.37' },
          ],
        },
      ],
      attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
      availabilityZone: `${REGION}a`,
      clusterArn: CLUSTER_ARN,
      connectivity: 'CONNECTED',
      connectivityAt: '2026-06-14T10:15:02.112Z',
      containers: [
        {
          containerArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:container/CollabServerStack-ClusterEB0386A7-x1Yz2AbC3dEf/5f0b6a1c9d2e4f3a8b7c6d5e4f3a2b1c/8d4c7a0e-1f2b-4c3d-9e8f-7a6b5c4d3e2f`,
          lastStatus: 'STOPPED',
          name: 'collab-server',
          image: IMAGE,
          taskArn,
          networkInterfaces: [{ attachmentId: '1789bcae-ddfb-4d10-8ebe-8ac87ddba5b8', privateIpv4Address: '10.0.2.37' }],
          cpu: '0',
        },
      ],
      cpu: '1024',
      createdAt: '2026-06-14T10:14:58.331Z',
      desiredStatus: 'STOPPED',
      enableExecuteCommand: false,
      ephemeralStorage: { sizeInGiB: 20 },
      executionStoppedAt: '2026-06-14T10:23:41.605Z',
      group: `service:${SERVICE_NAME}`,
      launchType: 'FARGATE',
      lastStatus: 'STOPPED',
      memory: '2048',
      overrides: { containerOverrides: [{ name: 'collab-server' }] },
      platformVersion: '1.4.0',
      pullStartedAt: '2026-06-14T10:15:09.840Z',
      pullStoppedAt: '2026-06-14T10:15:31.207Z',
      startedAt: '2026-06-14T10:15:44.918Z',
      startedBy: 'ecs-svc/3469928418574638920',
      stoppingAt: '2026-06-14T10:19:40.003Z',
      stoppedAt: '2026-06-14T10:23:45.190Z',
      taskArn,
      taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/CollabServerStackTaskDefinitionA1B2C3D4:7`,
      updatedAt: '2026-06-14T10:23:45.190Z',
      version: 6,
      ...detail,
    },
  };
}

/** The seed's crash loop: killed ~4 minutes after start by failed ELB health checks, exit code null. */
const KILLED_BY_ELB_HEALTH_CHECKS = taskStateChange({
  stopCode: 'ServiceSchedulerInitiated',
  stoppedReason: `Task failed ELB health checks in (target-group ${TARGET_GROUP_ARN})`,
});

const KILLED_BY_CONTAINER_HEALTH_CHECKS = taskStateChange({
  stopCode: 'ServiceSchedulerInitiated',
  stoppedReason: 'Task failed container health checks',
});

/** A rolling deployment stops the old tasks: SIGTERM, exit code 143. Not a crash. */
const STOPPED_BY_DEPLOYMENT = (() => {
  const event = taskStateChange({
    stopCode: 'ServiceSchedulerInitiated',
    stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/3469928418574638920)',
  });
  event.detail.containers[0].exitCode = 143;
  return event;
})();

/** A task that exits by itself (no database at startup: exit code 1) is the circuit breaker's business. */
const EXITED_BY_ITSELF = (() => {
  const event = taskStateChange({
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
  });
  event.detail.containers[0].exitCode = 1;
  return event;
})();

/** ECS decides to stop the task before it has stopped: the same reason, not yet STOPPED. */
const STOPPING_BY_ELB_HEALTH_CHECKS = taskStateChange({
  lastStatus: 'RUNNING',
  desiredStatus: 'STOPPED',
  stopCode: 'ServiceSchedulerInitiated',
  stoppedReason: `Task failed ELB health checks in (target-group ${TARGET_GROUP_ARN})`,
});

/**
 * EventBridge's matching, for the part of the pattern language this rule uses: a pattern field
 * is an object to descend into or an array of alternatives, each a literal or `{prefix}`; an
 * event array matches when one of its elements does. Any other operator fails the test, so a
 * pattern that grows beyond this is never checked by a matcher that does not understand it.
 */
function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event[key];
    if (Array.isArray(expected)) {
      const values = Array.isArray(actual) ? actual : [actual];
      return values.some((value) => actual !== undefined && expected.some((alternative) => matchesValue(alternative, value)));
    }
    if (typeof expected === 'object' && expected !== null) {
      return typeof actual === 'object' && actual !== null && !Array.isArray(actual) && matches(expected as Record<string, unknown>, actual as Record<string, unknown>);
    }
    throw new Error(`pattern field ${key} is neither an array nor an object: ${JSON.stringify(expected)}`);
  });
}

function matchesValue(alternative: unknown, value: unknown): boolean {
  if (typeof alternative === 'object' && alternative !== null) {
    const operators = Object.keys(alternative);
    if (operators.length === 1 && operators[0] === 'prefix') {
      return typeof value === 'string' && value.startsWith((alternative as { prefix: string }).prefix);
    }
    throw new Error(`operator not understood by this test: ${JSON.stringify(alternative)}`);
  }
  return alternative === value;
}

/** Replaces the template's references to the cluster and the service with the sample's values. */
function resolveIntrinsics(value: unknown, stack: Stack): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => resolveIntrinsics(item, stack));
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  const known: [unknown, string][] = [
    [getAtt(stack, 'Cluster', 'Arn'), CLUSTER_ARN],
    [getAtt(stack, 'Service', 'Name'), SERVICE_NAME],
  ];
  for (const [intrinsic, resolved] of known) {
    if (JSON.stringify(intrinsic) === JSON.stringify(value)) {
      return resolved;
    }
  }
  const join = (value as Record<string, unknown>)['Fn::Join'];
  if (Array.isArray(join)) {
    const [separator, parts] = join as [string, unknown[]];
    return parts.map((part) => resolveIntrinsics(part, stack)).join(separator);
  }
  if (Object.keys(value).some((key) => key.startsWith('Fn::') || key === 'Ref')) {
    throw new Error(`unresolved intrinsic in the pattern: ${JSON.stringify(value)}`);
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveIntrinsics(item, stack)]));
}

describe('crash loop alarm (tasks stopped by failed health checks)', () => {
  const { stack, template } = synth();
  const rule = template.toJSON().Resources[logicalId(stack, 'Alarms/TaskStoppedByHealthChecksRule')];
  const logGroup = logicalId(stack, 'Alarms/TasksStoppedByHealthChecks');

  test("the rule takes this cluster's and this service's tasks once STOPPED, when a health check stopped them", () => {
    expect(rule.Properties.State).toBe('ENABLED');
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: {
        clusterArn: [getAtt(stack, 'Cluster', 'Arn')],
        group: [serviceTaskGroup(stack)],
        lastStatus: ['STOPPED'],
        stoppedReason: [{ prefix: 'Task failed ELB health checks' }, { prefix: 'Task failed container health checks' }],
      },
    });
  });

  describe('the pattern, resolved for a sample cluster and service', () => {
    const pattern = resolveIntrinsics(rule.Properties.EventPattern, stack) as Record<string, unknown>;

    test('matches the seed crash loop: a task killed by failed ELB health checks', () => {
      expect(matches(pattern, KILLED_BY_ELB_HEALTH_CHECKS)).toBe(true);
    });

    test('matches a task killed by failed container (liveness) health checks', () => {
      expect(matches(pattern, KILLED_BY_CONTAINER_HEALTH_CHECKS)).toBe(true);
    });

    test('does not match a deployment stopping old tasks (exit code 143)', () => {
      expect(matches(pattern, STOPPED_BY_DEPLOYMENT)).toBe(false);
    });

    test('does not match a task that exited by itself', () => {
      expect(matches(pattern, EXITED_BY_ITSELF)).toBe(false);
    });

    test('does not match the events before STOPPED (one event per stopped task)', () => {
      expect(matches(pattern, STOPPING_BY_ELB_HEALTH_CHECKS)).toBe(false);
    });

    test("does not match another service's or another cluster's tasks", () => {
      const otherService = taskStateChange({ ...KILLED_BY_ELB_HEALTH_CHECKS.detail, group: 'service:other' });
      const otherCluster = taskStateChange({
        ...KILLED_BY_ELB_HEALTH_CHECKS.detail,
        clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/other`,
      });
      const standalone = taskStateChange({ ...KILLED_BY_ELB_HEALTH_CHECKS.detail, group: 'family:collab' });
      expect([otherService, otherCluster, standalone].map((event) => matches(pattern, event))).toEqual([false, false, false]);
    });
  });

  test('the rule writes each event into the log group (its ARN without :*), after the log group lets it', () => {
    expect(rule.Properties.Targets).toEqual([
      {
        Id: 'Target0',
        Arn: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:', { Ref: logGroup }],
          ],
        },
      },
    ]);
    expect(rule.DependsOn).toContain(logicalId(stack, 'Alarms/EventsToLogGroup'));
  });

  test("the log group's resource policy lets EventBridge write into this log group only", () => {
    const policies = template.findResources('AWS::Logs::ResourcePolicy');
    expect(Object.keys(policies)).toEqual([logicalId(stack, 'Alarms/EventsToLogGroup')]);
    const policy = Object.values(policies)[0].Properties;
    expect(policy.PolicyName).toBe('CollabServerStack-tasks-stopped-by-health-checks');
    const { json, tokens } = parsePolicyString(policy.PolicyDocument);
    expect(json.Statement).toEqual([
      {
        Sid: 'EventBridgeWritesStoppedTaskEvents',
        Effect: 'Allow',
        Principal: { Service: ['events.amazonaws.com', 'delivery.logs.amazonaws.com'] },
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: '<token 0>',
      },
    ]);
    expect(tokens).toEqual([{ 'Fn::GetAtt': [logGroup, 'Arn'] }]);
  });

  test('no Lambda-backed custom resource: the alarms are plain CloudFormation resources', () => {
    template.resourceCountIs('Custom::CloudwatchLogResourcePolicy', 0);
    const types = Object.entries(template.toJSON().Resources as Record<string, { Type: string }>)
      .filter(([id]) => id.startsWith('Alarms'))
      .map(([, resource]) => resource.Type);
    expect(new Set(types)).toEqual(
      new Set([
        'AWS::KMS::Key',
        'AWS::SNS::Topic',
        'AWS::SNS::TopicPolicy',
        'AWS::CloudWatch::Alarm',
        'AWS::Logs::LogGroup',
        'AWS::Logs::MetricFilter',
        'AWS::Logs::ResourcePolicy',
        'AWS::Events::Rule',
      ]),
    );
  });

  test('the log group keeps the events for a month and outlives the stack', () => {
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Retain',
    });
    expect(template.toJSON().Resources[logGroup].Properties.RetentionInDays).toBe(30);
    template.hasOutput('StoppedTasksLogGroupName', { Value: { Ref: logGroup } });
  });

  test('a metric filter counts each stopped task, per task group', () => {
    template.resourceCountIs('AWS::Logs::MetricFilter', 1);
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: logGroup },
      FilterPattern: '{ $.detail.lastStatus = "STOPPED" }',
      MetricTransformations: [
        {
          MetricNamespace: 'CollabServer',
          MetricName: CRASH_LOOP_METRIC_NAME,
          MetricValue: '1',
          Unit: 'Count',
          Dimensions: [{ Key: CRASH_LOOP_METRIC_DIMENSION, Value: '$.detail.group' }],
        },
      ],
    });
  });

  test("the sample event passes the metric filter, with the alarm's dimension value", () => {
    const filter = Object.values(template.findResources('AWS::Logs::MetricFilter'))[0].Properties;
    const [, field, expected] = /^\{ \$\.detail\.(\w+) = "([^"]+)" \}$/.exec(filter.FilterPattern) ?? [];
    expect(KILLED_BY_ELB_HEALTH_CHECKS.detail[field]).toBe(expected);
    const dimension = resolveIntrinsics(alarm(template, stack, 'CrashLoop').Dimensions[0].Value, stack);
    expect(KILLED_BY_ELB_HEALTH_CHECKS.detail.group).toBe(dimension);
  });

  test('the alarm: more than 2 such stops in 15 minutes (one period); no data is no stop', () => {
    expect(alarm(template, stack, 'CrashLoop')).toMatchObject({
      Namespace: 'CollabServer',
      MetricName: CRASH_LOOP_METRIC_NAME,
      Dimensions: [{ Name: CRASH_LOOP_METRIC_DIMENSION, Value: serviceTaskGroup(stack) }],
      Statistic: 'Sum',
      Period: 900,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 2,
      TreatMissingData: 'notBreaching',
    });
  });
});

describe('database alarms', () => {
  const { stack, template } = synth();
  const database = [{ Name: 'DBInstanceIdentifier', Value: ref(stack, 'Database') }];

  test('CPU: the average > 80 % for 3 periods of 5 minutes', () => {
    expect(alarm(template, stack, 'DatabaseCpu')).toMatchObject({
      Namespace: 'AWS/RDS',
      MetricName: 'CPUUtilization',
      Dimensions: database,
      Statistic: 'Average',
      Period: 300,
      EvaluationPeriods: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 80,
      TreatMissingData: 'notBreaching',
    });
  });

  test('free storage: the minimum < 20 % of the allocated 20 GiB, in bytes, for 15 minutes', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', { AllocatedStorage: '20' });
    expect(alarm(template, stack, 'DatabaseFreeStorage')).toMatchObject({
      Namespace: 'AWS/RDS',
      MetricName: 'FreeStorageSpace',
      Dimensions: database,
      Statistic: 'Minimum',
      Period: 300,
      EvaluationPeriods: 3,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 4 * 1024 ** 3,
      TreatMissingData: 'notBreaching',
    });
  });

  test("connections: the maximum > 70 % of db.t4g.small's max_connections (225 by RDS's formula) for 5 minutes", () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.t4g.small' });
    expect(estimatedMaxConnections('t4g.small')).toBe(225);
    expect(alarm(template, stack, 'DatabaseConnections')).toMatchObject({
      Namespace: 'AWS/RDS',
      MetricName: 'DatabaseConnections',
      Dimensions: database,
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 157,
      TreatMissingData: 'notBreaching',
    });
  });

  test('a desired count whose deployments would cross the connections threshold is a synthesis warning', () => {
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
    // The synthesis prints its warnings on stderr: expected here, so kept out of the test output.
    const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const many = synth({ desiredCount: 4 });
      Annotations.fromStack(many.stack).hasWarning(
        '/CollabServerStack/Alarms',
        Match.stringLikeRegexp('desiredCount 4: during a deployment the tasks hold up to 184 database connections, above .* 157'),
      );
      expect(printed).toHaveBeenCalledWith(expect.stringContaining('desiredCount 4'));
    } finally {
      printed.mockRestore();
    }
  });

  test('an instance class without a known memory size stops the synthesis', () => {
    expect(() => estimatedMaxConnections('t3.nano')).toThrow(/add it to DATABASE_INSTANCE_MEMORY_GIB/);
    expect(estimatedMaxConnections('r7g.4xlarge')).toBe(5000);
  });
});

describe('file system alarms', () => {
  const { stack, template } = synth();

  test('I/O limit: the average PercentIOLimit > 90 % for 3 periods of 5 minutes', () => {
    expect(alarm(template, stack, 'WorkspacesIoLimit')).toMatchObject({
      Namespace: 'AWS/EFS',
      MetricName: 'PercentIOLimit',
      Dimensions: [{ Name: 'FileSystemId', Value: ref(stack, 'WorkspacesFileSystem') }],
      Statistic: 'Average',
      Period: 300,
      EvaluationPeriods: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 90,
      TreatMissingData: 'notBreaching',
    });
  });

  test('no BurstCreditBalance alarm: the file system uses elastic throughput, which has no credits', () => {
    // General Purpose is the mode that publishes PercentIOLimit. Switching to bursting
    // throughput makes burst credits matter: add a BurstCreditBalance alarm then.
    template.hasResourceProperties('AWS::EFS::FileSystem', {
      ThroughputMode: 'elastic',
      PerformanceMode: 'generalPurpose',
    });
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'BurstCreditBalance' }, 0);
  });
});

/** Why each threshold is what it is, as relations that a change to one setting must keep. */
describe('alarm thresholds are consistent', () => {
  const s = (duration: { toSeconds(): number }) => duration.toSeconds();

  test('a single 5xx answer can never page', () => {
    expect((100 * 1) / settings.ALARM_5XX_MIN_REQUESTS).toBeLessThanOrEqual(settings.ALARM_5XX_RATE_PERCENT);
  });

  test('the unhealthy-targets alarm waits longer than the ALB takes to call a task unhealthy', () => {
    const judgedUnhealthy = settings.TARGET_UNHEALTHY_THRESHOLD * s(settings.TARGET_HEALTH_CHECK_INTERVAL);
    expect(settings.ALARM_UNHEALTHY_TARGETS_MINUTES * 60).toBeGreaterThan(judgedUnhealthy);
  });

  test('the healthy-targets alarm waits longer than a replaced task takes to become healthy', () => {
    const replaced =
      s(settings.CONTAINER_HEALTH_CHECK_START_PERIOD) + settings.TARGET_HEALTHY_THRESHOLD * s(settings.TARGET_HEALTH_CHECK_INTERVAL);
    expect(settings.ALARM_HEALTHY_TARGETS_MINUTES * 60).toBeGreaterThan(replaced);
  });

  test("the seed's crash loop (one task killed every 4 minutes) trips the crash loop alarm", () => {
    const killsInWindow = Math.floor(settings.ALARM_CRASH_LOOP_WINDOW.toMinutes() / 4);
    expect(killsInWindow).toBeGreaterThan(settings.ALARM_CRASH_LOOP_STOPS);
  });

  test('a deployment of the default desired count stays below the connections threshold, which stays below max_connections', () => {
    const deploymentPeak =
      ((settings.DEFAULT_DESIRED_COUNT * settings.MAX_HEALTHY_PERCENT) / 100) * settings.CONNECTIONS_PER_TASK;
    const threshold = databaseConnectionsThreshold(settings.DATABASE_INSTANCE_TYPE);
    expect(deploymentPeak).toBeLessThan(threshold);
    expect(threshold).toBeLessThan(estimatedMaxConnections(settings.DATABASE_INSTANCE_TYPE));
  });

  test('the pool size the connection budget counts is the one the image uses', () => {
    const applicationYaml = fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'src/main/resources/application.yaml'), 'utf8');
    expect(applicationYaml).toMatch(new RegExp(`maximum-pool-size: ${settings.DATABASE_POOL_SIZE}\\b`));
  });
});
