// Which handler file serves which API resource group, and the other entry points.
// The routes themselves are the contract's (functions/handlers/http/contract.ts).
import type { HandlerGroup } from '../functions/handlers/http/contract.ts';

export { API_ROUTES } from '../functions/handlers/http/contract.ts';

/** One Lambda per resource group: few cold starts, each with only the grants its group needs. */
export const API_HANDLERS: Record<HandlerGroup, string> = {
  domains: 'functions/handlers/api/domains.ts',
  acm: 'functions/handlers/api/acm.ts',
  certs: 'functions/handlers/api/certs.ts',
  challenge: 'functions/handlers/api/challenge.ts',
  openapi: 'functions/handlers/api/openapi.ts',
  ca: 'functions/handlers/api/ca.ts',
  databases: 'functions/handlers/api/databases.ts',
};

export const AUTHORIZER_HANDLER = 'functions/handlers/api/authorizer.ts';
export const PROJECTOR_HANDLER = 'functions/handlers/streams/project-status.ts';
export const PLATFORM_EVENTS_HANDLER = 'functions/handlers/events/platform-events.ts';
export const SWEEP_HANDLER = 'functions/handlers/schedules/sweep.ts';
