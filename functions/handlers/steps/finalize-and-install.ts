// FinalizeAndInstall: the key is born, used and installed inside this one step.
import { finalizeAndInstall } from '../../application/issuance.ts';
import { ca, certificates, databases } from '../wire.ts';
import { stepLambda } from './step-handler.ts';

export const { createHandler, handler } = stepLambda({ ca, certificates, databases }, finalizeAndInstall);
