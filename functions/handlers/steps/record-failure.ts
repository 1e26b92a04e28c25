// RecordFailure: every Catch lands here; it says whether to give up and how long to wait.
import { recordFailure } from '../../application/issuance.ts';
import { stepLambda } from './step-handler.ts';

export const { createHandler, handler } = stepLambda({}, (ports, step, event) => recordFailure(ports, step, event.error));
