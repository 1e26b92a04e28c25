// CreateOrder: one ACME order per try, and its challenge published (HTTP-01 answer, or DNS-01 TXT record).
import { createOrder } from '../../application/issuance.ts';
import { ca, challenges, dnsChallenges } from '../wire.ts';
import { stepLambda } from './step-handler.ts';

export const { createHandler, handler } = stepLambda({ ca, challenges, dnsChallenges }, createOrder);
