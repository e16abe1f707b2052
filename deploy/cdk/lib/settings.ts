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
