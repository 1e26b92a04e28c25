// AskCaToValidate: tell the CA the challenge is ready.
import { askCaToValidate } from '../../application/issuance.ts';
import { ca } from '../wire.ts';
import { stepLambda } from './step-handler.ts';

export const { createHandler, handler } = stepLambda({ ca }, askCaToValidate);
