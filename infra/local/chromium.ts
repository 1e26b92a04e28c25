// The browser the console's tests and its README screenshot drive: Debian's `chromium`,
// headless, through puppeteer-core (which downloads no browser of its own).
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import puppeteer, { type Browser } from 'puppeteer-core';
import { ensureDebianPackage } from './debian-package.ts';

/** The program itself first: /usr/bin/chromium is the package's shell launcher around it. */
const CHROMIUM_PROGRAMS = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'];

/** Path of the chromium program; installs the Debian package when running as root. */
export function ensureChromiumInstalled(): Promise<string> {
  return ensureDebianPackage({ name: 'chromium', description: 'Chromium (the browser the console tests drive)', find: findChromium });
}

/** Headless Chromium, a fresh profile, 1280x800. Root (CI, containers) has no sandbox to offer it. */
export async function launchHeadlessChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: await ensureChromiumInstalled(),
    headless: true,
    defaultViewport: { width: 1280, height: 800 },
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}

async function findChromium(): Promise<string | undefined> {
  for (const program of CHROMIUM_PROGRAMS) {
    const runnable = await access(program, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (runnable) return program;
  }
  return undefined;
}
