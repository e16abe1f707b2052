/**
 * Every timing and sizing value of the collab-server deployment, in one place.
 *
 * Several of these only work together (the heartbeat, the ALB idle timeout and the Jetty idle
 * timeout; the drain, the deregistration delay and the stop timeout; the grace period and the
 * sweeper's first run). test/collab-stack.test.ts asserts those relations, so a change here that
 * breaks one fails the tests. docs/deploy.md refers to these names.
 */
import { Duration, Size } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';

// ---------------------------------------------------------------------------------------------
// Network

/** Two AZs: every tier (ALB, tasks, Multi-AZ database, EFS mount targets) survives the loss of one. */
export const VPC_MAX_AZS = 2;

/**
 * One NAT gateway: tasks only need outbound access for image pulls, AWS APIs and the agents'
 * own calls. A second one would only matter while its AZ is down, and costs as much again.
 */
export const VPC_NAT_GATEWAYS = 1;

// ---------------------------------------------------------------------------------------------
// Database (RDS PostgreSQL)

/**
 * PostgreSQL 17, major version only: RDS picks the current minor release and applies minor
 * upgrades itself, without the template ever pinning (and later contradicting) a minor version.
 */
export const DATABASE_ENGINE_VERSION = rds.PostgresEngineVersion.VER_17;

/** db.t4g.small (RDS adds the `db.` prefix): 2 GiB is plenty for session state and the event log. */
export const DATABASE_INSTANCE_TYPE = 't4g.small';

/** 20 GiB gp3, the smallest gp3 size; the event log is text and grows slowly. */
export const DATABASE_ALLOCATED_STORAGE_GIB = 20;

/** A standby in the second AZ: the database is the one stateful piece every replica needs. */
export const DATABASE_MULTI_AZ = true;

/** A week of point-in-time recovery: time to notice a bad migration or a wrong delete. */
export const DATABASE_BACKUP_RETENTION = Duration.days(7);

/** The database the server connects to (the `/collab` at the end of SPRING_DATASOURCE_URL). */
export const DATABASE_NAME = 'collab';

/** The master user; its generated password lives only in Secrets Manager. */
export const DATABASE_USERNAME = 'collab';

/** PostgreSQL's standard port, written out so the security group rule reads 5432, not a token. */
export const DATABASE_PORT = 5432;

// ---------------------------------------------------------------------------------------------
// Workspaces (EFS)

/** The image runs as user `collab`, uid 10001; EFS access goes through the access point as this user. */
export const COLLAB_UID = 10001;

/** The primary group of user `collab` in the image. */
export const COLLAB_GID = 10001;

/** Directory on the file system that the access point exposes as its root. */
export const WORKSPACES_EFS_PATH = '/workspaces';

/** Created by EFS with this mode on first use: the server (owner) reads and writes, others get nothing. */
export const WORKSPACES_EFS_PERMISSIONS = '750';

/** Where the container sees the volume; the server's COLLAB_WORKSPACE_ROOT. */
export const WORKSPACES_MOUNT_PATH = '/workspaces';

/**
 * COLLAB_DATA_DIR, on the task's local (ephemeral) storage. In team mode it holds nothing shared,
 * and the built-in PostgreSQL must never live on EFS (docs/operations.md).
 */
export const DATA_DIR = '/var/lib/collab';

// ---------------------------------------------------------------------------------------------
// Task and container

/** 1 vCPU: the server itself is light; agent processes run inside the same task. */
export const TASK_CPU = 1024;

/** 2 GiB: room for the JVM heap plus a few concurrent agent processes. */
export const TASK_MEMORY_MIB = 2048;

/** The server's HTTP port (server.port): the API, the only port the ALB forwards to. */
export const CONTAINER_PORT = 8080;

/**
 * Actuator's own port (management.server.port). Actuator is not authenticated (health details,
 * metrics, POST /actuator/sweeper starts deletions), and a path rule on the listener cannot hide
 * it reliably (`/%61ctuator/…` and `/actuator;x/…` reach the same endpoints). On its own port it
 * is reachable only by the health checks and from inside the VPC; the API port answers 404.
 */
export const MANAGEMENT_PORT = 8081;

/** The default number of tasks: two, so a deploy or a lost AZ never leaves no task serving. */
export const DEFAULT_DESIRED_COUNT = 2;

// ---------------------------------------------------------------------------------------------
// Shutdown

/**
 * spring.lifecycle.timeout-per-shutdown-phase, pinned through the environment: after SIGTERM,
 * in-flight requests get this long to finish. Pinned so that STOP_TIMEOUT is measured against the
 * value that actually runs, whatever the image's own default.
 */
export const SHUTDOWN_PHASE_TIMEOUT = Duration.seconds(20);

/**
 * ECS waits this long after SIGTERM before SIGKILL. It must cover the sum of the shutdown's worst
 * cases (docs/operations.md, "Shutdown"), not only the drain: the drain (one shutdown phase, 20 s),
 * the runs' stop (interrupt-grace 3 s + 7 s), the background work (up to one phase, 20 s, when a
 * sweep is stuck on the database), the notifications (10 s) and the event log's last commit (10 s),
 * then closing the pool and the JVM: about 75 s. 90 s leaves margin, so SIGKILL never cuts off the
 * runs' final events.
 */
export const STOP_TIMEOUT = Duration.seconds(90);

/** The largest stopTimeout Fargate accepts. */
export const FARGATE_MAX_STOP_TIMEOUT = Duration.seconds(120);

// ---------------------------------------------------------------------------------------------
// Container health check (liveness: is the process still answering?)

/** Liveness never depends on the database, the filesystem or the sweeper: only a hung process fails it. */
export const LIVENESS_PATH = '/actuator/health/liveness';

/** Check every 10 s. */
export const CONTAINER_HEALTH_CHECK_INTERVAL = Duration.seconds(10);

/** The endpoint answers in milliseconds; 5 s without an answer means the process is stuck. */
export const CONTAINER_HEALTH_CHECK_TIMEOUT = Duration.seconds(5);

/** curl gives up after 2 s, well inside the 5 s timeout, so the check fails cleanly rather than being killed. */
export const LIVENESS_CURL_MAX_TIME = Duration.seconds(2);

/** Three failures in a row (about 30 s) before ECS replaces the task: one GC pause is not a reason. */
export const CONTAINER_HEALTH_CHECK_RETRIES = 3;

/** Failures during the first 60 s do not count: the JVM boots and Flyway migrates first. */
export const CONTAINER_HEALTH_CHECK_START_PERIOD = Duration.seconds(60);

// ---------------------------------------------------------------------------------------------
// Load balancer, streams and connection timeouts

/** collab.stream.heartbeat: an SSE `: ping` every 15 s keeps idle streams busy for every hop. */
export const STREAM_HEARTBEAT = Duration.seconds(15);

/**
 * The ALB closes a connection idle this long: 4x the heartbeat, so a stream that carries only
 * heartbeats is never cut, even when one ping is late.
 */
export const ALB_IDLE_TIMEOUT = Duration.seconds(60);

/**
 * server.jetty.connection-idle-timeout: above the ALB idle timeout, so the target never closes a
 * keep-alive connection that the ALB may still reuse (that race is what returns 502s).
 */
export const JETTY_IDLE_TIMEOUT = Duration.seconds(75);

// ---------------------------------------------------------------------------------------------
// Target group health check (readiness: should this task get traffic?)

/** Readiness: up once started and the database answers migrated; OUT_OF_SERVICE as soon as shutdown begins. */
export const READINESS_PATH = '/actuator/health/readiness';

/** UP answers 200; DOWN and OUT_OF_SERVICE answer 503. */
export const READINESS_HEALTHY_HTTP_CODES = '200';

/** Probe every 10 s. */
export const TARGET_HEALTH_CHECK_INTERVAL = Duration.seconds(10);

/** The database check runs in the background, so readiness answers in milliseconds; 5 s of silence is a failure. */
export const TARGET_HEALTH_CHECK_TIMEOUT = Duration.seconds(5);

/** Two good answers (20 s) put a new task in service: a fast rollout. */
export const TARGET_HEALTHY_THRESHOLD = 2;

/** Three failures (30 s) take a task out: rides out a short database blip rather than cycling tasks. */
export const TARGET_UNHEALTHY_THRESHOLD = 3;

/**
 * Deregistration delay: 20 s. Streams are long-lived and never finish on their own, so waiting
 * longer gains nothing: clients resume with Last-Event-ID on another task. Short keeps deploys
 * fast, and it is shorter than STOP_TIMEOUT.
 */
export const DEREGISTRATION_DELAY = Duration.seconds(20);

// ---------------------------------------------------------------------------------------------
// Service deployment

/** Never fewer healthy tasks than desired during a deploy: new tasks start before old ones stop. */
export const MIN_HEALTHY_PERCENT = 100;

/** Room for one full set of new tasks next to the old ones. */
export const MAX_HEALTHY_PERCENT = 200;

/**
 * ECS ignores target-group health for this long after a task starts. Boot to readiness takes
 * about 5–15 s on Fargate, so 60 s is ample; it ends before the sweeper's first run at 90 s.
 */
export const HEALTH_CHECK_GRACE_PERIOD = Duration.seconds(60);

/**
 * collab.sweeper.initial-delay: the first orphan sweep starts 90 s after the server is ready,
 * after the grace period and the target group have judged the new task healthy.
 */
export const SWEEPER_INITIAL_DELAY = Duration.seconds(90);

// ---------------------------------------------------------------------------------------------
// Logs

/** A month of logs in CloudWatch: long enough to investigate an incident, bounded in cost. */
export const LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

/** Log streams are named collab/collab-server/<task id>. */
export const LOG_STREAM_PREFIX = 'collab';

/**
 * The awslogs driver buffers up to 25 MiB in non-blocking mode and drops beyond that: a stuck
 * log pipe must never block the JVM's stdout, and with it the request threads.
 */
export const LOG_MAX_BUFFER_SIZE = Size.mebibytes(25);

// ---------------------------------------------------------------------------------------------
// Alarms (lib/alarms.ts; docs/deploy.md, "Alarms")
//
// Every alarm sends its ALARM and its OK notification to one SNS topic. A threshold here is the
// point where someone should look now, not a trend to watch: each one is chosen so that what a
// healthy service does (a deploy, a burst of sends, a sweep) stays below it.

/** Namespace of the metrics the stack derives itself (from EventBridge events, below). */
export const ALARM_METRIC_NAMESPACE = 'CollabServer';

/**
 * Load balancer 5xx answers, as a share of all answers, per 5 minutes. Both kinds count: a
 * target's own 5xx (`HTTPCode_Target_5XX_Count`) and the ALB's (`HTTPCode_ELB_5XX_Count`: 502
 * when a task closed the connection, 503 with no task registered, 504 when it did not answer).
 */
export const ALARM_5XX_PERIOD = Duration.minutes(5);

/**
 * More than 5 % of the answers: a deploy's few `503 shutting-down` and keep-alive 502s stay far
 * below it, a database outage (every request `503`) or a broken release is far above.
 */
export const ALARM_5XX_RATE_PERCENT = 5;

/**
 * A 5-minute period with fewer answers than this never counts as breaching: at night one failed
 * request in three is 33 %, and nobody should be woken for it. With 20, a single error can never
 * page (1 in 20 is exactly 5 %, not more); a real outage at low traffic still shows in the
 * target health alarms below.
 */
export const ALARM_5XX_MIN_REQUESTS = 20;

/** Two periods in a row (10 minutes): a burst during a deploy is over before the second one ends. */
export const ALARM_5XX_EVALUATION_PERIODS = 2;

/**
 * A target the ALB calls unhealthy for 5 minutes in a row. A task that fails its readiness probe
 * leaves the target group after 30 s (TARGET_UNHEALTHY_THRESHOLD) and ECS replaces it within a
 * minute or two; an unhealthy target that stays is a task that cannot reach the database, or a
 * database that is down for every task.
 */
export const ALARM_UNHEALTHY_TARGETS_MINUTES = 5;

/**
 * Fewer healthy targets than the desired count for 5 minutes in a row. A deploy never causes it
 * (MIN_HEALTHY_PERCENT 100: new tasks are healthy before old ones leave); a replaced task is back
 * in about 2 minutes (start, boot, 2 × 10 s of readiness).
 */
export const ALARM_HEALTHY_TARGETS_MINUTES = 5;

/**
 * The crash loop of incident 1: tasks stopped because they failed their health checks (the
 * ALB's or the container's), counted over a sliding 15-minute window (CloudWatch evaluates a
 * one-period alarm every minute over the last period).
 */
export const ALARM_CRASH_LOOP_WINDOW = Duration.minutes(15);

/**
 * More than 2 such stops in the window: one task can fail once (a stuck JVM is exactly what the
 * liveness check is for), two can be one bad moment of the database; three means tasks keep
 * being killed, as the seed's tasks were, every 4 minutes.
 */
export const ALARM_CRASH_LOOP_STOPS = 2;

/** Database CPU above 80 % on average... */
export const ALARM_DATABASE_CPU_PERCENT = 80;

/** ...for 3 periods of 5 minutes (15 minutes): a burst of sends or a vacuum does not page. */
export const ALARM_DATABASE_CPU_PERIOD = Duration.minutes(5);
export const ALARM_DATABASE_CPU_EVALUATION_PERIODS = 3;

/**
 * Free storage below 20 % of DATABASE_ALLOCATED_STORAGE_GIB (4 GiB of 20). The stack enables no
 * storage autoscaling, a full volume stops every write, and RDS allows one storage change per
 * 6 hours: 20 % of a slowly growing event log leaves days to grow it.
 */
export const ALARM_DATABASE_FREE_STORAGE_FRACTION = 0.2;

/** The minimum over 15 minutes (3 × 5 min): a sort that spills to disk for a moment does not page. */
export const ALARM_DATABASE_FREE_STORAGE_PERIOD = Duration.minutes(5);
export const ALARM_DATABASE_FREE_STORAGE_EVALUATION_PERIODS = 3;

/**
 * Memory of each instance class, in GiB: RDS PostgreSQL's default max_connections is
 * LEAST(DBInstanceClassMemory / 9531392, 5000). A DATABASE_INSTANCE_TYPE missing here stops the
 * synthesis, so the connection alarm never silently keeps a threshold made for another class.
 */
export const DATABASE_INSTANCE_MEMORY_GIB: Readonly<Record<string, number>> = {
  't4g.micro': 1,
  't4g.small': 2,
  't4g.medium': 4,
  't4g.large': 8,
  't4g.xlarge': 16,
  't4g.2xlarge': 32,
  'm7g.large': 8,
  'm7g.xlarge': 16,
  'm7g.2xlarge': 32,
  'm7g.4xlarge': 64,
  'r7g.large': 16,
  'r7g.xlarge': 32,
  'r7g.2xlarge': 64,
  'r7g.4xlarge': 128,
};

/** The divisor of RDS PostgreSQL's default max_connections formula (bytes of memory per connection). */
export const RDS_POSTGRES_BYTES_PER_CONNECTION = 9531392;

/** The cap of that formula. */
export const RDS_POSTGRES_MAX_CONNECTIONS_CAP = 5000;

/**
 * DatabaseConnections above 70 % of the formula's value on the class's nominal memory (225 for
 * db.t4g.small, so 157). The formula's DBInstanceClassMemory is that memory minus what RDS keeps
 * for itself, so the real max_connections is somewhat lower than 225: 70 % of the upper bound
 * keeps the threshold clearly below the real limit. `SHOW max_connections;` gives the exact
 * number (docs/deploy.md, "Alarms").
 */
export const ALARM_DATABASE_CONNECTIONS_SHARE = 0.7;

/** The maximum per minute, 5 minutes in a row: a reconnect storm's peak alone does not page. */
export const ALARM_DATABASE_CONNECTIONS_MINUTES = 5;

/** spring.datasource.hikari.maximum-pool-size of the image (application.yaml; the tests check it). */
export const DATABASE_POOL_SIZE = 20;

/**
 * Connections one task holds at most: the pool, plus the three dedicated ones outside it
 * (`collab-listener` for notifications, `collab-health` for the db check, `collab-sweeper` for
 * the sweep lock; docs/operations.md, "Several replicas").
 */
export const CONNECTIONS_PER_TASK = DATABASE_POOL_SIZE + 3;

/**
 * EFS PercentIOLimit above 90 % on average for 15 minutes (3 × 5 min). The file system is
 * General Purpose with elastic throughput: elastic throughput has no burst credits, so
 * BurstCreditBalance does not apply, and the General Purpose I/O limit is what a sweep of many
 * small files can run into.
 */
export const ALARM_EFS_IO_LIMIT_PERCENT = 90;
export const ALARM_EFS_IO_LIMIT_PERIOD = Duration.minutes(5);
export const ALARM_EFS_IO_LIMIT_EVALUATION_PERIODS = 3;
