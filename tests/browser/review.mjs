// SPDX-License-Identifier: AGPL-3.0-or-later
// review.mjs — a lead's Message review in a real browser (playwright-core
// driving Debian's chromium headless), at phone (390 px) and desktop
// (1280 px) widths: every conversation listed (a member's markup shown as
// text), filters by state, likely opt-out and words of the last message,
// a bad date range refused with the server's sentence, select-all on the
// page then a reassignment confirmed with its count, a close cancelled
// then confirmed, an outreach answer corrected, and members' replies (a
// new conversation, a reply to a listed one) appearing on the list without
// a reload, a picked row staying picked. The database is
// checked here through psql and by
// tests/integration/test_dashboard_review_browser.sh. Screenshots go to
// SCREENSHOTS.
import { check, launchChromium, phonePage, logIn, sql } from './harness.mjs';
import { mkdirSync } from 'node:fs';

const BASE = process.env.DASH;
const SHOTS = process.env.SCREENSHOTS;
const C1 = process.env.C1;
const TOTAL = Number(process.env.TOTAL);
if (!BASE || !SHOTS || !C1 || !TOTAL || !process.env.PSQL)
  throw new Error('DASH, SCREENSHOTS, C1, TOTAL and PSQL must be set');
mkdirSync(SHOTS, { recursive: true });

const problems = [];
const noSideScroll = async (p, width, what) => {
  const w = await p.evaluate(() => document.scrollingElement.scrollWidth);
  check(w <= width, `no horizontal scroll at ${width} px on ${what} (${w})`);
};
const rows = (p) => p.$$eval('#review-list .review-row', (r) => r.map((x) => Number(x.dataset.id)));
// Submits the filters and waits for the list drawn from this answer: the
// rows on screen are marked first, so a list that already had `what` rows
// (the last answer's) does not count.
const showWith = async (p, what) => {
  await p.evaluate(() => {
    for (const r of document.querySelectorAll('#review-list .review-row')) r.dataset.stale = '1';
  });
  await p.click('#review-filters button[type=submit]');
  await p.waitForFunction(
    (n) => {
      const shown = document.querySelectorAll('#review-list .review-row');
      return shown.length === n && ![...shown].some((r) => r.dataset.stale);
    },
    what,
    { timeout: 60000 },
  );
};

const browser = await launchChromium();
try {
  const lead = await phonePage(browser, problems, /401|400/);
  await logIn(lead, BASE, 'lead@demo.test', '.top nav >> text=Review');
  await lead.click('.top nav >> text=Review');
  await lead.waitForSelector('#review-list .review-row');
  check((await rows(lead)).length === TOTAL, `every conversation is listed (${TOTAL})`);
  check(await lead.isVisible('#review-list >> text=<img'), "a member's markup is shown as text");
  await noSideScroll(lead, 390, 'the review page');
  await lead.screenshot({ path: `${SHOTS}/dashboard-review-phone.png`, fullPage: true });

  // --- filters ---
  await lead.fill('#review-q', 'RALLY saturday');
  await showWith(lead, 1);
  check((await rows(lead))[0] === Number(C1), 'the search finds the last message, case ignored');
  await lead.fill('#review-q', '');
  await lead.selectOption('#review-flagged', 'true');
  await showWith(lead, 1);
  check(await lead.isVisible('#review-list >> text=likely opt-out'), 'the flagged one, marked');
  await lead.selectOption('#review-flagged', '');
  await lead.fill('#review-from', '2026-02-10');
  await lead.fill('#review-to', '2026-02-01');
  await lead.click('#review-filters button[type=submit]');
  await lead.waitForSelector('.review-msg .error:has-text("invalid to")');
  check(true, 'a range that ends before it starts is refused with the server sentence');
  await lead.fill('#review-from', '');
  await lead.fill('#review-to', '');
  await showWith(lead, TOTAL);

  // --- select all on the page, reassign with a confirmation ---
  await lead.check('#review-all');
  check((await lead.textContent('#review-count')) === `${TOTAL} selected`, 'all on the page selected');
  check(await lead.isDisabled('#review-reassign'), 'reassign waits for someone to pick');
  await lead.selectOption('#review-assignee', { label: 'Vic Volunteer' });
  await lead.click('#review-reassign');
  const ask = (await lead.textContent('#review-confirm p')).trim();
  check(ask === `Reassign ${TOTAL} conversations to Vic Volunteer?`, `the confirmation states the count: "${ask}"`);
  await lead.screenshot({ path: `${SHOTS}/dashboard-review-confirm-phone.png`, fullPage: true });
  await lead.click('#review-confirm .confirm-yes');
  await lead.waitForSelector('.review-msg .flash.success');
  check(
    sql(
      "SELECT count(*) FROM conversations c JOIN users u ON u.id = c.assignee_id WHERE u.email = 'vol2@demo.test'",
    ) === String(TOTAL),
    'all reassigned',
  );

  // --- close two: cancelled, then confirmed ---
  const two = (await rows(lead)).slice(0, 2);
  for (const id of two) await lead.check(`.review-row[data-id="${id}"] input.pick`);
  check((await lead.textContent('#review-count')) === '2 selected', 'two picked');
  await lead.click('#review-close');
  check(
    (await lead.textContent('#review-confirm p')).trim() === 'Close 2 conversations?',
    'the close states its count',
  );
  await lead.click('#review-confirm >> text=Cancel');
  check(sql("SELECT count(*) FROM conversations WHERE state = 'closed'") === '0', 'cancelled: nothing closed');
  await lead.click('#review-close');
  await lead.click('#review-confirm .confirm-yes');
  await lead.waitForSelector('.review-msg .flash.success:has-text("2 conversations closed")');
  check(
    sql(`SELECT string_agg(id::text, ',' ORDER BY id DESC) FROM conversations WHERE state = 'closed'`) ===
      two.join(','),
    'those two closed',
  );

  // --- correct an outreach answer ---
  await lead.click(`.review-row[data-id="${C1}"] .review-answer summary`);
  const answerSelect = `.review-row[data-id="${C1}"] .review-answer select`;
  await lead.waitForSelector(answerSelect);
  check(
    (await lead.$eval(answerSelect, (s) => s.selectedOptions[0].textContent)) === 'No',
    'the recorded answer shown',
  );
  await lead.selectOption(answerSelect, { label: 'Yes' });
  await lead.waitForSelector(`.review-row[data-id="${C1}"] .answer-msg >> text=Answer corrected`);
  check(
    sql('SELECT ch.label FROM outreach_answers a JOIN outreach_choices ch ON ch.id = a.choice_id') === 'Yes',
    'the answer is Yes now',
  );

  // --- desktop width ---
  const desk = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const deskPage = await desk.newPage();
  deskPage.on('pageerror', (e) => problems.push(`desktop page error: ${e.message}`));
  await logIn(deskPage, BASE, 'lead@demo.test', '.top nav >> text=Review');
  await deskPage.goto(`${BASE}/#/review`);
  await deskPage.waitForSelector('#review-list .review-row');
  await noSideScroll(deskPage, 1280, 'the review page');

  // --- live: replies appear without a reload, and a pick survives ---
  check((await rows(deskPage)).length === TOTAL, 'every conversation, before the replies');
  await deskPage.check(`#review-list .review-row[data-id="${C1}"] input.pick`);
  await deskPage.evaluate(() => {
    window.__notReloaded = true;
  });
  const inbound = (phone, id, body) =>
    sql(`SELECT conversation_id FROM tocsin_receive_inbound('twilio', '${id}', (SELECT id FROM senders LIMIT 1),
         '${phone}', '${body}', 0, 'reply', NULL, false, NULL, NULL, NULL)`);
  const fresh = inbound('+14155550799', 'SMlive799', 'Just saw the news');
  await deskPage.waitForSelector(`#review-list .review-row[data-id="${fresh}"] >> text=Just saw the news`, {
    timeout: 60000,
  });
  check((await rows(deskPage))[0] === Number(fresh), 'a new conversation appears at the top without a reload');
  check(
    inbound('+14155550799', 'SMlive799b', 'Running ten minutes late') === fresh,
    'a second reply, same conversation',
  );
  await deskPage.waitForSelector(`#review-list .review-row[data-id="${fresh}"] >> text=Running ten minutes late`, {
    timeout: 60000,
  });
  check(!(await deskPage.isVisible('#review-list >> text=Just saw the news')), 'the row shows the newest reply');
  check((await rows(deskPage)).length === TOTAL + 1, 'in the same row');
  check(
    await deskPage.isChecked(`#review-list .review-row[data-id="${C1}"] input.pick`),
    'the row she picked is still picked',
  );
  check((await deskPage.textContent('#review-count')) === '1 selected', 'and counted');
  check(await deskPage.evaluate(() => window.__notReloaded === true), 'the page was not reloaded');
  await deskPage.screenshot({ path: `${SHOTS}/dashboard-review-desktop.png`, fullPage: true });

  // A volunteer is sent to her inbox, and has no Review link.
  const vol = await phonePage(browser, problems, /401|403/);
  await logIn(vol, BASE, 'vol1@demo.test');
  check(!(await vol.isVisible('.top nav >> text=Review')), 'no Review link for a volunteer');

  check(!(await lead.evaluate(() => window.__xss)), 'no markup ran');
  check(problems.length === 0, `no page errors: ${problems.join('; ')}`);
} finally {
  await browser.close();
}
