import { Annotations, ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import * as settings from './settings';

/** The `stoppedReason` prefixes of ECS tasks stopped because they failed a health check. */
export const HEALTH_CHECK_STOP_REASONS = ['Task failed ELB health checks', 'Task failed container health checks'] as const;

/** Name of the metric the stopped-task events feed (namespace settings.ALARM_METRIC_NAMESPACE). */
export const CRASH_LOOP_METRIC_NAME = 'TasksStoppedByFailedHealthChecks';

/** The metric's one dimension: the task group of the event, `service:<service name>`. */
export const CRASH_LOOP_METRIC_DIMENSION = 'TaskGroup';

/** What the alarms watch, and where they send their notifications. */
export interface AlarmsProps {
  /** An email address to subscribe to the topic (it must confirm the subscription). */
  readonly alarmEmail?: string;
  /** An existing standard SNS topic to notify instead of a new one. */
  readonly alarmTopicArn?: string;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly cluster: ecs.ICluster;
  readonly service: ecs.FargateService;
  /** The service's desired count, which the healthy-targets alarm compares with. */
  readonly desiredCount: number;
  readonly database: rds.DatabaseInstance;
  /** The instance class as settings.DATABASE_INSTANCE_TYPE spells it (no `db.` prefix). */
  readonly databaseInstanceType: string;
  readonly databaseAllocatedStorageGiB: number;
  readonly fileSystem: efs.FileSystem;
}

/**
 * CloudWatch alarms on the ALB, the ECS service, the database and the file system, each of which
 * notifies one SNS topic when it goes into ALARM and again when it is OK. docs/deploy.md
 * ("Alarms") says what each one means and what to do.
 */
export class Alarms extends Construct {
  /** The topic every alarm notifies: created here, or the existing one given. */
  readonly topic: sns.ITopic;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.topic = props.alarmTopicArn ? sns.Topic.fromTopicArn(this, 'Topic', props.alarmTopicArn) : this.createTopic(stack);
    if (props.alarmEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    new CfnOutput(stack, 'AlarmTopicArn', {
      description: 'SNS topic that every alarm notifies (ALARM and OK); subscribe to it',
      value: this.topic.topicArn,
    });

    this.loadBalancerAlarms(props);
    this.crashLoopAlarm(stack, props);
    this.databaseAlarms(props);
    this.fileSystemAlarms(props);
  }

  /**
   * A topic encrypted with a key of this stack. CloudWatch cannot publish to a topic encrypted
   * with the AWS managed key `alias/aws/sns`: its key policy does not let cloudwatch.amazonaws.com
   * use it, and nobody can change that policy. So the key is a customer managed one whose policy
   * grants exactly that.
   */
  private createTopic(stack: Stack): sns.Topic {
    const key = new kms.Key(this, 'TopicKey', {
      description: `${stack.stackName}: encrypts the alarm topic`,
      enableKeyRotation: true,
      // Nothing outlives the topic that this key could still decrypt.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // No conditions here: the topic policy below already decides whose alarms may publish, and
    // a condition key that CloudWatch's request to KMS did not carry would drop every notification.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToTheEncryptedTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    const topic = new sns.Topic(this, 'Topic', {
      displayName: `${stack.stackName} alarms`,
      masterKey: key,
    });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisAccountsAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    return topic;
  }

  /** Notify the topic on ALARM and on OK. */
  private notify(alarm: cloudwatch.Alarm): void {
    const action = new cloudwatchActions.SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
  }

  private loadBalancerAlarms(props: AlarmsProps): void {
    const period = settings.ALARM_5XX_PERIOD;
    const sum = { period, statistic: cloudwatch.Stats.SUM };
    const targetErrors = props.loadBalancer.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, sum);
    const balancerErrors = props.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, sum);
    const requests = props.loadBalancer.metrics.requestCount(sum);
    // RequestCount leaves out the requests the ALB answered before it chose a target (a 503 with
    // no task registered), so its own 5xx are added to the total. A 502 or 504 after a target was
    // chosen then counts twice in the total: the rate is understated, by at most half when every
    // request fails that way, which is still far above the threshold. The metrics are missing in
    // a period without such answers: FILL makes that a zero.
    const total = '(FILL(requests, 0) + FILL(balancerErrors, 0))';
    const errorRate = new cloudwatch.MathExpression({
      expression:
        `IF(${total} >= ${settings.ALARM_5XX_MIN_REQUESTS}, ` +
        `100 * (FILL(targetErrors, 0) + FILL(balancerErrors, 0)) / ${total}, 0)`,
      usingMetrics: { targetErrors, balancerErrors, requests },
      period,
      label: '5xx answers, % of all answers',
    });
    this.notify(
      errorRate.createAlarm(this, 'Http5xxRate', {
        alarmDescription:
          `More than ${settings.ALARM_5XX_RATE_PERCENT} % of the load balancer's answers were 5xx ` +
          `(of at least ${settings.ALARM_5XX_MIN_REQUESTS} per ${period.toMinutes()} minutes), ` +
          `${settings.ALARM_5XX_EVALUATION_PERIODS} periods in a row. docs/deploy.md, "Alarms".`,
        threshold: settings.ALARM_5XX_RATE_PERCENT,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: settings.ALARM_5XX_EVALUATION_PERIODS,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    const minute = Duration.minutes(1);
    this.notify(
      props.targetGroup.metrics.unhealthyHostCount({ period: minute, statistic: cloudwatch.Stats.MAXIMUM }).createAlarm(
        this,
        'UnhealthyTargets',
        {
          alarmDescription:
            `A target of the load balancer has been unhealthy (readiness failing) for ` +
            `${settings.ALARM_UNHEALTHY_TARGETS_MINUTES} minutes. docs/deploy.md, "Alarms".`,
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: settings.ALARM_UNHEALTHY_TARGETS_MINUTES,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
      ),
    );

    // With no task wanted there is nothing to be healthy, and no metric either.
    if (props.desiredCount > 0) {
      this.notify(
        props.targetGroup.metrics.healthyHostCount({ period: minute, statistic: cloudwatch.Stats.MINIMUM }).createAlarm(
          this,
          'TooFewHealthyTargets',
          {
            alarmDescription:
              `Fewer than ${props.desiredCount} healthy targets (the desired count) for ` +
              `${settings.ALARM_HEALTHY_TARGETS_MINUTES} minutes. docs/deploy.md, "Alarms".`,
            threshold: props.desiredCount,
            comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluationPeriods: settings.ALARM_HEALTHY_TARGETS_MINUTES,
            // The target group reports its healthy count every minute while it has targets: no
            // data at all is no healthy target known, not a quiet period.
            treatMissingData: cloudwatch.TreatMissingData.BREACHING,
          },
        ),
      );
    }
  }

  /**
   * ECS publishes a "Task State Change" event for every task that stops, with its reason. A rule
   * picks this service's tasks stopped by a failed health check and writes each event into a
   * log group, whose metric filter counts them; the alarm goes off at more than
   * settings.ALARM_CRASH_LOOP_STOPS in settings.ALARM_CRASH_LOOP_WINDOW.
   */
  private crashLoopAlarm(stack: Stack, props: AlarmsProps): void {
    const taskGroup = `service:${props.service.serviceName}`;
    const logGroup = new logs.LogGroup(this, 'TasksStoppedByHealthChecks', {
      retention: settings.LOG_RETENTION,
      // The stop reasons outlive DescribeTasks (which forgets a stopped task after an hour), and
      // the stack: they are evidence after an incident, like the containers' logs.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // EventBridge writes into a log group only where the log group's resource policy lets it. A
    // native AWS::Logs::ResourcePolicy for this one group, rather than the custom resource (a
    // Lambda function) that the CloudWatchLogGroup target would create for the same purpose.
    const logGroupPolicy = new logs.ResourcePolicy(this, 'EventsToLogGroup', {
      resourcePolicyName: `${stack.stackName}-tasks-stopped-by-health-checks`,
      policyStatements: [
        new iam.PolicyStatement({
          sid: 'EventBridgeWritesStoppedTaskEvents',
          principals: [
            new iam.ServicePrincipal('events.amazonaws.com'),
            new iam.ServicePrincipal('delivery.logs.amazonaws.com'),
          ],
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
        }),
      ],
    });

    const rule = new events.Rule(this, 'TaskStoppedByHealthChecksRule', {
      description: `${stack.stackName}: tasks of the service stopped because they failed a health check`,
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [props.cluster.clusterArn],
          group: [taskGroup],
          // One event per task: ECS sends several as a task stops, only the last one says STOPPED.
          lastStatus: ['STOPPED'],
          // Only the reason says why: a deploy or a scale-in stops tasks too (stopCode
          // ServiceSchedulerInitiated, like a health check's), with "Scaling activity initiated by …".
          stoppedReason: events.Match.anyOf(...HEALTH_CHECK_STOP_REASONS.map((reason) => events.Match.prefix(reason))),
        },
      },
      targets: [
        {
          // The whole event, as JSON, is the log line. A log group target's ARN has no ':*'.
          bind: () => ({
            arn: stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: logGroup.logGroupName,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
            targetResource: logGroup,
          }),
        },
      ],
    });
    rule.node.addDependency(logGroupPolicy);

    const metricFilter = logGroup.addMetricFilter('StoppedTasks', {
      filterPattern: logs.FilterPattern.stringValue('$.detail.lastStatus', '=', 'STOPPED'),
      metricNamespace: settings.ALARM_METRIC_NAMESPACE,
      metricName: CRASH_LOOP_METRIC_NAME,
      metricValue: '1',
      // Per service, so that two stacks in one account never count each other's stops.
      dimensions: { [CRASH_LOOP_METRIC_DIMENSION]: '$.detail.group' },
      unit: cloudwatch.Unit.COUNT,
    });
    const stops = metricFilter.metric({
      period: settings.ALARM_CRASH_LOOP_WINDOW,
      statistic: cloudwatch.Stats.SUM,
      dimensionsMap: { [CRASH_LOOP_METRIC_DIMENSION]: taskGroup },
    });
    this.notify(
      stops.createAlarm(this, 'CrashLoop', {
        alarmDescription:
          `More than ${settings.ALARM_CRASH_LOOP_STOPS} tasks stopped by failed health checks within ` +
          `${settings.ALARM_CRASH_LOOP_WINDOW.toMinutes()} minutes: a crash loop. docs/deploy.md, "Alarms".`,
        threshold: settings.ALARM_CRASH_LOOP_STOPS,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // The metric exists only when a task was stopped that way: no data is no such stop.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    new CfnOutput(stack, 'StoppedTasksLogGroupName', {
      description: 'CloudWatch Logs group with the events of tasks stopped by failed health checks',
      value: logGroup.logGroupName,
    });
  }

  private databaseAlarms(props: AlarmsProps): void {
    const database = props.database;
    this.notify(
      database
        .metricCPUUtilization({ period: settings.ALARM_DATABASE_CPU_PERIOD, statistic: cloudwatch.Stats.AVERAGE })
        .createAlarm(this, 'DatabaseCpu', {
          alarmDescription:
            `Database CPU above ${settings.ALARM_DATABASE_CPU_PERCENT} % for ` +
            `${settings.ALARM_DATABASE_CPU_PERIOD.toMinutes() * settings.ALARM_DATABASE_CPU_EVALUATION_PERIODS} minutes. ` +
            'docs/deploy.md, "Alarms".',
          threshold: settings.ALARM_DATABASE_CPU_PERCENT,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: settings.ALARM_DATABASE_CPU_EVALUATION_PERIODS,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    );

    const freeStorageBytes = databaseFreeStorageThresholdBytes(props.databaseAllocatedStorageGiB);
    this.notify(
      database
        .metricFreeStorageSpace({ period: settings.ALARM_DATABASE_FREE_STORAGE_PERIOD, statistic: cloudwatch.Stats.MINIMUM })
        .createAlarm(this, 'DatabaseFreeStorage', {
          alarmDescription:
            `Database free storage below ${settings.ALARM_DATABASE_FREE_STORAGE_FRACTION * 100} % of the ` +
            `${props.databaseAllocatedStorageGiB} GiB allocated. docs/deploy.md, "Alarms".`,
          threshold: freeStorageBytes,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: settings.ALARM_DATABASE_FREE_STORAGE_EVALUATION_PERIODS,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    );

    const maxConnections = estimatedMaxConnections(props.databaseInstanceType);
    const connectionsThreshold = databaseConnectionsThreshold(props.databaseInstanceType);
    this.notify(
      database
        .metricDatabaseConnections({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM })
        .createAlarm(this, 'DatabaseConnections', {
          alarmDescription:
            `More than ${connectionsThreshold} database connections ` +
            `(${settings.ALARM_DATABASE_CONNECTIONS_SHARE * 100} % of max_connections ${maxConnections} by ` +
            `RDS's formula for db.${props.databaseInstanceType}) for ${settings.ALARM_DATABASE_CONNECTIONS_MINUTES} ` +
            'minutes. docs/deploy.md, "Alarms".',
          threshold: connectionsThreshold,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: settings.ALARM_DATABASE_CONNECTIONS_MINUTES,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    );
    // During a deployment the old and the new tasks are connected at once.
    const deploymentPeak =
      Math.ceil((props.desiredCount * settings.MAX_HEALTHY_PERCENT) / 100) * settings.CONNECTIONS_PER_TASK;
    if (deploymentPeak > connectionsThreshold) {
      Annotations.of(this).addWarningV2(
        'collab:databaseConnections',
        `desiredCount ${props.desiredCount}: during a deployment the tasks hold up to ${deploymentPeak} ` +
          `database connections, above the DatabaseConnections alarm's ${connectionsThreshold} ` +
          `(max_connections is about ${maxConnections} on db.${props.databaseInstanceType}). ` +
          'Use a larger DATABASE_INSTANCE_TYPE.',
      );
    }
  }

  private fileSystemAlarms(props: AlarmsProps): void {
    const ioLimit = new cloudwatch.Metric({
      namespace: 'AWS/EFS',
      metricName: 'PercentIOLimit',
      dimensionsMap: { FileSystemId: props.fileSystem.fileSystemId },
      period: settings.ALARM_EFS_IO_LIMIT_PERIOD,
      statistic: cloudwatch.Stats.AVERAGE,
    });
    this.notify(
      ioLimit.createAlarm(this, 'WorkspacesIoLimit', {
        alarmDescription:
          `The workspaces file system has used more than ${settings.ALARM_EFS_IO_LIMIT_PERCENT} % of its ` +
          `I/O limit for ${settings.ALARM_EFS_IO_LIMIT_PERIOD.toMinutes() * settings.ALARM_EFS_IO_LIMIT_EVALUATION_PERIODS} ` +
          'minutes. docs/deploy.md, "Alarms".',
        threshold: settings.ALARM_EFS_IO_LIMIT_PERCENT,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: settings.ALARM_EFS_IO_LIMIT_EVALUATION_PERIODS,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}

/**
 * RDS PostgreSQL's default max_connections, LEAST(DBInstanceClassMemory / 9531392, 5000), on the
 * class's nominal memory: an upper bound of the real value (RDS keeps some memory for itself).
 */
export function estimatedMaxConnections(instanceType: string): number {
  const memoryGiB = settings.DATABASE_INSTANCE_MEMORY_GIB[instanceType];
  if (memoryGiB === undefined) {
    throw new Error(
      `No memory known for database instance class '${instanceType}': add it to DATABASE_INSTANCE_MEMORY_GIB ` +
        'in lib/settings.ts, so that the DatabaseConnections alarm fits its max_connections.',
    );
  }
  return Math.min(
    Math.floor((memoryGiB * 1024 ** 3) / settings.RDS_POSTGRES_BYTES_PER_CONNECTION),
    settings.RDS_POSTGRES_MAX_CONNECTIONS_CAP,
  );
}

/** The DatabaseConnections alarm's threshold for an instance class. */
export function databaseConnectionsThreshold(instanceType: string): number {
  return Math.floor(estimatedMaxConnections(instanceType) * settings.ALARM_DATABASE_CONNECTIONS_SHARE);
}

/** The DatabaseFreeStorage alarm's threshold, in bytes, for the allocated storage. */
export function databaseFreeStorageThresholdBytes(allocatedStorageGiB: number): number {
  return Math.round(allocatedStorageGiB * 1024 ** 3 * settings.ALARM_DATABASE_FREE_STORAGE_FRACTION);
}
