// Logs and traces for every Lambda, set up in this one place: Powertools' Logger and
// Tracer as middy middleware. Every line is JSON with a level and the correlation id of
// what is being handled (an execution, a request, a platform event, a sweep).
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { MiddyfiedHandler } from '@middy/core';
import type { Log } from '../application/ports.ts';

const SERVICE = 'acm-automation';

/** One per process: Lambda's container, or the local cloud. */
export const logger = new Logger({ serviceName: SERVICE });
const tracer = new Tracer({ serviceName: SERVICE });

/** The log port the use cases write to. */
export const log: Log = {
  warn: (message, details) => logger.warn(message, details),
  info: (message, details) => logger.info(message, details),
};

/** What a handler's lines are correlated by, found in its event; `keys` are added to every line too. */
export type Correlation<Event> = (event: Event) => { correlationId: string; keys?: Record<string, string> };

/** Wraps a middy handler: Lambda context and correlation id on every line, keys reset per call, traced (in Lambda). */
export function observed<Event, Result>(handler: MiddyfiedHandler<Event, Result>, correlate: Correlation<Event>) {
  return handler
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      before: (request) => {
        const { correlationId, keys } = correlate(request.event);
        logger.setCorrelationId(correlationId);
        if (keys) logger.appendKeys(keys);
      },
    })
    .use(captureLambdaHandler(tracer));
}
