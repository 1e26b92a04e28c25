// The CDK app: `npx cdk synth` / `npx cdk deploy` (cdk.json runs this with tsx).
import { App } from 'aws-cdk-lib';
import { CertificateAutomationStack, checkWithCdkNag } from './stack.ts';

const app = new App();
new CertificateAutomationStack(app, 'CertificateAutomation', {
  dnsTargetSuffix: app.node.tryGetContext('dnsTargetSuffix') ?? 'edge.example.net',
  acmeDirectoryUrl: app.node.tryGetContext('acmeDirectoryUrl'),
  // Placeholders, like dnsTargetSuffix's, so `cdk synth` runs without context; deploy with the real ones.
  databaseHostSuffix: app.node.tryGetContext('databaseHostSuffix') ?? 'db.example.net',
  databaseHostedZoneId: app.node.tryGetContext('databaseHostedZoneId') ?? 'Z0000000000EXAMPLE',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
checkWithCdkNag(app);
