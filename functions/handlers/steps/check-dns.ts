// CheckDns: the pre-flight before anything is asked of the CA.
import { checkDns } from '../../application/issuance.ts';
import { dns } from '../wire.ts';
import { stepLambda } from './step-handler.ts';

export const { createHandler, handler } = stepLambda({ dns }, checkDns);
