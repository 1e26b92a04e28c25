// CheckValidation: one look at the authorization; the state machine waits and loops.
import { checkValidation } from '../../application/issuance.ts';
import { ca, dns, challengeProbe, dnsChallenges } from '../wire.ts';
import { stepLambda } from './step-handler.ts';

export const { createHandler, handler } = stepLambda({ ca, dns, challengeProbe, dnsChallenges }, checkValidation);
