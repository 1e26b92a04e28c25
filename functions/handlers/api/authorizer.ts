// The API's Lambda authorizer: a valid bearer token passes with its app scope in the
// context; anything else is 401. The route handlers check the scope against the path.
import middy from '@middy/core';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { authorize } from '../../application/authorize.ts';
import type { Ports } from '../../application/ports.ts';
import { observed } from '../observability.ts';
import { awsHandler, apiTokenSecret } from '../wire.ts';

export const createHandler = (ports: Pick<Ports, 'apiTokenSecret'>) =>
  observed(
    middy(async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
      const claims = await authorize(ports, event.authorizationToken ?? '');
      // API Gateway turns exactly this message into a 401.
      if (!claims) throw new Error('Unauthorized');
      // One policy for the whole API, so API Gateway can cache it per token across routes.
      const [apiArn, stage] = event.methodArn.split('/');
      return {
        principalId: claims.sub,
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: `${apiArn}/${stage}/*` }],
        },
        context: { sub: claims.sub, apps: claims.apps === '*' ? '*' : claims.apps.join(',') },
      };
    }),
    // Never the token itself: the route it was asked for.
    (event) => ({ correlationId: `authorize:${event.methodArn ?? 'unknown'}` }),
  );

export const handler = awsHandler({ apiTokenSecret }, createHandler);
