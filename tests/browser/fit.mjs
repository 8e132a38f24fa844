// SPDX-License-Identifier: AGPL-3.0-or-later
// fit.mjs — every page of the route table (dashboard/static/routes.js)
// opened at 390 px (a phone) and 1280 px, as a lead and as a volunteer:
// nothing makes the page scroll sideways (a wide table scrolls inside its
// own region) and no navigation hides a link in a scroll of its own, the top bar shows who is logged in and marks the section
// the page belongs to, and no page throws. Screenshots of each land in
// SCREENSHOTS/fit-*. Run by tests/integration/test_dashboard_live_browser.sh
// with DASH, CONV, CAMP, BLAST and SCREENSHOTS.
import { check, launchChromium, logIn as logInAt, phonePage } from './harness.mjs';

const { DASH: BASE, CONV, CAMP, BLAST, SCREENSHOTS: SHOTS } = process.env;
if (!BASE || !CONV || !CAMP || !BLAST || !SHOTS) throw new Error('DASH, CONV, CAMP, BLAST and SCREENSHOTS must be set');
const problems = [];

// [fragment, the top-bar link it sits under, a selector its content shows]
const LEAD_PAGES = [
  ['#/blasts', 'Blasts', 'a[href="#/blasts/new"]'],
  ['#/blasts/new', 'Blasts', '#blast-body'],
  [`#/blasts/${BLAST}`, 'Blasts', '#blast-state'],
  ['#/lists', 'Blasts', '#lists'],
  ['#/keywords', 'Blasts', '#keyword-form, .leads .list'],
  ['#/stats', 'Blasts', '#stats-blasts'],
  ['#/team', 'Team', '.team h3'],
  ['#/outreach', 'Outreach', '#campaigns'],
  [`#/outreach/${CAMP}`, 'Outreach', '#oc-progress'],
  [`#/outreach/${CAMP}/send`, 'Outreach', '#outreach-left'],
  ['#/', 'Inbox', '#waiting:not(:empty)'],
];
const VOLUNTEER_PAGES = [
  ['#/', 'Inbox', '#waiting:not(:empty)'],
  [`#/c/${CONV}`, 'Inbox', '#reply'],
  ['#/outreach', 'Outreach', '#campaigns'],
  [`#/outreach/${CAMP}`, 'Outreach', '#outreach-left'],
  // A lead's page is the inbox for a volunteer.
  ['#/stats', 'Inbox', '#waiting:not(:empty)'],
];

async function desktopPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return page;
}

async function walk(page, who, name, pages, width) {
  for (const [fragment, section, ready] of pages) {
    await page.goto(`${BASE}/${fragment}`);
    await page.waitForSelector(ready);
    const m = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      width: window.innerWidth,
      current: [...document.querySelectorAll('header nav a[aria-current=page]')].map((a) => a.textContent),
      who: document.querySelector('header .who')?.getBoundingClientRect().width || 0,
      whoText: document.querySelector('header .who')?.textContent || '',
      // A navigation that scrolls inside itself hides a link on a phone.
      navs: [...document.querySelectorAll('nav')]
        .filter((n) => n.scrollWidth > n.clientWidth)
        .map((n) => `${n.className || n.parentNode.className}: ${n.scrollWidth} > ${n.clientWidth}`),
    }));
    const tag = `${width} ${who} ${fragment}`;
    check(m.scroll <= m.width, `${tag}: nothing scrolls sideways (${m.scroll} <= ${m.width})`);
    check(m.navs.length === 0, `${tag}: every navigation fits (${m.navs.join('; ')})`);
    check(m.current.length === 1 && m.current[0] === section, `${tag}: the top bar marks ${section} (${m.current})`);
    check(m.who > 0 && m.whoText === name, `${tag}: the top bar shows ${name}`);
    const file = fragment.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '') || 'inbox';
    await page.screenshot({ path: `${SHOTS}/fit-${width}-${who}-${file}.png`, fullPage: true });
  }
}

const browser = await launchChromium();
try {
  for (const [width, open] of [
    [390, () => phonePage(browser, problems)],
    [1280, () => desktopPage(browser)],
  ]) {
    const lead = await open();
    await logInAt(lead, BASE, 'lead@demo.test', 'text=Blasts');
    await walk(lead, 'lead', 'Lee Lead', LEAD_PAGES, width);
    const vol = await open();
    await logInAt(vol, BASE, 'vol1@demo.test');
    await walk(vol, 'volunteer', 'Val Volunteer', VOLUNTEER_PAGES, width);
  }
  check(problems.length === 0, `no page errors (${problems.join('; ')})`);
} finally {
  await browser.close();
}
