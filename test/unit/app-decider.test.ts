import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideClaim, foldClaim, MAX_DOMAINS_PER_APP } from '../../functions/domain/app-decider.ts';
import type { AppEvent } from '../../functions/domain/events.ts';
import { givenApp } from './given.ts';

const attached = (hostname: string): AppEvent => ({ type: 'DomainAttached', data: { hostname } });
const upload = (name: string, certificateArn = `arn:cert/${name}`) => ({
  certificateArn,
  info: {
    name,
    managed: false,
    commonNames: ['shop.example.com'],
    issuer: 'CN=Some CA',
    subject: 'CN=shop.example.com',
    startsAt: '2026-11-01T00:00:00.000Z',
    expiresAt: '2027-11-01T00:00:00.000Z',
    trusted: true,
  },
});
const uploaded = (name: string): AppEvent => ({ type: 'CertificateUploaded', data: upload(name) });

describe('an app and its domains', () => {
  test('a domain is attached once: attaching it again decides nothing', () => {
    givenApp().when({ type: 'AttachDomain', hostname: 'www.example.com' }).then(attached('www.example.com'));
    givenApp(attached('www.example.com')).when({ type: 'AttachDomain', hostname: 'www.example.com' }).then();
  });

  test(`the ${MAX_DOMAINS_PER_APP + 1}st domain is refused with the rule`, () => {
    const full = Array.from({ length: MAX_DOMAINS_PER_APP }, (_, index) => attached(`d${index}.example.com`));
    givenApp(...full)
      .when({ type: 'AttachDomain', hostname: 'one-more.example.com' })
      .thenThrows('ConflictError', /at most 100 custom domains/);
  });

  test('detaching a domain the app does not have decides nothing', () => {
    givenApp(attached('www.example.com'))
      .when({ type: 'DetachDomain', hostname: 'www.example.com' })
      .then({ type: 'DomainDetached', data: { hostname: 'www.example.com' } });
    givenApp().when({ type: 'DetachDomain', hostname: 'www.example.com' }).then();
  });
});

describe('automation on and off', () => {
  test('an app seen for the first time records that automation is on, so it exists from then on', () => {
    givenApp().when({ type: 'EnableAcm' }).then({ type: 'AcmEnabled', data: {} });
    givenApp(attached('www.example.com')).when({ type: 'EnableAcm' }).then();
  });

  test('disabling is recorded once', () => {
    givenApp(attached('www.example.com'))
      .when({ type: 'DisableAcm' })
      .then({ type: 'AcmDisabled', data: { because: 'requested' } });
    givenApp({ type: 'AcmDisabled', data: { because: 'requested' } })
      .when({ type: 'DisableAcm' })
      .then();
  });

  test('an upload hands TLS to the owner: automation goes off with it, once', () => {
    givenApp()
      .when({ type: 'UploadCertificate', certificate: upload('shop') })
      .then(uploaded('shop'), { type: 'AcmDisabled', data: { because: 'certificate-uploaded' } });
    givenApp(uploaded('shop'), { type: 'AcmDisabled', data: { because: 'certificate-uploaded' } })
      .when({ type: 'UploadCertificate', certificate: upload('other') })
      .then(uploaded('other'));
  });

  test('replacing or removing an upload the app does not have is refused', () => {
    givenApp()
      .when({ type: 'ReplaceCertificate', certificate: upload('shop') })
      .thenThrows('NotFoundError', /certificate shop not found/);
    givenApp().when({ type: 'RemoveUploadedCertificate', name: 'shop' }).thenThrows('NotFoundError');
  });

  test('removing an upload keeps automation off, and names the ARN to delete', () => {
    givenApp(uploaded('shop'), { type: 'AcmDisabled', data: { because: 'certificate-uploaded' } })
      .when({ type: 'RemoveUploadedCertificate', name: 'shop' })
      .then({ type: 'UploadedCertificateRemoved', data: { name: 'shop', certificateArn: 'arn:cert/shop' } });
  });
});

describe('a deleted app', () => {
  test('is deleted once, and takes nothing more: no late domain or upload brings it back', () => {
    givenApp(attached('www.example.com')).when({ type: 'DeleteApp' }).then({ type: 'AppDeleted', data: {} });
    const deleted = givenApp(attached('www.example.com'), { type: 'AppDeleted', data: {} });
    deleted.when({ type: 'DeleteApp' }).then();
    deleted.when({ type: 'AttachDomain', hostname: 'late.example.com' }).thenThrows('NotFoundError', /was deleted/);
    deleted.when({ type: 'UploadCertificate', certificate: upload('late') }).thenThrows('NotFoundError');
    assert.deepEqual([deleted.state.deleted, deleted.state.domains], [true, []]);
  });
});

describe('hostname claims: one app at a time', () => {
  const claimedByDemo = foldClaim([{ type: 'HostnameClaimed', data: { app: 'demo' } }]);

  test('a free hostname is claimed; the owner claiming again decides nothing', () => {
    assert.deepEqual(decideClaim({ type: 'Claim', app: 'demo', hostname: 'www.example.com' }, foldClaim([])), [
      { type: 'HostnameClaimed', data: { app: 'demo' } },
    ]);
    assert.deepEqual(decideClaim({ type: 'Claim', app: 'demo', hostname: 'www.example.com' }, claimedByDemo), []);
  });

  test('another app is refused, and may not release it either', () => {
    assert.throws(() => decideClaim({ type: 'Claim', app: 'other', hostname: 'www.example.com' }, claimedByDemo), {
      name: 'ConflictError',
      message: /www\.example\.com is already a domain of another app/,
    });
    assert.deepEqual(decideClaim({ type: 'Release', app: 'other', hostname: 'www.example.com' }, claimedByDemo), []);
  });

  test('once released, another app may claim it', () => {
    const released = foldClaim([
      { type: 'HostnameClaimed', data: { app: 'demo' } },
      { type: 'HostnameReleased', data: { app: 'demo' } },
    ]);
    assert.deepEqual(decideClaim({ type: 'Claim', app: 'other', hostname: 'www.example.com' }, released), [
      { type: 'HostnameClaimed', data: { app: 'other' } },
    ]);
  });
});
