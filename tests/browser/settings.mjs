// SPDX-License-Identifier: AGPL-3.0-or-later
// settings.mjs — an org's settings pages in a real browser (playwright-core
// driving Debian's chromium headless), at phone (390 px) and desktop
// (1280 px) widths: the admin's organisation page refuses a HELP reply
// without STOP, texting hours that end before they start and an unknown
// phone region with the server's sentence naming the field, shows the
// region the org falls back to, then saves good values (a phone region
// typed in lower case among them); a lead's
// canned responses and tags page creates (a title with markup shown as
// text), refuses a duplicate, edits, retires and restores; the volunteer's
// menus follow (a retired canned response and tag leave them, the tag
// stays on the conversation it was on). The database is checked by
// tests/integration/test_dashboard_settings_browser.sh and here through
// psql. Screenshots go to SCREENSHOTS.
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
  const [sw, cw] = await p.$eval('.subnav', (n) => [n.scrollWidth, n.clientWidth]);
  check(sw <= cw, `the sub-nav fits at ${width} px on ${what} (${sw} in ${cw})`);
};
const message = async (p, id) => (await p.textContent(`#${id}`)).trim();
const waitMessage = (p, id, text) => p.waitForSelector(`#${id} >> text=${text}`, { timeout: 60000 });

const browser = await launchChromium();
try {
  // --- the admin's organisation page, on a phone ---
  const admin = await phonePage(browser, problems, /401|400/);
  await logIn(admin, BASE, 'admin@demo.test', '.top nav >> text=Settings');
  await admin.click('.top nav >> text=Settings');
  await admin.waitForSelector('#settings-form');
  check((await admin.inputValue('#set-name')) === 'Tocsin Demo Chapter', 'the form shows the org name');
  await noSideScroll(admin, 390, 'the organisation page');
  const before = sql('SELECT row(o.*)::text FROM orgs o WHERE slug = $$demo$$');

  await admin.fill('#set-help', 'Tocsin Demo Chapter: 4 msgs/mo. Msg&data rates may apply. Reply HELP for help.');
  await admin.click('#settings-form button[type=submit]');
  await waitMessage(admin, 'settings-message', 'help_text');
  const helpErr = await message(admin, 'settings-message');
  check(helpErr.includes('STOP'), `a HELP reply without STOP is refused, saying why: "${helpErr}"`);
  check((await admin.$('#settings-message .error[role=alert]')) !== null, 'shown as an error');

  await admin.fill('#set-help', '');
  await admin.selectOption('#set-start', '20');
  await admin.selectOption('#set-end', '9');
  await admin.click('#settings-form button[type=submit]');
  await waitMessage(admin, 'settings-message', 'texting_hours_end');
  check(true, `hours that end before they start are refused: "${await message(admin, 'settings-message')}"`);
  await admin.fill('#set-cap', '0');
  await admin.selectOption('#set-start', '9');
  await admin.selectOption('#set-end', '20');
  await admin.click('#settings-form button[type=submit]');
  await waitMessage(admin, 'settings-message', 'volunteer_max_conversations');
  check(true, 'a cap of 0 is refused, naming the field');
  check(
    (await message(admin, 'set-region-now')) === 'Numbers without +country are read as US, the server’s default.',
    `the page says which region applies while the org has none: "${await message(admin, 'set-region-now')}"`,
  );
  await admin.fill('#set-cap', '4');
  await admin.fill('#set-region', 'ZZ');
  await admin.click('#settings-form button[type=submit]');
  await waitMessage(admin, 'settings-message', 'phone_region');
  const regionErr = await message(admin, 'settings-message');
  check(regionErr.includes('no country has this code'), `an unknown region is refused, saying why: "${regionErr}"`);
  check(sql('SELECT row(o.*)::text FROM orgs o WHERE slug = $$demo$$') === before, 'the refusals changed nothing');

  const spanish =
    'Tocsin Demo Chapter: hasta 4 mensajes al mes. Pueden aplicarse tarifas de mensajes y datos. Responde AYUDA para ayuda, ALTO para cancelar.';
  await admin.fill('#set-help-es', spanish);
  await admin.fill('#set-cap', '4');
  await admin.fill('#set-release', '45');
  await admin.fill('#set-region', 'mx');
  await admin.click('#settings-form button[type=submit]');
  await waitMessage(admin, 'settings-message', 'Settings saved');
  check(
    sql(
      'SELECT concat_ws($$,$$, texting_hours_start, texting_hours_end, volunteer_max_conversations, release_after_minutes, phone_region, help_text_es = $t$' +
        spanish +
        '$t$) FROM orgs WHERE slug = $$demo$$',
    ) === '9,20,4,45,MX,t',
    'good values saved',
  );
  check((await admin.$('#settings-message .success')) !== null, 'and confirmed as a success');
  check(
    (await message(admin, 'set-region-now')) === 'Numbers without +country are read as MX.',
    'the page says the org now reads numbers as MX',
  );
  await noSideScroll(admin, 390, 'the organisation page after saving');
  await admin.screenshot({ path: `${SHOTS}/dashboard-settings-phone.png`, fullPage: true });

  // --- a lead's canned responses and tags, on a phone ---
  const lead = await phonePage(browser, problems, /401|409/);
  await logIn(lead, BASE, 'lead@demo.test', '.top nav >> text=Settings');
  await lead.click('.top nav >> text=Settings');
  await lead.waitForSelector('#canned-form');
  check(!(await lead.isVisible('.subnav >> text=Organisation')), 'a lead has no organisation page');
  await noSideScroll(lead, 390, 'the shared texts page');
  const markup = '<img src=x onerror=window.__xss=1>';
  await lead.fill('#canned-title', markup);
  await lead.fill('#canned-body', 'Thanks for writing, {first_name|friend}!');
  check((await lead.textContent('#canned-count')).includes('GSM-7'), 'the body has the live segment counter');
  await lead.click('#canned-form button[type=submit]');
  await waitMessage(lead, 'texts-message', 'saved');
  check((await lead.textContent('#canned')).includes(markup), 'a title with markup is shown as text');
  check((await lead.$('#canned img')) === null, 'and never becomes an element');
  await lead.fill('#canned-title', 'Ride');
  await lead.fill('#canned-body', 'We can get you a ride: reply with your address.');
  await lead.click('#canned-form button[type=submit]');
  await lead.waitForSelector('#canned li:has-text("Ride")');
  await lead.fill('#canned-title', 'ride');
  await lead.fill('#canned-body', 'Again');
  await lead.click('#canned-form button[type=submit]');
  await waitMessage(lead, 'canned-message', 'already exists');
  check(true, 'a second live "ride" is refused with the reason');
  await lead.click('#canned li:has-text("Ride") >> text=Edit');
  check((await lead.inputValue('#canned-title')) === 'Ride', 'Edit fills the form');
  await lead.fill('#canned-body', 'We can get you a ride: reply with your address and a time.');
  await lead.click('#canned-form button[type=submit]');
  await lead.waitForSelector('#canned >> text=and a time');
  check(sql('SELECT count(*) FROM canned_responses WHERE title = $$Ride$$') === '1', 'edited in place');

  // One for a campaign: offered only in that campaign's conversations.
  await lead.fill('#canned-title', 'Door script');
  await lead.fill('#canned-body', 'We knocked on your door today!');
  await lead.selectOption('#canned-scope', { label: 'Campaign: Doors' });
  await lead.click('#canned-form button[type=submit]');
  await lead.waitForSelector('#canned li:has-text("Door script") >> text=Campaign: Doors');
  check(true, 'a canned response for the campaign Doors');

  await lead.fill('#tag-name', 'needs a ride');
  await lead.click('#tag-form button[type=submit]');
  await lead.waitForSelector('#tags li:has-text("needs a ride")');
  await lead.fill('#tag-name', 'spanish');
  await lead.click('#tag-form button[type=submit]');
  await lead.waitForSelector('#tags li:has-text("spanish")');
  await noSideScroll(lead, 390, 'the shared texts page with items');
  await lead.screenshot({ path: `${SHOTS}/dashboard-texts-phone.png`, fullPage: true });

  // A new campaign left with empty hours takes the org's (saved above: 9 to 20).
  await lead.goto(`${BASE}/#/outreach`);
  await lead.waitForSelector('#oc-create');
  check(
    (await lead.inputValue('#oc-from')) === '' && (await lead.inputValue('#oc-to')) === '',
    'the hours start empty',
  );
  await lead.fill('#oc-name', 'Phone bank');
  await lead.fill('#oc-script', 'Hi {first_name|there}, can you phone bank Sunday?');
  await lead.click('#oc-create button[type=submit]');
  await lead.waitForSelector('#oc-progress');
  check(
    sql('SELECT hours_start || $$-$$ || hours_end FROM outreach_campaigns WHERE name = $$Phone bank$$') === '9-20',
    "a campaign created with empty hours has the org's texting hours",
  );
  await lead.waitForSelector('text=Texting hours 9:00–20:00');
  check(true, 'and shows them');
  await lead.goto(`${BASE}/#/settings/texts`);
  await lead.waitForSelector('#canned-form');

  // --- the volunteer's menus follow ---
  const vol = await phonePage(browser, problems);
  await logIn(vol, BASE, 'vol1@demo.test');
  check(!(await vol.isVisible('.top nav >> text=Settings')), 'volunteers have no Settings link');
  await vol.goto(`${BASE}/#/c/${CONV}`);
  await vol.waitForSelector('#canned');
  const options = await vol.$$eval('#canned option', (o) => o.map((x) => x.textContent));
  check(
    options.includes('Ride') && options.includes(markup),
    `the canned menu offers the new responses (${options.join(' | ')})`,
  );
  check(!options.some((o) => o.includes('Door script')), "another campaign's response is not offered here");
  await vol.selectOption('select[aria-label="Add a tag"]', { label: 'needs a ride' });
  await vol.waitForSelector('.tags >> text=needs a ride');

  await lead.click('#canned li:has-text("Ride") >> [data-action=retire]');
  await waitMessage(lead, 'texts-message', 'retired');
  await lead.click('#tags li:has-text("needs a ride") >> [data-action=retire]');
  await lead.waitForSelector('#tags li.retired:has-text("needs a ride")');
  check(
    (await lead.textContent('#tags li:has-text("needs a ride")')).includes('1 conversation'),
    'the retired tag shows it is still on a conversation',
  );

  await vol.reload();
  await vol.waitForSelector('#canned');
  const after = await vol.$$eval('#canned option', (o) => o.map((x) => x.textContent));
  check(!after.includes('Ride'), 'a retired canned response leaves the menu');
  const tagOptions = await vol.$$eval('select[aria-label="Add a tag"] option', (o) => o.map((x) => x.textContent));
  check(!tagOptions.includes('needs a ride') && tagOptions.includes('spanish'), 'a retired tag leaves the tag menu');
  check(await vol.isVisible('.tags >> text=needs a ride'), 'and stays on the conversation it was on');

  await lead.click('#tags li:has-text("needs a ride") >> [data-action=restore]');
  await waitMessage(lead, 'texts-message', 'restored');
  check(sql('SELECT retired_at IS NULL FROM tags WHERE name = $$needs a ride$$') === 't', 'restored');

  // --- desktop width ---
  const desk = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const deskPage = await desk.newPage();
  deskPage.on('pageerror', (e) => problems.push(`desktop page error: ${e.message}`));
  await logIn(deskPage, BASE, 'admin@demo.test', '.top nav >> text=Settings');
  await deskPage.goto(`${BASE}/#/settings`);
  await deskPage.waitForSelector('#settings-form');
  check((await deskPage.inputValue('#set-release')) === '45', 'the saved release time is shown');
  check((await deskPage.inputValue('#set-region')) === 'MX', 'and the saved phone region');
  await noSideScroll(deskPage, 1280, 'the organisation page');
  await deskPage.screenshot({ path: `${SHOTS}/dashboard-settings-desktop.png`, fullPage: true });
  await deskPage.click('.subnav >> text=Canned responses');
  await deskPage.waitForSelector('#canned-form');
  await noSideScroll(deskPage, 1280, 'the shared texts page');
  await deskPage.screenshot({ path: `${SHOTS}/dashboard-texts-desktop.png`, fullPage: true });

  check(!(await admin.evaluate(() => window.__xss)) && !(await lead.evaluate(() => window.__xss)), 'no markup ran');
  check(problems.length === 0, `no page errors: ${problems.join('; ')}`);
} finally {
  await browser.close();
}
