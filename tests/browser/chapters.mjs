// SPDX-License-Identifier: AGPL-3.0-or-later
// chapters.mjs — a national admin's Chapters page at desktop width and at
// 390 px (playwright-core driving Debian's chromium headless): the list
// with its counts and phone regions (the server's default named for a
// chapter without one), a chapter created (its short name suggested from its
// name; an unknown phone region refused, then made in PR), its first admin invited (the link shown once, then used to make
// the account), entering a chapter refused without a reason and done with
// one (the app starts over in the chapter, a banner on every page says so
// and the chapter's conversation opens), and leaving (the banner goes, the
// chapter's conversation is out of reach). The new chapter admin sees no
// Chapters link; the entered chapter's admin sees the national admin's
// acting account on People, marked, with no password reset, and ends her
// next visit from there ("End visit": her own session goes on). While she
// acts, her Account page shows her own sessions and two-factor state and
// offers no two-factor change. Nothing scrolls sideways at 390 px. Run by
// tests/integration/test_dashboard_chapters_browser.sh, which checks the
// database; screenshots go to SCREENSHOTS.
import { check, launchChromium, phonePage, logIn, sql } from './harness.mjs';
import { mkdirSync } from 'node:fs';

const BASE = process.env.DASH;
const SHOTS = process.env.SCREENSHOTS;
const CONV = process.env.CONV;
const DEMO = process.env.DEMO_NAME;
if (!BASE || !SHOTS || !CONV || !DEMO) throw new Error('DASH, SCREENSHOTS, CONV and DEMO_NAME must be set');
mkdirSync(SHOTS, { recursive: true });

const fits = async (p, what) => {
  const w = await p.evaluate(() => document.scrollingElement.scrollWidth);
  check(w <= 390, `no horizontal scroll at 390 px on ${what} (${w})`);
};
const chapter = (slug) => `#chapters li:has-text("${slug}")`;

// Enters the chapter whose row shows slug, with reason; waits for the banner.
async function enter(page, slug, reason) {
  if (!(await page.isVisible(`${chapter(slug)} .enter-reason`))) await page.click(`${chapter(slug)} button.enter`);
  await page.fill(`${chapter(slug)} .enter-reason`, reason);
  await page.click(`${chapter(slug)} .enter-yes`);
  await page.waitForSelector('#acting-banner');
}

const problems = [];
const browser = await launchChromium();
try {
  // --- desktop ---
  const desk = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  desk.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  desk.on('console', (m) => {
    // The entry without a reason and the conversation after leaving answer 400 and 404 on purpose.
    if (m.type() === 'error' && !/40[014]/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await logIn(desk, BASE, 'admin@nat.test', '.top nav >> text=Org');
  await desk.click('.top nav >> text=Org');
  await desk.click('.subnav >> text=Chapters');
  await desk.waitForSelector(chapter('demo'));
  const row = await desk.textContent(chapter('demo'));
  check(/1 members · 1 senders/.test(row), `the demo chapter with its counts: ${row}`);
  check(row.includes('admins: Ada Admin'), `and its admin: ${row}`);
  const region = await desk.textContent(`${chapter('demo')} .chapter-region`);
  check(
    region === 'Phone region CA (the server’s default)',
    `a chapter without its own region: the default: ${region}`,
  );

  await desk.fill('#chapter-name', 'East Side');
  check((await desk.inputValue('#chapter-slug')) === 'east-side', 'the short name is suggested from the name');
  await desk.fill('#chapter-region', 'ZZ');
  await desk.click('#chapter-create button[type=submit]');
  await desk.waitForSelector('#chapter-create-error >> text=no country has this code');
  check(!(await desk.$(chapter('east-side'))), 'an unknown phone region is refused, saying why');
  await desk.fill('#chapter-region', 'pr');
  await desk.click('#chapter-create button[type=submit]');
  await desk.waitForSelector(chapter('east-side'));
  check(/no admin yet/.test(await desk.textContent(chapter('east-side'))), 'the new chapter has no admin yet');
  check(
    (await desk.textContent(`${chapter('east-side')} .chapter-region`)) === 'Phone region PR',
    'the new chapter lists its own phone region',
  );

  await desk.click(`${chapter('east-side')} button.invite-admin`);
  await desk.fill(`${chapter('east-side')} .invite-email`, 'first@east.test');
  await desk.click(`${chapter('east-side')} form:not([hidden]) button[type=submit]`);
  await desk.waitForSelector('#chapter-link .link-once');
  const url = await desk.inputValue('#chapter-link .link-once');
  check(/#token=[A-Za-z0-9_-]{40,}$/.test(url), 'the invite link, token in the fragment');
  await desk.waitForSelector(`${chapter('east-side')} >> text=invite pending`);

  // No reason: refused, nothing entered.
  await desk.click(`${chapter('demo')} button.enter`);
  await desk.click(`${chapter('demo')} .enter-yes`);
  await desk.waitForSelector(`${chapter('demo')} .error >> text=say why`);
  check(!(await desk.$('#acting-banner')), 'no banner after a refused entry');
  await enter(desk, 'demo', 'Help the demo chapter with its backlog');
  const banner = await desk.textContent('#acting-banner');
  check(banner.includes(DEMO) && banner.includes('National Body'), `the banner names the chapter and home: ${banner}`);
  await desk.goto(`${BASE}/#/c/${CONV}`);
  await desk.waitForSelector('text=a demo member writes');
  check(!!(await desk.$('#acting-banner')), 'the banner stays on every page');
  await desk.screenshot({ path: `${SHOTS}/dashboard-chapters-acting-desktop.png`, fullPage: true });
  await desk.click('#acting-leave');
  await desk.waitForSelector('#acting-banner', { state: 'detached' });
  await desk.goto(`${BASE}/#/c/${CONV}`);
  await desk.waitForSelector('#gone');
  check(!(await desk.$('text=a demo member writes')), "after leaving, the chapter's conversation is out of reach");
  await desk.goto(`${BASE}/#/chapters`);
  await desk.waitForSelector(chapter('east-side'));
  await desk.screenshot({ path: `${SHOTS}/dashboard-chapters-desktop.png`, fullPage: true });

  // --- phone ---
  const phone = await phonePage(browser, problems, /40[014]/);
  await logIn(phone, BASE, 'admin@nat.test', '.top nav >> text=Org');
  await phone.goto(`${BASE}/#/chapters`);
  await phone.waitForSelector(chapter('east-side'));
  await fits(phone, 'the Chapters page');
  for (const slug of ['east-side', 'demo']) {
    const box = await phone.$eval(`${chapter(slug)} .chapter-region`, (n) => {
      const r = n.getBoundingClientRect();
      return [r.right, r.height > 0];
    });
    check(box[0] <= 390 && box[1], `${slug}'s phone region is shown within 390 px (${box[0]})`);
  }
  const [sw, cw] = await phone.$eval('.subnav', (n) => [n.scrollWidth, n.clientWidth]);
  check(sw <= cw, `the sub-nav fits at 390 px (${sw} in ${cw})`);
  await phone.click(`${chapter('east-side')} button.enter`);
  await fits(phone, 'the entry form');
  await phone.screenshot({ path: `${SHOTS}/dashboard-chapters-phone.png`, fullPage: true });
  await enter(phone, 'east-side', 'Set up the new chapter');
  await fits(phone, 'the acting banner');
  check(/East Side/.test(await phone.textContent('#acting-banner')), 'acting in East Side');
  await phone.screenshot({ path: `${SHOTS}/dashboard-chapters-acting-phone.png`, fullPage: true });
  // Her Account page while acting: her own sessions and two-factor state,
  // which she may not change from inside the chapter.
  await phone.goto(`${BASE}/#/account`);
  await phone.waitForSelector('#two-factor-acting');
  const note = await phone.textContent('#two-factor-acting');
  check(
    /East Side/.test(note) && /National Body/.test(note),
    `the Account page says where she is and where to go: ${note}`,
  );
  check(
    !(await phone.$('#enrol-start')) && !(await phone.$('#two-factor-off-open')),
    'and offers no two-factor change',
  );
  await phone.waitForSelector('#session-list li >> text=this device');
  await fits(phone, 'the Account page while acting');
  await phone.screenshot({ path: `${SHOTS}/dashboard-chapters-acting-account-phone.png`, fullPage: true });
  await phone.click('#acting-leave');
  await phone.waitForSelector('#acting-banner', { state: 'detached' });

  // --- the invite makes the chapter's admin, who has no Chapters page ---
  // (She logs in with her password alone, as the tests' demo org: two-factor
  // login is tests/browser/two_factor.mjs's.)
  sql(`UPDATE orgs SET require_two_factor = false WHERE slug = 'east-side'`);
  const invited = await phonePage(browser, problems);
  await invited.goto(url);
  await invited.fill('#name', 'East First');
  await invited.fill('#new-password', 'east admin password');
  await invited.click('button[type=submit]');
  await invited.waitForSelector('#email');
  await invited.fill('#email', 'first@east.test');
  await invited.fill('#password', 'east admin password');
  await invited.click('button[type=submit]');
  await invited.waitForSelector('.top nav >> text=Org');
  await invited.click('.top nav >> text=Org');
  await invited.waitForSelector('.subnav >> text=People');
  check(!(await invited.$('.subnav >> text=Chapters')), "a chapter's admin has no Chapters link");

  // --- the demo chapter's admin sees the visit on People ---
  const demo = await phonePage(browser, problems);
  await logIn(demo, BASE, 'admin@demo.test', '.top nav >> text=Org');
  await demo.goto(`${BASE}/#/people`);
  const acting = '#people-users li:has-text("Nat Admin (national)")';
  await demo.waitForSelector(acting);
  check(/national/.test(await demo.textContent(`${acting} .state`)), "the national admin's acting account is marked");
  check(!(await demo.$(`${acting} button.reset`)), 'and offers no password reset');
  await fits(demo, 'People with an acting account');
  check(!(await demo.$(`${acting} button.end-visit`)), 'no visit to end while she is not in the chapter');

  // --- she visits again; the chapter's admin ends the visit, not her session ---
  await phone.goto(`${BASE}/#/chapters`);
  await enter(phone, 'demo', 'A second look at the demo chapter');
  await demo.reload();
  await demo.waitForSelector(`${acting} button.end-visit`);
  await fits(demo, 'People with a visit on');
  await demo.screenshot({ path: `${SHOTS}/dashboard-chapters-end-visit-phone.png`, fullPage: true });
  await demo.click(`${acting} button.end-visit`);
  await demo.waitForSelector(`${acting} button.end-visit`, { state: 'detached' });
  check(sql(`SELECT count(*) FROM sessions WHERE acting_org_id IS NOT NULL`) === '0', 'the visit ended');
  check(
    sql(`SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'admin@nat.test'`) !== '0',
    'her own sessions go on',
  );
  check(problems.length === 0, `no page errors: ${problems.join('; ')}`);
} finally {
  await browser.close();
}
