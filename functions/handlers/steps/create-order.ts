// CreateOrder: one ACME order per try.
import { createOrder } from '../../application/issuance.ts';
import { ca } from '../wire.ts';
import { stepLambda } from './step-handler.ts';

export const { createHandler, handler } = stepLambda({ ca }, createOrder);
