// PublishChallenge: the key authorization goes where the edge answers HTTP-01, or into the platform's zone (DNS-01).
import { publishChallenge } from '../../application/issuance.ts';
import { ca, challenges, dnsChallenges } from '../wire.ts';
import { stepLambda } from './step-handler.ts';

export const { createHandler, handler } = stepLambda({ ca, challenges, dnsChallenges }, publishChallenge);
