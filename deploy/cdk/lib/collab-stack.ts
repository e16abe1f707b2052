import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { Alarms } from './alarms';
import * as settings from './settings';

/** Name of the container in the task definition (also the middle part of its log stream names). */
export const CONTAINER_NAME = 'collab-server';

/** Name of the task definition volume that holds the workspaces. */
export const WORKSPACES_VOLUME_NAME = 'workspaces';

/**
 * Everything can also come from CDK context (`-c image=… -c desiredCount=3 -c certificateArn=…`);
 * a prop, when given, wins over the context value of the same name.
 */
export interface CollabServerStackProps extends StackProps {
  /** Container image URI, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/collab-server:1.0.0. Required. */
  readonly image?: string;
  /** Number of tasks. @default settings.DEFAULT_DESIRED_COUNT */
  readonly desiredCount?: number;
  /** ACM certificate for an HTTPS listener; without it the ALB serves plain HTTP on port 80. */
  readonly certificateArn?: string;
  /**
   * OIDC login (docs/deploy.md, "OIDC login"): the provider's issuer URI (https). With
   * `oidcClientId`; without both, OIDC login is off.
   */
  readonly oidcIssuerUri?: string;
  /** This server's client id at the OIDC provider. */
  readonly oidcClientId?: string;
  /**
   * The Secrets Manager secret (name or ARN) whose value is the OIDC client secret, as plain text.
   * Without it, the stack creates a secret (output OidcClientSecretArn; a generated placeholder
   * value) whose value you set to the provider's. The value never appears in the template or the
   * task definition.
   */
  readonly oidcClientSecret?: string;
  /**
   * The ARN of the customer-managed KMS key that encrypts the existing `oidcClientSecret`, if
   * it is not Secrets Manager's default key: the execution role gets `kms:Decrypt` on it (through
   * Secrets Manager only). @default the secret uses the AWS managed key aws/secretsmanager
   */
  readonly oidcClientSecretKmsKey?: string;
  /** The provider's name on the login page's "Sign in with …" button. @default the issuer's host */
  readonly oidcName?: string;
  /**
   * Email domains (comma-separated) whose users may log in: collab.auth.oidc.allowed-domains.
   * @default anyone the provider authenticates
   */
  readonly oidcAllowedDomains?: string;
  /**
   * An email address to subscribe to the alarm topic (docs/deploy.md, "Alarms"); AWS sends it a
   * confirmation link first. @default no subscription: subscribe to the output AlarmTopicArn
   */
  readonly alarmEmail?: string;
  /**
   * An existing standard SNS topic (its ARN, same region) for the alarms to notify instead of a
   * topic of this stack. Its policy (and its KMS key's, if encrypted) must let CloudWatch publish.
   * @default a KMS-encrypted topic of this stack
   */
  readonly alarmTopicArn?: string;
}

/** A deployment input that is missing or malformed: the app prints its message alone and exits. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

export const MISSING_IMAGE_MESSAGE =
  'Missing container image: pass it with -c image=<image URI>, for example ' +
  '`cdk synth -c image=123456789012.dkr.ecr.eu-west-1.amazonaws.com/collab-server:1.0.0`.';

interface Configuration {
  readonly image: string;
  readonly desiredCount: number;
  readonly certificateArn?: string;
  readonly oidc?: OidcConfiguration;
  readonly alarmEmail?: string;
  readonly alarmTopicArn?: string;
}

interface OidcConfiguration {
  readonly issuerUri: string;
  readonly clientId: string;
  /** The secret's name or ARN; undefined: the stack creates one. */
  readonly clientSecret?: string;
  /** The customer-managed KMS key of the existing secret, if any. */
  readonly clientSecretKmsKey?: string;
  /** Comma-separated email domains, if restricted. */
  readonly allowedDomains?: string;
  readonly name?: string;
}

/**
 * collab-server in team mode: Fargate tasks behind an internet-facing ALB, sharing one RDS
 * PostgreSQL database and one EFS file system for the session workspaces.
 */
export class CollabServerStack extends Stack {
  constructor(scope: Construct, id: string, props: CollabServerStackProps = {}) {
    super(scope, id, props);
    const config = resolveConfiguration(this, props);

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: settings.VPC_MAX_AZS,
      natGateways: settings.VPC_NAT_GATEWAYS,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
      ],
    });
    const privateSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

    // One security group per tier. Each one admits only the tier in front of it (see the rules
    // after the service); the ALB may only talk to the tasks, and the database and EFS initiate
    // nothing.
    const loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc,
      description: 'collab-server ALB: HTTP(S) from anywhere, out to the tasks only',
      allowAllOutbound: false,
    });
    const serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc,
      description: 'collab-server tasks: 8080 (API) and 8081 (health checks) from the ALB only',
      // Image pulls, AWS APIs, the database, EFS, and whatever the agents call.
      allowAllOutbound: true,
    });
    const databaseSecurityGroup = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', {
      vpc,
      description: 'collab-server PostgreSQL: 5432 from the tasks only',
      allowAllOutbound: false,
    });
    const fileSystemSecurityGroup = new ec2.SecurityGroup(this, 'FileSystemSecurityGroup', {
      vpc,
      description: 'collab-server workspaces EFS: NFS from the tasks only',
      allowAllOutbound: false,
    });

    const database = new rds.DatabaseInstance(this, 'Database', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: settings.DATABASE_ENGINE_VERSION }),
      instanceType: new ec2.InstanceType(settings.DATABASE_INSTANCE_TYPE),
      vpc,
      vpcSubnets: privateSubnets,
      securityGroups: [databaseSecurityGroup],
      credentials: rds.Credentials.fromGeneratedSecret(settings.DATABASE_USERNAME),
      databaseName: settings.DATABASE_NAME,
      port: settings.DATABASE_PORT,
      multiAz: settings.DATABASE_MULTI_AZ,
      storageType: rds.StorageType.GP3,
      allocatedStorage: settings.DATABASE_ALLOCATED_STORAGE_GIB,
      storageEncrypted: true,
      backupRetention: settings.DATABASE_BACKUP_RETENTION,
      deletionProtection: true,
      // Deleting the stack (once protection is lifted) leaves a final snapshot, never nothing.
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    const databaseSecret = database.secret!; // always set with fromGeneratedSecret

    const fileSystem = new efs.FileSystem(this, 'WorkspacesFileSystem', {
      vpc,
      vpcSubnets: privateSubnets,
      securityGroup: fileSystemSecurityGroup,
      encrypted: true,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      // Pay per use: sweeps and clones come in bursts, with little traffic in between.
      throughputMode: efs.ThroughputMode.ELASTIC,
      // Workspaces are user data: deleting the stack must not delete them.
      removalPolicy: RemovalPolicy.RETAIN,
      // Only clients that mount with IAM authorization (the task role) get in.
      allowAnonymousAccess: false,
    });
    // Every NFS operation through the access point runs as the image's user, whatever uid the
    // client claims, and the workspace root is created for that user on first mount.
    const accessPoint = fileSystem.addAccessPoint('WorkspacesAccessPoint', {
      path: settings.WORKSPACES_EFS_PATH,
      posixUser: { uid: String(settings.COLLAB_UID), gid: String(settings.COLLAB_GID) },
      createAcl: {
        ownerUid: String(settings.COLLAB_UID),
        ownerGid: String(settings.COLLAB_GID),
        permissions: settings.WORKSPACES_EFS_PERMISSIONS,
      },
    });

    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: settings.TASK_CPU,
      memoryLimitMiB: settings.TASK_MEMORY_MIB,
      runtimePlatform: {
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
      },
    });
    taskDefinition.addVolume({
      name: WORKSPACES_VOLUME_NAME,
      efsVolumeConfiguration: {
        fileSystemId: fileSystem.fileSystemId,
        transitEncryption: 'ENABLED',
        authorizationConfig: { accessPointId: accessPoint.accessPointId, iam: 'ENABLED' },
      },
    });
    // With IAM authorization the mount is made as the task role, which needs ClientMount and
    // ClientWrite on the file system.
    fileSystem.grantReadWrite(taskDefinition.taskRole);

    const logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: settings.LOG_RETENTION,
      // Logs outlive the stack: they are what you read after something went wrong.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const oidcClientSecret = config.oidc ? oidcSecret(this, config.oidc) : undefined;
    if (config.oidc) {
      grantOidcSecret(this, taskDefinition, config.oidc);
    }

    const container = taskDefinition.addContainer(CONTAINER_NAME, {
      containerName: CONTAINER_NAME,
      image: ecs.ContainerImage.fromRegistry(config.image),
      portMappings: [
        { name: 'http', containerPort: settings.CONTAINER_PORT, protocol: ecs.Protocol.TCP },
        { name: 'management', containerPort: settings.MANAGEMENT_PORT, protocol: ecs.Protocol.TCP },
      ],
      stopTimeout: settings.STOP_TIMEOUT,
      environment: {
        LOG_FORMAT: 'json',
        MANAGEMENT_SERVER_PORT: String(settings.MANAGEMENT_PORT),
        COLLAB_WORKSPACE_ROOT: settings.WORKSPACES_MOUNT_PATH,
        COLLAB_DATA_DIR: settings.DATA_DIR,
        SPRING_DATASOURCE_URL:
          `jdbc:postgresql://${database.dbInstanceEndpointAddress}:${database.dbInstanceEndpointPort}` +
          `/${settings.DATABASE_NAME}`,
        SERVER_JETTY_CONNECTION_IDLE_TIMEOUT: springDuration(settings.JETTY_IDLE_TIMEOUT),
        COLLAB_STREAM_HEARTBEAT: springDuration(settings.STREAM_HEARTBEAT),
        COLLAB_SWEEPER_INITIAL_DELAY: springDuration(settings.SWEEPER_INITIAL_DELAY),
        SPRING_LIFECYCLE_TIMEOUT_PER_SHUTDOWN_PHASE: springDuration(settings.SHUTDOWN_PHASE_TIMEOUT),
        // X-Forwarded-For/-Proto/-Host count only from the ALB (its nodes are in this VPC, and
        // the tasks' security group admits only the ALB): the client address, the https scheme.
        COLLAB_AUTH_TRUSTED_PROXIES: vpc.vpcCidrBlock,
        // OIDC login: issuer and client id are not secret; the client secret is (below).
        ...(config.oidc
          ? {
              COLLAB_AUTH_OIDC_ISSUER_URI: config.oidc.issuerUri,
              COLLAB_AUTH_OIDC_CLIENT_ID: config.oidc.clientId,
              ...(config.oidc.name ? { COLLAB_AUTH_OIDC_NAME: config.oidc.name } : {}),
              ...(config.oidc.allowedDomains ? { COLLAB_AUTH_OIDC_ALLOWED_DOMAINS: config.oidc.allowedDomains } : {}),
            }
          : {}),
      },
      // Injected by ECS from Secrets Manager at task start; never in the task definition itself.
      secrets: {
        SPRING_DATASOURCE_USERNAME: ecs.Secret.fromSecretsManager(databaseSecret, 'username'),
        SPRING_DATASOURCE_PASSWORD: ecs.Secret.fromSecretsManager(databaseSecret, 'password'),
        // The whole secret string is the client secret. ECS grants the execution role read access
        // to exactly this secret.
        ...(oidcClientSecret
          ? { COLLAB_AUTH_OIDC_CLIENT_SECRET: ecs.Secret.fromSecretsManager(oidcClientSecret) }
          : {}),
      },
      healthCheck: {
        command: [
          'CMD-SHELL',
          `curl -fsS --max-time ${settings.LIVENESS_CURL_MAX_TIME.toSeconds()} ` +
            `http://127.0.0.1:${settings.MANAGEMENT_PORT}${settings.LIVENESS_PATH} || exit 1`,
        ],
        interval: settings.CONTAINER_HEALTH_CHECK_INTERVAL,
        timeout: settings.CONTAINER_HEALTH_CHECK_TIMEOUT,
        retries: settings.CONTAINER_HEALTH_CHECK_RETRIES,
        startPeriod: settings.CONTAINER_HEALTH_CHECK_START_PERIOD,
      },
      logging: ecs.LogDrivers.awsLogs({
        logGroup,
        streamPrefix: settings.LOG_STREAM_PREFIX,
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: settings.LOG_MAX_BUFFER_SIZE,
      }),
      // No initProcessEnabled: the image's entrypoint is tini, which already reaps and forwards signals.
    });
    // The image is used exactly as given. One in ECR needs pull rights for the execution role,
    // which fromRegistry does not grant (hence CDK's warning, acknowledged once they are granted).
    const imageRepository = ecrRepositoryOf(this, config.image);
    if (imageRepository) {
      imageRepository.grantPull(taskDefinition.obtainExecutionRole());
      Annotations.of(container).acknowledgeWarning(
        '@aws-cdk/aws-ecs:ecrImageRequiresPolicy',
        'The execution role is granted pull rights on the image repository.',
      );
    }
    container.addMountPoints({
      sourceVolume: WORKSPACES_VOLUME_NAME,
      containerPath: settings.WORKSPACES_MOUNT_PATH,
      readOnly: false,
    });

    const service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: config.desiredCount,
      minHealthyPercent: settings.MIN_HEALTHY_PERCENT,
      maxHealthyPercent: settings.MAX_HEALTHY_PERCENT,
      healthCheckGracePeriod: settings.HEALTH_CHECK_GRACE_PERIOD,
      circuitBreaker: { enable: true, rollback: true },
      vpcSubnets: privateSubnets,
      assignPublicIp: false,
      securityGroups: [serviceSecurityGroup],
      enableExecuteCommand: false,
    });
    // A task that starts before the mount targets exist fails to mount EFS (first deploy only).
    service.node.addDependency(fileSystem.mountTargetsAvailable);

    // The literal port, not allowDefaultPortFrom: that one takes the port from the endpoint attribute.
    database.connections.allowFrom(serviceSecurityGroup, ec2.Port.tcp(settings.DATABASE_PORT), 'PostgreSQL from the tasks');
    fileSystem.connections.allowDefaultPortFrom(serviceSecurityGroup, 'NFS from the tasks');

    const loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      securityGroup: loadBalancerSecurityGroup,
      idleTimeout: settings.ALB_IDLE_TIMEOUT,
      http2Enabled: true,
    });

    // Attaching the service also opens 8080 on the service group to the ALB group (and the ALB's
    // egress to the tasks); nothing else reaches the tasks.
    const targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc,
      port: settings.CONTAINER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: settings.DEREGISTRATION_DELAY,
      healthCheck: {
        // Actuator listens on its own port, which the listener never forwards to.
        port: String(settings.MANAGEMENT_PORT),
        path: settings.READINESS_PATH,
        healthyHttpCodes: settings.READINESS_HEALTHY_HTTP_CODES,
        interval: settings.TARGET_HEALTH_CHECK_INTERVAL,
        timeout: settings.TARGET_HEALTH_CHECK_TIMEOUT,
        healthyThresholdCount: settings.TARGET_HEALTHY_THRESHOLD,
        unhealthyThresholdCount: settings.TARGET_UNHEALTHY_THRESHOLD,
      },
      // No stickiness: every task serves every session, and streams resume anywhere.
      targets: [service],
    });

    // The listener that serves the application: HTTPS with a certificate (and port 80 only
    // redirects to it), otherwise plain HTTP on 80.
        if (config.certificateArn) {
      loadBalancer.addListener('HttpsListener', {
        protocol: elbv2.ApplicationProtocol.HTTPS,
        port: 443,
        certificates: [elbv2.ListenerCertificate.fromArn(config.certificateArn)],
        defaultAction: elbv2.ListenerAction.forward([targetGroup]),
      });
      loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443 });
    } else {
      loadBalancer.addListener('HttpListener', {
        protocol: elbv2.ApplicationProtocol.HTTP,
        port: 80,
        defaultAction: elbv2.ListenerAction.forward([targetGroup]),
      });
    }
    // The target group's health checks reach Actuator on its own port; the listeners above only
    // ever forward to the API port.
    serviceSecurityGroup.connections.allowFrom(
      loadBalancerSecurityGroup,
      ec2.Port.tcp(settings.MANAGEMENT_PORT),
      'Readiness checks from the ALB',
    );

    new Alarms(this, 'Alarms', {
      alarmEmail: config.alarmEmail,
      alarmTopicArn: config.alarmTopicArn,
      loadBalancer,
      targetGroup,
      cluster,
      service,
      desiredCount: config.desiredCount,
      database,
      databaseInstanceType: settings.DATABASE_INSTANCE_TYPE,
      databaseAllocatedStorageGiB: settings.DATABASE_ALLOCATED_STORAGE_GIB,
      fileSystem,
    });

    new CfnOutput(this, 'LoadBalancerDnsName', {
      description: 'DNS name of the ALB (point a CNAME or alias record at it)',
      value: loadBalancer.loadBalancerDnsName,
    });
    new CfnOutput(this, 'DatabaseSecretArn', {
      description: 'Secrets Manager secret with the database credentials',
      value: databaseSecret.secretArn,
    });
    if (oidcClientSecret) {
      new CfnOutput(this, 'OidcClientSecretArn', {
        description: 'Secrets Manager secret with the OIDC client secret (its whole value)',
        value: oidcClientSecret.secretArn,
      });
    }
    new CfnOutput(this, 'LogGroupName', {
      description: 'CloudWatch Logs group of the containers (streams collab/collab-server/<task id>)',
      value: logGroup.logGroupName,
    });
    new CfnOutput(this, 'WorkspacesFileSystemId', {
      description: 'EFS file system that holds the session workspaces',
      value: fileSystem.fileSystemId,
    });
  }
}

/**
 * Reads each input from props, else from context, and rejects what cannot work. An empty value
 * counts as not given, so a pipeline may pass `-c certificateArn=$CERT_ARN` with an empty variable.
 */
function resolveConfiguration(scope: Construct, props: CollabServerStackProps): Configuration {
  const input = (key: keyof CollabServerStackProps & string): unknown => {
    const value = props[key] ?? scope.node.tryGetContext(key);
    return typeof value === 'string' && value.trim() === '' ? undefined : value;
  };

  const image = input('image');
  if (typeof image !== 'string') {
    throw new ConfigurationError(MISSING_IMAGE_MESSAGE);
  }

  // Context given on the command line arrives as a string.
  const rawCount = input('desiredCount') ?? settings.DEFAULT_DESIRED_COUNT;
  const desiredCount = typeof rawCount === 'string' ? Number(rawCount) : rawCount;
  if (typeof desiredCount !== 'number' || !Number.isInteger(desiredCount) || desiredCount < 0) {
    throw new ConfigurationError(`desiredCount must be a whole number of tasks (0 or more), got '${String(rawCount)}'.`);
  }

  const certificateArn = input('certificateArn');
  if (certificateArn !== undefined && (typeof certificateArn !== 'string' || !/^arn:aws[\w-]*:acm:/.test(certificateArn))) {
    throw new ConfigurationError(`certificateArn must be an ACM certificate ARN (arn:aws:acm:…), got '${String(certificateArn)}'.`);
  }

  const oidcIssuerUri = input('oidcIssuerUri');
  const oidcClientId = input('oidcClientId');
  const oidcClientSecret = input('oidcClientSecret');
  const oidcClientSecretKmsKey = input('oidcClientSecretKmsKey');
  const oidcAllowedDomains = input('oidcAllowedDomains');
  const oidcName = input('oidcName');
  let oidc: OidcConfiguration | undefined;
  if (oidcIssuerUri !== undefined || oidcClientId !== undefined || oidcClientSecret !== undefined) {
    if (typeof oidcIssuerUri !== 'string' || typeof oidcClientId !== 'string') {
      throw new ConfigurationError(
        'OIDC login needs both -c oidcIssuerUri=<https issuer URI> and -c oidcClientId=<client id> ' +
          '(and optionally -c oidcClientSecret=<Secrets Manager secret name or ARN>), or none of them.',
      );
    }
    if (!/^https:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(oidcIssuerUri.trim())) {
      throw new ConfigurationError(`oidcIssuerUri must be an https URL without query or fragment, got '${oidcIssuerUri}'.`);
    }
    if (oidcClientSecret !== undefined && (typeof oidcClientSecret !== 'string' || /\s/.test(oidcClientSecret.trim()))) {
      throw new ConfigurationError(
        `oidcClientSecret must be the name or ARN of a Secrets Manager secret (never the client secret itself), got '${String(oidcClientSecret)}'.`,
      );
    }
    if (
      typeof oidcClientSecret === 'string' &&
      oidcClientSecret.trim().startsWith('arn:') &&
      !/^arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^\s]+$/.test(oidcClientSecret.trim())
    ) {
      throw new ConfigurationError(
        `oidcClientSecret must be a Secrets Manager secret's name or ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>), got '${oidcClientSecret}'.`,
      );
    }
    if (
      oidcClientSecretKmsKey !== undefined &&
      (typeof oidcClientSecretKmsKey !== 'string' ||
        oidcClientSecret === undefined ||
        !/^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(oidcClientSecretKmsKey.trim()))
    ) {
      throw new ConfigurationError(
        `oidcClientSecretKmsKey must be the ARN of the KMS key (arn:aws:kms:<region>:<account>:key/<id>) of the secret given with oidcClientSecret, got '${String(oidcClientSecretKmsKey)}'.`,
      );
    }
    if (
      oidcAllowedDomains !== undefined &&
      (typeof oidcAllowedDomains !== 'string' ||
        !/^[A-Za-z0-9.-]+(,[A-Za-z0-9.-]+)*$/.test(oidcAllowedDomains.replace(/\s/g, '')))
    ) {
      throw new ConfigurationError(
        `oidcAllowedDomains must be email domains separated by commas (example.com,example.org), got '${String(oidcAllowedDomains)}'.`,
      );
    }
    oidc = {
      issuerUri: oidcIssuerUri.trim(),
      clientId: oidcClientId.trim(),
      clientSecret: oidcClientSecret?.trim(),
      clientSecretKmsKey: oidcClientSecretKmsKey?.trim(),
      allowedDomains: oidcAllowedDomains?.replace(/\s/g, ''),
      name: typeof oidcName === 'string' ? oidcName.trim() : undefined,
    };
  }

  const alarmEmail = input('alarmEmail');
  if (alarmEmail !== undefined && (typeof alarmEmail !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(alarmEmail.trim()))) {
    throw new ConfigurationError(`alarmEmail must be one email address, got '${String(alarmEmail)}'.`);
  }
  const alarmTopicArn = input('alarmTopicArn');
  if (
    alarmTopicArn !== undefined &&
    (typeof alarmTopicArn !== 'string' || !/^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(alarmTopicArn.trim()))
  ) {
    // A FIFO topic (….fifo) fails the pattern too: CloudWatch alarms publish to standard topics only.
    throw new ConfigurationError(
      `alarmTopicArn must be the ARN of a standard SNS topic (arn:aws:sns:<region>:<account>:<name>, not .fifo), got '${String(alarmTopicArn)}'.`,
    );
  }

  return {
    image: image.trim(),
    desiredCount,
    certificateArn: certificateArn?.trim(),
    oidc,
    alarmEmail: alarmEmail?.trim(),
    alarmTopicArn: alarmTopicArn?.trim(),
  };
}

/**
 * The OIDC client secret: the existing secret given by name or ARN, or a new one whose value the
 * operator sets (`aws secretsmanager put-secret-value`, docs/deploy.md) before users log in.
 */
function oidcSecret(stack: Stack, oidc: OidcConfiguration): secretsmanager.ISecret {
  const given = oidc.clientSecret;
  if (given === undefined) {
    return new secretsmanager.Secret(stack, 'OidcClientSecret', {
      description: 'collab-server: the OIDC client secret (set its value to the one from the provider)',
      // Keep the secret when the stack goes: the provider's client still uses it.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
  if (!given.startsWith('arn:')) {
    return secretsmanager.Secret.fromSecretNameV2(stack, 'OidcClientSecret', given);
  }
  // A complete ARN ends in the six random characters Secrets Manager appends to the name; but
  // a partial ARN (no suffix) whose name ends in '-' and six letters (collab/oidc-secret) looks
  // the same, and the string cannot tell them apart. So such an ARN is taken as complete (ECS
  // passes it to GetSecretValue, which accepts both) and the execution role may also read the
  // ARN with a suffix: right either way, never a task that fails at start.
  if (/-[A-Za-z0-9]{6}$/.test(given)) {
    return secretsmanager.Secret.fromSecretCompleteArn(stack, 'OidcClientSecret', given);
  }
  return secretsmanager.Secret.fromSecretPartialArn(stack, 'OidcClientSecret', given);
}

/**
 * What the execution role needs besides ECS's own grant of the secret: the suffixed form of an
 * ARN that may be partial (above), and `kms:Decrypt` on a customer-managed key, only through
 * Secrets Manager.
 */
function grantOidcSecret(stack: Stack, taskDefinition: ecs.TaskDefinition, oidc: OidcConfiguration): void {
  const given = oidc.clientSecret;
  if (given === undefined) {
    return;
  }
  const role = taskDefinition.obtainExecutionRole();
  if (given.startsWith('arn:') && /-[A-Za-z0-9]{6}$/.test(given)) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [`${given}-??????`],
      }),
    );
  }
  if (oidc.clientSecretKmsKey !== undefined) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [oidc.clientSecretKmsKey],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } },
      }),
    );
  }
}

/** The ECR repository of an image URI like <account>.dkr.ecr.<region>.amazonaws.com/<name>:<tag>, if it is one. */
function ecrRepositoryOf(stack: Stack, image: string): ecr.IRepository | undefined {
  const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(image);
  if (!match) {
    return undefined;
  }
  const [, account, region, repositoryName] = match;
  return ecr.Repository.fromRepositoryAttributes(stack, 'ImageRepository', {
    repositoryName,
    repositoryArn: stack.formatArn({ service: 'ecr', account, region, resource: 'repository', resourceName: repositoryName }),
  });
}

/** A duration as Spring Boot reads it from the environment (`75s`). */
function springDuration(duration: Duration): string {
  return `${duration.toSeconds()}s`;
}
