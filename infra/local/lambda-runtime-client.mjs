// Inside one local Lambda sandbox (a plain `node` process, no TypeScript loader), what
// Lambda's Node.js runtime interface client does: import the function's bundle once (the
// init phase), then call its handler with each event the local Lambda service sends, with
// a context like Lambda's, and send back the result, or the error as Lambda reports it
// ({errorType, errorMessage, trace}). Started by lambda-runtime.ts: argv is the bundle's
// file and the handler's export name; the environment is the function's.
import { pathToFileURL } from 'node:url';

const [bundleFile, handlerName] = process.argv.slice(2);
const env = process.env;

/** Lambda's error payload: `errorType` is the error's name, which Step Functions matches in Retry and Catch. */
function lambdaError(error) {
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, trace: String(error.stack ?? '').split('\n') };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

let handler;
try {
  const bundle = await import(pathToFileURL(bundleFile).href);
  handler = bundle[handlerName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${bundleFile} exports no function named ${handlerName}`), { name: 'Runtime.HandlerNotFound' });
  }
} catch (error) {
  process.send({ initError: lambdaError(error) }, () => process.exit(1));
}

if (handler) {
  // The service went away: so does the sandbox.
  process.on('disconnect', () => process.exit(0));
  // Per invocation, what the Runtime API's headers carry: request id, deadline, invoked ARN.
  process.on('message', async ({ id, requestId, deadline, invokedFunctionArn, event }) => {
    const context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
      invokedFunctionArn,
      memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      awsRequestId: requestId,
      logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    try {
      const result = await handler(event, context);
      // A handler that returns nothing answers `null`, as Lambda's payload does.
      process.send({ id, result: result === undefined ? null : result });
    } catch (error) {
      process.send({ id, error: lambdaError(error) });
    }
  });
  process.send({ ready: true });
}
