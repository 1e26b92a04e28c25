// The HTTP API's routes, one table for API Gateway and for the local cloud's server.
// Each handler file is one Lambda serving a resource group (see README: why grouped).

export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway's resource template; also the key the handler routes on. */
  resource: string;
  handler: keyof typeof API_HANDLERS;
}

export const API_HANDLERS = {
  domains: 'functions/handlers/api/domains.ts',
  acm: 'functions/handlers/api/acm.ts',
  challenge: 'functions/handlers/api/challenge.ts',
} as const;

export const API_ROUTES: ApiRoute[] = [
  { method: 'POST', resource: '/apps/{app}/domains', handler: 'domains' },
  { method: 'GET', resource: '/apps/{app}/domains', handler: 'domains' },
  { method: 'GET', resource: '/apps/{app}/domains/{hostname}/events', handler: 'domains' },
  { method: 'GET', resource: '/apps/{app}/acm', handler: 'acm' },
  { method: 'POST', resource: '/apps/{app}/acm/refresh', handler: 'acm' },
  { method: 'GET', resource: '/.well-known/acme-challenge/{token}', handler: 'challenge' },
];

export const PROJECTOR_HANDLER = 'functions/handlers/streams/project-status.ts';
export const PLATFORM_EVENTS_HANDLER = 'functions/handlers/events/platform-events.ts';
export const SWEEP_HANDLER = 'functions/handlers/schedules/sweep.ts';
