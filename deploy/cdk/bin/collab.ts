#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { CollabServerStack, ConfigurationError } from '../lib/collab-stack';

const app = new App();

try {
  // No `env`: the stack is environment-agnostic, so synth never looks anything up in an AWS
  // account (the two AZs come from Fn::GetAZs at deploy time). `cdk deploy` targets the account
  // and region of the credentials in use.
  new CollabServerStack(app, 'CollabServerStack', {
    description: 'collab-server: ECS Fargate behind an ALB, RDS PostgreSQL, EFS workspaces',
  });
} catch (error) {
  if (error instanceof ConfigurationError) {
    // A wrong or missing -c value: one line that says what to pass, not a stack trace.
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
