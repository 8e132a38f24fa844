// SPDX-License-Identifier: AGPL-3.0-or-later
// privacy.mjs — an admin's privacy page in a real browser (playwright-core
// driving Debian's chromium headless), on a phone (390 px) and at desktop
// width (1280 px): retention days out of bounds refused with the server's
// sentence naming the field, then saved with one custom field shown to
// volunteers; the volunteer's conversation then shows that field and not
// the others; from the conversation's menu the admin opens "Forget this
// member", sees what would go and what the law keeps (the opt-out, the
// consent records), is refused without the typed word, and forgets her
// once she types it. Screenshots go to SCREENSHOTS.
import { check, launchChromium, phonePage, logIn, sql } from './harness.mjs';
import { mkdirSync } from 'node:fs';

const BASE = process.env.DASH;
const SHOTS = process.env.SCREENSHOTS;
const CONV = process.env.CONVERSATION;
if (!BASE || !SHOTS || !CONV || !process.env.PSQL)
  throw new Error('DASH, SCREENSHOTS, CONVERSATION and PSQL must be set');
mkdirSync(SHOTS, { recursive: true });

const problems = [];
const noSideScroll = async (p, width, what) => {
  const w = await p.evaluate(() => document.scrollingElement.scrollWidth);
  check(w <= width, `no horizontal scroll at ${width} px on ${what} (${w})`);
};
const waitText = (p, sel, text) => p.waitForSelector(`${sel} >> text=${text}`, { timeout: 60000 });

const browser = await launchChromium();
try {
  // --- the admin's privacy page, on a phone ---
  const admin = await phonePage(browser, problems, /401|400/);
  await logIn(admin, BASE, 'admin@demo.test', '.top nav >> text=Settings');
  await admin.click('.top nav >> text=Settings');
  await admin.click('.subnav >> text=Privacy');
  await admin.waitForSelector('#privacy-form');
  check((await admin.inputValue('#priv-out')) === '365', 'texts sent: 365 days by default');
  check(await admin.isChecked('#priv-field-first_name'), 'volunteers see the first name by default');
  check(!(await admin.isChecked('#priv-field-last_name')), 'and not the last name');
  check(await admin.isVisible('#priv-field-county'), "the contacts' custom fields are offered");
  check((await admin.textContent('#privacy-consent')).includes('5 years'), 'says consent records are kept five years');
  await noSideScroll(admin, 390, 'the privacy page');
  const before = sql('SELECT row(o.*)::text FROM orgs o WHERE slug = $$demo$$');
  await admin.fill('#priv-out', '7');
  await admin.click('#privacy-form button[type=submit]');
  await waitText(admin, '#privacy-message', 'retain_outbound_days');
  check(true, 'seven days is refused, naming the field');
  check(sql('SELECT row(o.*)::text FROM orgs o WHERE slug = $$demo$$') === before, 'the refusal changed nothing');
  await admin.fill('#priv-out', '180');
  await admin.check('#priv-field-county');
  await admin.click('#privacy-form button[type=submit]');
  await waitText(admin, '#privacy-message', 'Privacy settings saved');
  check(
    sql(
      "SELECT retain_outbound_days || ' ' || array_to_string(volunteer_fields, ',') FROM orgs WHERE slug = $$demo$$",
    ) === '180 first_name,county',
    'saved: 180 days, first name and county shown',
  );
  await admin.screenshot({ path: `${SHOTS}/dashboard-privacy-phone.png`, fullPage: true });

  // --- the volunteer sees the shown field only ---
  const vol = await phonePage(browser, problems);
  await logIn(vol, BASE, 'vol1@demo.test');
  await vol.goto(`${BASE}/#/c/${CONV}`);
  await vol.waitForSelector('.conversation h2');
  check((await vol.textContent('.conversation h2')).trim() === 'Ana', 'the volunteer sees the first name only');
  const fields = await vol.textContent('.conversation .fields');
  check(fields.includes('Alameda') && !fields.includes('Local 12'), `the shown field only: "${fields}"`);
  check(!(await vol.content()).includes('Quintero'), 'no last name anywhere on her page');
  check(!(await vol.isVisible('#forget')), 'a volunteer has no forget action');

  // --- forget, from the conversation ---
  await admin.goto(`${BASE}/#/c/${CONV}`);
  await admin.waitForSelector('.conversation h2 >> text=Ana Quintero');
  await admin.click('summary[aria-label="More actions"]');
  await admin.click('#forget');
  await admin.waitForSelector('#forget-form');
  check((await admin.inputValue('#forget-phone')) === '+14155550123', 'the number comes from the conversation');
  await admin.click('#forget-look');
  await admin.waitForSelector('#forget-preview');
  const kept = await admin.textContent('#forget-kept');
  check(kept.includes('opt-out') && kept.includes('consent records'), `says what the law keeps: "${kept}"`);
  await noSideScroll(admin, 390, 'the forget preview');
  await admin.screenshot({ path: `${SHOTS}/dashboard-forget-phone.png`, fullPage: true });
  await admin.fill('#forget-confirm', 'yes');
  await admin.click('#forget-go');
  await waitText(admin, '#forget-message', 'type FORGET');
  check(
    sql('SELECT forgotten_at IS NULL FROM contacts WHERE phone = $$+14155550123$$') === 't',
    'not without the word',
  );
  await admin.fill('#forget-confirm', 'FORGET');
  await admin.click('#forget-go');
  await admin.waitForSelector('#forget-done');
  check((await admin.textContent('#forget-done')).includes('Kept, as the law requires'), 'says again what was kept');
  check(
    sql(
      "SELECT concat_ws(' ', forgotten_at IS NOT NULL, first_name IS NULL, fields = '{}', (SELECT count(*) FROM conversations WHERE contact_id = c.id), (SELECT count(*) FROM opt_outs o WHERE o.phone = c.phone)) FROM contacts c WHERE phone = $$+14155550123$$",
    ) === 't t t 0 1',
    'forgotten: no name, no fields, no conversation; the opt-out stays',
  );

  // --- desktop width ---
  const desk = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const deskPage = await desk.newPage();
  deskPage.on('pageerror', (e) => problems.push(`desktop page error: ${e.message}`));
  await logIn(deskPage, BASE, 'admin@demo.test', '.top nav >> text=Settings');
  await deskPage.goto(`${BASE}/#/settings/privacy`);
  await deskPage.waitForSelector('#privacy-form');
  check((await deskPage.inputValue('#priv-out')) === '180', 'the saved days are shown');
  await deskPage.fill('#forget-phone', '(415) 555-0177');
  await deskPage.click('#forget-look');
  await deskPage.waitForSelector('#forget-preview');
  await noSideScroll(deskPage, 1280, 'the privacy page');
  await deskPage.screenshot({ path: `${SHOTS}/dashboard-privacy-desktop.png`, fullPage: true });

  check(problems.length === 0, `no page errors: ${problems.join('; ')}`);
} finally {
  await browser.close();
}
