// Logs and traces for every Lambda, set up in this one place: Powertools' Logger and
// Tracer as middy middleware. Every line is JSON with a level and the correlation id of
// what is being handled (an execution, a request, a platform event, a sweep).
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { MiddyfiedHandler } from '@middy/core';
import type { Log, Measure, MetricName } from '../application/ports.ts';
import { METRICS_NAMESPACE } from '../domain/figures.ts';

const SERVICE = 'acm-automation';

/** One per process: Lambda's container, or the local cloud. */
export const logger = new Logger({ serviceName: SERVICE });
const tracer = new Tracer({ serviceName: SERVICE });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE });

/**
 * Each figure is its own EMF line, written at once: handlers run concurrently in one process
 * locally, so a shared buffer would mix their dimensions.
 */
function emit(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number, dimensions: Record<string, string>): void {
  const single = metrics.singleMetric();
  for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
  single.addMetric(name, unit, value);
}

/** The readings' units; the rest are plain numbers (days to expiry). */
const UNITS: Partial<Record<MetricName, (typeof MetricUnit)[keyof typeof MetricUnit]>> = {
  TimeToIssued: MetricUnit.Milliseconds,
  ProjectorLag: MetricUnit.Milliseconds,
};

export const measure: Measure = {
  count: (name, dimensions = {}) => emit(name, MetricUnit.Count, 1, dimensions),
  value: (name, value, dimensions = {}) => emit(name, UNITS[name] ?? MetricUnit.NoUnit, value, dimensions),
};

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
