// SPDX-License-Identifier: AGPL-3.0-or-later
// admin.mjs — an admin runs the org from a phone (390 px, playwright-core
// driving Debian's chromium headless): imports a vendor's opt-out list
// (the preview of its first rows, a formula shown as text, the phone
// column suggested; the report with counts and line numbers), finds the
// export, is refused the undo of a member's own STOP with the rule in
// words, undoes an imported one with a reason; on People invites a lead
// and revokes it, makes a volunteer a lead, disables (asked first) and
// re-enables another, and resets a password whose link the volunteer
// then uses to log in; a lead finds the import
// from the audiences page and sees no undo. Nothing on these pages
// scrolls the page sideways. Run by
// tests/integration/test_dashboard_admin_browser.sh, which checks the
// database; screenshots go to SCREENSHOTS.
import { check, launchChromium, phonePage, logIn } from './harness.mjs';
import { mkdirSync } from 'node:fs';

const BASE = process.env.DASH;
const SHOTS = process.env.SCREENSHOTS;
const CSV = process.env.OPTOUT_CSV;
if (!BASE || !SHOTS || !CSV) throw new Error('DASH, SCREENSHOTS and OPTOUT_CSV must be set');
mkdirSync(SHOTS, { recursive: true });

const noSideScroll = async (p, what) => {
  const w = await p.evaluate(() => document.scrollingElement.scrollWidth);
  check(w <= 390, `no horizontal scroll at 390 px on ${what} (${w})`);
  const [sw, cw] = await p.$eval('.subnav', (n) => [n.scrollWidth, n.clientWidth]);
  check(sw <= cw, `the sub-nav fits at 390 px on ${what} (${sw} in ${cw})`);
};

const problems = [];
const browser = await launchChromium();
try {
  // The undo without a reason answers 400 on purpose.
  const page = await phonePage(browser, problems, /40[01]/);
  await logIn(page, BASE, 'admin@demo.test', '.top nav >> text=Org');
  check(
    await page.evaluate(() => document.documentElement.scrollWidth <= 390),
    "the admin's top bar fits a 390 px screen",
  );
  await page.click('.top nav >> text=Org');
  await page.waitForSelector('.subnav >> text=Opt-outs');
  await page.click('.subnav >> text=Opt-outs');
  await page.waitForSelector('#optout-file');
  await noSideScroll(page, 'the opt-outs page');

  // --- import, with the preview ---
  await page.setInputFiles('#optout-file', {
    name: 'spoke-optouts.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(CSV),
  });
  await page.waitForSelector('#optout-preview table');
  const heads = await page.$$eval('#optout-preview th', (ths) => ths.map((t) => t.textContent));
  check(heads.join('|') === 'Line|Cell Phone|name|notes', `the preview's header, BOM gone: ${heads.join('|')}`);
  check((await page.$eval('#optout-column', (s) => s.value)) === 'Cell Phone', 'the phone column is suggested');
  check(
    /without \+country are read as US/.test(await page.textContent('#optout-region')),
    'the preview says how numbers without a country code are read',
  );
  const cells = await page.$$eval('#optout-preview tbody td', (tds) => tds.map((t) => t.textContent));
  check(cells.includes('=HYPERLINK("http://evil")'), 'a formula in the file is shown as text');
  check(cells.includes('<img src=x onerror=window.__xss=1>'), 'markup in the file is shown as text');
  check(await page.evaluate(() => window.__xss === undefined), 'the <img onerror> in the file did not run');
  const box = await page.$eval('#optout-preview .scroll', (e) => [e.clientWidth, e.scrollWidth]);
  check(box[0] <= 390, `the preview table stays in its box (${box})`);
  await noSideScroll(page, 'the preview');
  await page.screenshot({ path: `${SHOTS}/dashboard-optout-preview-phone.png`, fullPage: true });
  await page.click('#optout-import button[type=submit]');
  await page.waitForSelector('#optout-report >> text=rows:', { timeout: 15000 });
  const report = await page.textContent('#optout-report p');
  check(
    /6 rows: 2 newly opted out, 1 already opted out, 2 invalid, 1 repeated/.test(report),
    `the import's report: ${report}`,
  );
  const lines = await page.$$eval('#optout-report tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
  check(lines.join(',') === '5,8', `invalid rows by line: ${lines}`);
  await noSideScroll(page, 'the import report');
  await page.screenshot({ path: `${SHOTS}/dashboard-optout-import-phone.png`, fullPage: true });

  // --- export ---
  const href = await page.getAttribute('#optout-export', 'href');
  const res = await page.request.get(`${BASE}${href}`);
  const csv = await res.text();
  check(
    res.status() === 200 && csv.startsWith('phone,opted_out_at,source,keyword,evidence'),
    'the export link downloads the CSV',
  );
  check(csv.includes("'+14155550501,") && csv.includes('import:'), 'the imported numbers are in it, as text');

  // --- undo ---
  await page.fill('#undo-phone', '(415) 555-0505');
  await page.click('#optout-undo button[type=submit]');
  const refused = await (await page.waitForSelector('#undo-refused')).textContent();
  check(
    /only they can undo it, by texting START/.test(refused),
    `a member's own STOP is refused, with the rule: ${refused}`,
  );
  check(!(await page.isVisible('#undo-confirm')), 'no undo button for it');
  await page.fill('#undo-phone', '415-555-0501');
  await page.click('#optout-undo button[type=submit]');
  await page.waitForSelector('#undo-confirm');
  await page.click('#undo-confirm');
  const short = await (await page.waitForSelector('#undo-out .error:not(:empty)')).textContent();
  check(/say why/.test(short), `a reason is required: ${short}`);
  await page.fill('#undo-reason', 'Ana rejoined at the meeting');
  await page.click('#undo-confirm');
  const done = await (await page.waitForSelector('#undo-out .success')).textContent();
  check(/\+14155550501 may be texted again/.test(done), `undone: ${done}`);
  await noSideScroll(page, 'the undo');
  await page.screenshot({ path: `${SHOTS}/dashboard-optout-undo-phone.png`, fullPage: true });

  // --- people ---
  await page.click('.subnav >> text=People');
  await page.waitForSelector('#people-users');
  await noSideScroll(page, 'the people page');
  await page.fill('#people-email', 'new.lead@demo.test');
  await page.selectOption('#people-role', 'lead');
  await page.click('#people-invite button[type=submit]');
  const url = await (await page.waitForSelector('#people-link .link-once')).inputValue();
  check(/#token=[A-Za-z0-9_-]{40,}$/.test(url), `the invite link, token in the fragment: ${url.replace(/=.*/, '=…')}`);
  await page.waitForSelector('#people-invites >> text=new.lead@demo.test');
  check(/lead/.test(await page.textContent('#people-invites')), 'the pending invite shows its role');
  await page.click('#people-invites .revoke');
  await page.waitForSelector('#people-invites', { state: 'detached' });
  const volRow = (email) => `#people-users li:has-text("${email}")`;
  // The change is saved, then the list is read again: wait for both.
  const refreshed = page.waitForResponse((r) => r.url().endsWith('/api/people') && r.request().method() === 'GET');
  const saved = page.waitForResponse((r) => r.url().endsWith('/role') && r.request().method() === 'POST');
  await page.selectOption(`${volRow('vol1@demo.test')} select.role`, 'lead');
  check((await saved).status() === 200, 'the role change is saved');
  await refreshed;
  await page.click(`${volRow('vol2@demo.test')} button.disable`);
  check(await page.isVisible(`${volRow('vol2@demo.test')} .confirm`), 'disabling asks first, saying what it does');
  await page.click(`${volRow('vol2@demo.test')} .confirm-yes`);
  await page.waitForSelector(`${volRow('vol2@demo.test')} >> text=disabled`);
  await noSideScroll(page, 'the people page with a disabled user');
  await page.screenshot({ path: `${SHOTS}/dashboard-people-phone.png`, fullPage: true });
  await page.click(`${volRow('vol2@demo.test')} button.enable`);
  await page.waitForSelector(`${volRow('vol2@demo.test')} button.disable`);
  await page.click(`${volRow('vol1@demo.test')} button.reset`);
  await page.waitForSelector('#people-link >> text=old password no longer works');
  const reset = await page.inputValue('#people-link .link-once');
  const vol = await phonePage(browser, problems);
  await vol.goto(reset);
  await vol.waitForSelector('text=New password for');
  await vol.fill('#new-password', 'my new password 42');
  await vol.click('button[type=submit]');
  await vol.waitForSelector('text=Your new password is set');
  await vol.fill('#email', 'vol1@demo.test');
  await vol.fill('#password', 'my new password 42');
  await vol.click('button[type=submit]');
  await vol.waitForSelector('.top nav >> text=Blasts'); // a lead now
  check(true, 'volunteer 1 logs in with the new password, as a lead');

  // --- a lead: the import from the audiences page, no undo ---
  const lead = await phonePage(browser, problems);
  await logIn(lead, BASE, 'lead@demo.test', '.top nav >> text=Blasts');
  check(!(await lead.isVisible('.top nav >> text=Org')), 'a lead has no Org link');
  await lead.goto(`${BASE}/#/lists`);
  await lead.click('#to-opt-outs');
  await lead.waitForSelector('#optout-file');
  check(
    !(await lead.isVisible('#optout-undo')) && !(await lead.isVisible('#optout-export')),
    'a lead sees no undo and no export',
  );
  await noSideScroll(lead, "the lead's opt-outs page");
  await lead.goto(`${BASE}/#/people`);
  await lead.waitForSelector('text=My conversations');
  check(!(await lead.isVisible('#people')), 'a lead is not shown the people page');

  check(problems.length === 0, `no page errors: ${problems.join('; ')}`);
} finally {
  await browser.close();
}
