// PublishChallenge: the key authorization goes where the edge answers HTTP-01.
import { publishChallenge } from '../../application/issuance.ts';
import { ca, challenges } from '../wire.ts';
import { stepLambda } from './step-handler.ts';

export const { createHandler, handler } = stepLambda({ ca, challenges }, publishChallenge);
