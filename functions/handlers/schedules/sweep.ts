// The sweep's Lambda (hourly in AWS, a timer locally): renewals due, failing domains told once.
import middy from '@middy/core';
import { sweep, type SweepPorts } from '../../application/sweep.ts';
import { awsHandler, ca, events, notifications, settings, statuses, workflows } from '../wire.ts';

export const createHandler = (ports: SweepPorts) => middy(async () => sweep(ports));
export const handler = awsHandler({ events, settings, statuses, workflows, notifications, ca }, createHandler);
