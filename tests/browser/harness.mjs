// SPDX-License-Identifier: AGPL-3.0-or-later
// harness.mjs — what every browser test shares: Debian's chromium launched
// headless through playwright-core, pages that record page errors, dialogs
// and console errors as problems (the test fails on any), and check().
import { chromium } from 'playwright-core';

/** Throws "FAIL: what" unless cond; prints "ok - what". */
export function check(cond, what) {
  if (!cond) throw new Error(`FAIL: ${what}`);
  console.log(`ok - ${what}`);
}

/** Debian's chromium (or $CHROMIUM), headless. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/** A phone-sized page (390x844, touch) whose errors land in problems;
 * console errors matching `expected` (e.g. /401/) are not problems. */
export async function phonePage(browser, problems, expected = /401/) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  const page = await context.newPage();
  page.on('dialog', (d) => {
    problems.push(`a dialog opened: ${d.message()}`);
    d.dismiss();
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !expected.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return page;
}

/** Logs page in at base as a demo user (password tocsin-demo) and waits
 * for `ready` (a selector of the first page she sees). */
export async function logIn(page, base, email, ready = 'text=My conversations') {
  await page.goto(`${base}/`);
  await page.fill('#email', email);
  await page.fill('#password', 'tocsin-demo');
  await page.click('button[type=submit]');
  await page.waitForSelector(ready);
}
