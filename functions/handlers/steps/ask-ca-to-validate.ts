// AskCaToValidate: our own look at the challenge answer, then the CA is asked and watched for a few seconds.
import { askCaToValidate } from '../../application/issuance.ts';
import { ca, challengeProbe, dns, dnsChallenges } from '../wire.ts';
import { stepLambda } from './step-handler.ts';

export const { createHandler, handler } = stepLambda({ ca, dns, challengeProbe, dnsChallenges }, askCaToValidate);
