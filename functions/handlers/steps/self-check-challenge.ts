// SelfCheckChallenge: our own look at the challenge URL before the CA's.
import { selfCheckChallenge } from '../../application/issuance.ts';
import { ca, dns, challengeProbe } from '../wire.ts';
import { stepLambda } from './step-handler.ts';

export const { createHandler, handler } = stepLambda({ ca, dns, challengeProbe }, selfCheckChallenge);
