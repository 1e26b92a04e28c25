// cdk-nag's AwsSolutions checks over the stack: no finding is left unacknowledged, and every
// acknowledgement sits on the construct it is about, says why, and still matches a finding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { App, Validations, type Environment, type PolicyValidationPluginReport } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { CertificateAutomationStack, checkWithCdkNag } from '../../infra/stack.ts';

/** `npm run synth` without credentials (region and account unknown), and a deploy's (both known): finding ids differ. */
const ENVIRONMENTS: Record<string, Environment | undefined> = {
  offline: undefined,
  deploy: { account: '123456789012', region: 'eu-west-1' },
};

function synthesizable(env: Environment | undefined): App {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  new CertificateAutomationStack(app, 'CertificateAutomation', {
    dnsTargetSuffix: 'edge.example.test',
    databaseHostSuffix: 'db.example.test',
    databaseHostedZoneId: 'Z0123456789TESTZONE',
    env,
  });
  return app;
}

interface Finding {
  severity: string;
  rule: string;
  path: string;
}

const findingsOf = (report: PolicyValidationPluginReport): Finding[] =>
  report.violations.flatMap(({ ruleName, severity, violatingResources }) =>
    violatingResources.map(({ constructPath }) => ({
      severity: severity ?? 'error',
      rule: ruleName,
      path: constructPath ?? '(no construct path)',
    })),
  );

/** What the checks find with every acknowledgement ignored (cdk-nag asks its own `isAcknowledged`). */
function unacknowledgedFindings(app: App): Finding[] {
  const checks = new AwsSolutionsChecks();
  Object.assign(checks, { isAcknowledged: () => false });
  return findingsOf(checks.validateScope(app));
}

/** Every acknowledgement in the tree: on which construct, of which finding, and why. */
function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter(({ type }) => type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap(({ data }) =>
        Object.entries(data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          // As cdk-nag reads them: without the annotation namespace CDK records them under.
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

for (const [name, env] of Object.entries(ENVIRONMENTS)) {
  test(`AwsSolutions (${name}): no finding is left unacknowledged, and synth with the checks as a plugin succeeds`, () => {
    const app = synthesizable(env);
    const left = findingsOf(new AwsSolutionsChecks().validateScope(app));
    assert.deepEqual(
      left,
      [],
      `unacknowledged findings:\n${left.map(({ severity, rule, path }) => `  ${severity} ${rule} at ${path}`).join('\n')}`,
    );
    // As infra/app.ts runs them on `cdk synth` and `cdk deploy`.
    checkWithCdkNag(app);
    assert.doesNotThrow(() => app.synth());
  });

  test(`AwsSolutions (${name}): each acknowledgement names one finding on its own construct, says why, and still matches`, () => {
    const app = synthesizable(env);
    const acknowledged = acknowledgements(app);
    assert.ok(acknowledged.length > 0, 'the stack acknowledges findings');
    const found = unacknowledgedFindings(app);
    const stack = app.node.findChild('CertificateAutomation');
    for (const { path, id, reason } of acknowledged) {
      assert.match(id, /^AwsSolutions-[A-Z]+\d+(\[.+\])?$/, `${path}: ${id} is an AwsSolutions finding`);
      // cdk-nag 2 refused reasons under 10 characters; these say which wildcard or setting and why.
      assert.ok(reason.trim().length >= 10, `${path}: ${id} needs a reason, not "${reason}"`);
      assert.ok(path !== app.node.path && path !== stack.node.path, `${id} is acknowledged for the whole stack, not on a resource`);
      assert.ok(
        found.some((finding) => finding.rule === id && (finding.path === path || finding.path.startsWith(`${path}/`))),
        `${path}: ${id} matches no finding any more: drop the acknowledgement`,
      );
    }
  });
}
