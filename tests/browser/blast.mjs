// SPDX-License-Identifier: AGPL-3.0-or-later
// blast.mjs — a campaign lead's blast in a real browser (playwright-core
// driving Debian's chromium headless): log in, import a small list from a
// CSV (the report shows the rejected line), compose a blast with a field
// (live segment counter, the server's preview for a member whose name is
// an "<img onerror>", shown as text), ask to send it and see the confirm
// (who it goes to after opt-outs, the longest rendering's segments; a
// confirm not answered creates nothing), send it and watch the progress
// view reach "Done" without reloading and without polling (it refetches
// on the stream's blast events) while a real tocsin-worker sends it to
// the carrier simulator. Screenshots of compose and progress at phone
// and desktop widths go to SCREENSHOTS. Run by
// tests/integration/test_dashboard_blast_browser.sh, which checks the
// simulator.
import { check, launchChromium, phonePage, sql } from './harness.mjs';
import { mkdirSync } from 'node:fs';

const BASE = process.env.DASH;
const SHOTS = process.env.SCREENSHOTS;
const CSV = process.env.CSV;
if (!BASE || !SHOTS || !CSV || !process.env.PSQL) throw new Error('DASH, SCREENSHOTS, CSV and PSQL must be set');
mkdirSync(SHOTS, { recursive: true });

const problems = [];
const browser = await launchChromium();
try {
  const page = await phonePage(browser, problems);

  await page.goto(`${BASE}/`);
  await page.fill('#email', 'lead@demo.test');
  await page.fill('#password', 'tocsin-demo');
  await page.click('button[type=submit]');
  await page.waitForSelector('.top nav >> text=Blasts');
  await page.click('.top nav >> text=Blasts');
  await page.waitForSelector('.subnav');
  const noSideScroll = async (p, width, what) => {
    const w = await p.evaluate(() => document.scrollingElement.scrollWidth);
    check(w <= width, `no horizontal scroll at ${width} px on ${what} (${w})`);
    // The sub-nav scrolls on its own when too narrow: it must not need to.
    const [sw, cw] = await p.$eval('.subnav', (n) => [n.scrollWidth, n.clientWidth]);
    check(sw <= cw, `the sub-nav fits at ${width} px on ${what} (${sw} in ${cw})`);
  };
  await noSideScroll(page, 390, 'the blasts page');

  // Audiences: import the CSV through the page.
  await page.click('.subnav >> text=Audiences');
  await page.waitForSelector('#import-file');
  await page.fill('#import-list', 'Rally <b>crew</b>');
  await page.setInputFiles('#import-file', { name: 'crew.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
  await page.click('#import-report >> xpath=.. >> button[type=submit]');
  await page.waitForSelector('#import-report >> text=rows:', { timeout: 15000 }).catch(async (e) => {
    throw new Error(`no import report; the page says: ${await page.textContent('.leads')}; ${e.message}`);
  });
  const report = await page.textContent('#import-report');
  check(
    /7 rows: 6 new, 0 updated, 1 rejected, 5 added to the list, 1 still opted out/.test(report),
    `the import's report: ${report}`,
  );
  check((await page.textContent('#import-report tbody td')) === '8', 'the rejected row is named by its line (8)');
  await page.screenshot({ path: `${SHOTS}/dashboard-import-phone.png`, fullPage: true });
  await page.waitForSelector('#lists >> text=Rally <b>crew</b>');
  const row = await page.locator('#lists .item', { hasText: 'Rally <b>crew</b>' }).textContent();
  check(row.includes('5 members'), `the list shows 5 members (the opted-out one was not subscribed): ${row}`);
  // Bo texts STOP after joining: still subscribed, left out of blasts.
  sql(`INSERT INTO opt_outs (org_id, phone, source) VALUES (${process.env.ORG}, '+14155550404', 'admin')`);
  // Dee joins by texting CREW, a keyword of the list, as the gateway records it.
  const kw = sql(`INSERT INTO keywords (org_id, keyword, pattern, list_id, reply)
                  SELECT ${process.env.ORG}, 'CREW', '^crew', id, 'Tocsin Demo Chapter crew: up to 2 msgs/mo. Msg&data rates may apply. Reply HELP for help, STOP to cancel.'
                    FROM lists WHERE name = 'Rally <b>crew</b>' RETURNING id`);
  const inbound = (id, body, intent, keyword) =>
    sql(`SELECT action FROM tocsin_receive_inbound('twilio', '${id}', ${process.env.SENDER},
    '+14155550407', '${body}', 0, '${intent}', ${keyword || 'NULL'}, false, NULL, NULL, NULL)`);
  check(inbound('SMcrewjoin', 'CREW', 'keyword', kw) === 'subscribed', 'Dee joined by keyword');

  // Compose.
  await page.click('.subnav >> text=Blasts');
  await page.click('text=New blast');
  await page.waitForSelector('#blast-body');
  const listValue = await page.locator('#blast-list option', { hasText: 'Rally <b>crew</b>' }).getAttribute('value');
  await page.selectOption('#blast-list', listValue);
  await page.fill('#blast-body', 'Hi {first_name|friend}, the rally starts Saturday at 10. See you there!');
  await page.waitForSelector('#blast-counter >> text=GSM-7');
  check((await page.textContent('#blast-counter')).includes('GSM-7 · 1 text'), 'the live segment counter');
  await page.waitForSelector('#blast-recipients >> text=5 (1 opted-out member left out)');
  check(
    (await page.textContent('#blast-counter')).startsWith('Template: '),
    'the counter says it measures the template',
  );
  // Zoë's name makes her message UCS-2 and 2 segments, though the
  // template and the first member's message are 1.
  const longest = await page.textContent('#blast-segments');
  check(
    longest === 'Longest message: 2 segments · 71 characters · UCS-2',
    `the preview names the longest rendering: ${longest}`,
  );
  const sample = await page.textContent('#blast-sample');
  check(
    sample === 'Hi <img src=x onerror=window.__xss=1>, the rally starts Saturday at 10. See you there!',
    `the preview renders the sample member's name as text: ${sample}`,
  );
  check(
    await page.evaluate(() => window.__xss === undefined && !document.querySelector('.leads img')),
    'no markup ran',
  );
  await page.screenshot({ path: `${SHOTS}/dashboard-blast-compose-phone.png`, fullPage: true });
  await noSideScroll(page, 390, 'the compose form');
  const blastCount = () => Number(sql('SELECT count(*) FROM blasts'));
  const before = blastCount();

  // "Create and send" asks first; an unanswered or declined confirm sends nothing.
  await page.click('#blast-submit');
  await page.waitForSelector('#blast-confirm:not([hidden])');
  const q = await page.textContent('#blast-confirm-q');
  check(q === 'Send this blast to 5 people now?', `the confirm asks once, with the count: ${q}`);
  const count = await page.textContent('#blast-confirm-count');
  check(count === '5 people on Rally <b>crew</b> (1 opted-out member left out)', `the confirm's audience: ${count}`);
  const segs = await page.textContent('#blast-confirm-segments');
  check(segs.startsWith('Longest message: 2 segments'), `the confirm shows the longest rendering's segments: ${segs}`);
  check(
    (await page.textContent('#blast-confirm-sample')).startsWith('Hi <img src=x'),
    'the confirm shows the first rendered message',
  );
  await page.screenshot({ path: `${SHOTS}/dashboard-blast-confirm-phone.png`, fullPage: true });
  await page.waitForTimeout(1500);
  check(blastCount() === before, 'nothing is created while the confirm is open');
  await page.click('#blast-confirm-no');
  check(await page.isHidden('#blast-confirm'), '"Not yet" closes the confirm');
  await page.waitForTimeout(500);
  check(
    blastCount() === before && /#\/blasts\/new$/.test(page.url()),
    'a declined confirm sends nothing and stays on the form',
  );

  const desk = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const deskPage = await desk.newPage();
  deskPage.on('pageerror', (e) => problems.push(`desktop page error: ${e.message}`));
  await deskPage.context().addCookies(await page.context().cookies());
  await deskPage.goto(`${BASE}/#/blasts/new`);
  await deskPage.waitForSelector('#blast-body');
  await deskPage.selectOption('#blast-list', listValue);
  await deskPage.fill('#blast-body', 'Hi {first_name|friend}, the rally starts Saturday at 10. See you there!');
  await deskPage.waitForSelector('#blast-recipients >> text=5 (1 opted-out member left out)');
  await deskPage.click('#blast-submit');
  await deskPage.waitForSelector('#blast-confirm:not([hidden])');
  check(
    (await deskPage.textContent('#blast-confirm-segments')).startsWith('Longest message: 2 segments'),
    'the confirm at 1280 px too',
  );
  await deskPage.screenshot({ path: `${SHOTS}/dashboard-blast-compose-desktop.png`, fullPage: true });
  await noSideScroll(deskPage, 1280, 'the compose form');
  await deskPage.click('#blast-confirm-no');
  check(blastCount() === before, 'still nothing created');

  // Confirm, then watch it go out without reloading or polling: every read
  // of the blast follows a blast event from the stream (at most ~1/s).
  const reads = [];
  page.on('request', (r) => {
    if (r.method() === 'GET' && /\/api\/blasts\/\d+$/.test(r.url())) reads.push(Date.now());
  });
  await page.evaluate(() => {
    window.__blastEvents = [];
    window.addEventListener('tocsin:blast', (ev) => window.__blastEvents.push([Date.now(), ev.detail.blast_id]));
  });
  await page.click('#blast-submit');
  await page.waitForSelector('#blast-confirm:not([hidden])');
  await page.click('#blast-confirm-yes');
  await page.waitForSelector('#blast-progress #blast-state');
  check(blastCount() === before + 1, 'confirming creates exactly one blast');
  const url = page.url();
  check(/#\/blasts\/\d+$/.test(url), `the progress view opens: ${url}`);
  const id = Number(url.match(/(\d+)$/)[1]);
  const title = await page.textContent('.leads h2');
  check(
    title === 'Hi {first_name|friend}, the rally starts…',
    `the page is titled with the blast's first words: ${title}`,
  );
  await page.evaluate(() => {
    window.__same_page = true;
    window.__sentSeen = new Set();
    const note = () => {
      const el = document.querySelector('[data-counter=sent] dd');
      if (el) window.__sentSeen.add(el.textContent);
    };
    note();
    new MutationObserver(note).observe(document.getElementById('blast-progress'), { childList: true, subtree: true });
  });
  await page.waitForSelector('#blast-state >> text=Done', { timeout: 60000 });
  check(await page.evaluate(() => window.__same_page === true), 'it reached Done without a reload');
  const seen = await page.evaluate(() => [...window.__sentSeen]);
  check(seen.length >= 3, `the figures changed live (Sent went ${seen.join(' → ')})`);
  const events = (await page.evaluate(() => window.__blastEvents)).filter(([, b]) => b === id).map(([t]) => t);
  check(events.length >= 2, `blast events came from the stream (${events.length})`);
  // Counted, not timed (a loaded machine delays events and reads alike):
  // every read after the first follows an event, and there are no more of
  // them than events.
  const unprompted = reads.slice(1).filter((t) => !events.some((e) => e <= t));
  check(
    unprompted.length === 0 && reads.length - 1 <= events.length,
    `no read of the blast without an event (${reads.length} reads, ${events.length} events, ${unprompted.length} before any)`,
  );
  // At most one event a second per blast: 20 changes announced at once
  // (one statement) reach the page as one or two events (the window's
  // first, if the last one was over a second ago, and its last; 3 if the
  // dashboard stalled a second in between), not 20.
  const blastEvents = () => page.evaluate((b) => window.__blastEvents.filter(([, x]) => x === b).length, id);
  const eventsBefore = await blastEvents();
  sql(`SELECT count(pg_notify('tocsin_blasts', json_build_object('org_id', org_id, 'blast_id', id, 'n', g)::text))
         FROM blasts, generate_series(1, 20) g WHERE id = ${id}`);
  await page.waitForFunction(
    ([b, n]) => window.__blastEvents.filter(([, x]) => x === b).length >= n,
    [id, eventsBefore + 1],
    { timeout: 60000 },
  );
  await page.waitForTimeout(2500); // past the window: a later one would have come by now
  const burst = (await blastEvents()) - eventsBefore;
  check(burst >= 1 && burst <= 3, `20 changes at once reach the page as ${burst} blast event(s) (1 or 2 expected)`);
  const sent = Number(await page.textContent('[data-counter=sent] dd'));
  check(sent === 5, `Sent counts every message the carrier took, delivered ones included (${sent})`);
  check((await page.locator('[data-counter=queued]').count()) === 0, 'no "Waiting" tile once done with nothing left');
  // No gateway runs here, so no receipt comes: Delivered stays 0, shown.
  const tiles = await page.$$eval('[data-counter]', (els) => els.map((e) => e.dataset.counter));
  check(tiles.join(',') === 'sent,delivered', `only the figures that matter once done: ${tiles.join(', ')}`);
  const finished = await page.textContent('#blast-when');
  check(/^finished .*\d{4}/.test(finished), `the finish time carries a date: ${finished}`);
  check((await page.locator('#blast-cancel').count()) === 0, 'no cancel once done');
  await page.screenshot({ path: `${SHOTS}/dashboard-blast-progress-phone.png`, fullPage: true });
  await noSideScroll(page, 390, 'the progress page');
  await deskPage.goto(`${BASE}/${new URL(url).hash}`);
  await deskPage.waitForSelector('#blast-state >> text=Done');
  await deskPage.screenshot({ path: `${SHOTS}/dashboard-blast-progress-desktop.png`, fullPage: true });
  console.log(`BLAST_ID=${id}`);

  // Dee, who joined by CREW and got the blast, texts STOP. The worker's
  // clock is tomorrow 20:00 (quiet hours), so the blast started then: on
  // that clock her STOP comes an hour later.
  check(inbound('SMcrewstop', 'STOP', 'opt_out') === 'opted_out', 'Dee opted out');
  sql(`UPDATE opt_outs SET opted_out_at = (SELECT started_at FROM blasts WHERE id = ${id}) + interval '1 hour'
        WHERE phone = '+14155550407'`);
  // Stats: her STOP counts once under the blast and once under CREW, each
  // column saying what it counts; the tables scroll within themselves.
  await page.click('.subnav >> text=Stats');
  await page.waitForSelector('#stats-blasts >> text=Rally <b>crew</b>');
  const heads = await page.$$eval('#stats-blasts th', (els) => els.map((e) => e.textContent));
  check(heads[4] === 'Opted out within 7 days', `the blast's opt-outs are labelled with their window: ${heads[4]}`);
  const blastOpt = await page.textContent('#stats-blasts tbody tr:first-child td:nth-child(5)');
  check(blastOpt === '1', `the blast counts Dee's STOP (${blastOpt})`);
  const crew = page.locator('#stats-keywords tbody tr', { hasText: /^CREW/ });
  const kheads = await page.$$eval('#stats-keywords th', (els) => els.map((e) => e.textContent));
  check(
    kheads[2] === 'Joined in 7 days' && kheads[3] === 'Of them, opted out since',
    `the keyword's columns say what they count: ${kheads.join(' | ')}`,
  );
  const crewCells = await crew.locator('td').allTextContents();
  check(
    crewCells[2] === '1' && crewCells[3] === '1',
    `CREW: 1 joined, 1 of them opted out since (${crewCells.join(' | ')})`,
  );
  await noSideScroll(page, 390, 'the stats page');
  const boxes = await page.$$eval('.leads .scroll', (els) => els.map((e) => [e.clientWidth, e.scrollWidth]));
  check(
    boxes.length === 2 && boxes.every(([c, w]) => c <= 390 && w > c),
    `each stats table scrolls within its own box: ${JSON.stringify(boxes)}`,
  );
  await page.screenshot({ path: `${SHOTS}/dashboard-stats-phone.png`, fullPage: true });
  await deskPage.goto(`${BASE}/#/stats`);
  await deskPage.waitForSelector('#stats-keywords >> text=CREW');
  await noSideScroll(deskPage, 1280, 'the stats page');
  await deskPage.screenshot({ path: `${SHOTS}/dashboard-stats-desktop.png`, fullPage: true });
  await page.click('.subnav >> text=Keywords');
  await page.waitForSelector('.list .keyword >> text=CREW');
  await noSideScroll(page, 390, 'the keywords page');
  await page.click('.subnav >> text=Audiences');
  await page.waitForSelector('#lists');
  await noSideScroll(page, 390, 'the audiences page');

  // A blast scheduled far ahead, cancelled through the in-page confirm
  // (left open across several polls first).
  await page.click('.subnav >> text=Blasts');
  await page.click('text=New blast');
  await page.waitForSelector('#blast-body');
  await page.selectOption('#blast-list', listValue);
  await page.fill('#blast-body', 'Second rally next month');
  await page.check('#when-later');
  await page.fill('#blast-at', '2099-01-01T10:00');
  await page.click('#blast-submit');
  await page.waitForSelector('#blast-confirm:not([hidden])');
  const sq = await page.textContent('#blast-confirm-q');
  check(
    sq.startsWith('Schedule this blast to 4 people for'),
    `a scheduled blast is confirmed too (Dee opted out since): ${sq}`,
  );
  await page.click('#blast-confirm-yes');
  await page.waitForSelector('#blast-state >> text=Scheduled');
  await page.click('#blast-cancel');
  await page.waitForSelector('.confirm:not([hidden]) >> text=cannot be undone');
  const quietFrom = reads.length;
  await page.waitForTimeout(5000);
  check(
    reads.length === quietFrom,
    `no polling of a blast that does not change (${reads.length - quietFrom} reads in 5 s)`,
  );
  check(await page.isVisible('#confirm-yes'), 'the confirm stays open');
  await page.click('#confirm-yes');
  await page.waitForSelector('#blast-state >> text=Cancelled');
  console.log(`CANCELLED_ID=${page.url().match(/(\d+)$/)[1]}`);

  // An admin's keyword: refused with the reason, then saved.
  const adminCtx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const admin = await adminCtx.newPage();
  admin.on('pageerror', (e) => problems.push(`admin page error: ${e.message}`));
  await admin.goto(`${BASE}/`);
  await admin.fill('#email', 'admin@demo.test');
  await admin.fill('#password', 'tocsin-demo');
  await admin.click('button[type=submit]');
  await admin.waitForSelector('.top nav >> text=Blasts');
  await admin.goto(`${BASE}/#/keywords`);
  await admin.waitForSelector('#keyword-form');
  await admin.fill('#kw-word', 'rally');
  await admin.selectOption('#kw-list', listValue);
  await admin.fill('#kw-reply', 'Rally alerts! Reply STOP to stop.');
  await admin.click('#keyword-form button[type=submit]');
  const why = await (await admin.waitForSelector('#keyword-form .error:not(:empty)')).textContent();
  check(why.length > 10, `a confirmation without the CTIA parts is refused: ${why}`);
  await admin.fill(
    '#kw-reply',
    'Tocsin Demo Chapter rally alerts: up to 2 msgs/mo. Msg&data rates may apply. Reply HELP for help, STOP to cancel.',
  );
  await admin.click('#keyword-form button[type=submit]');
  await admin.waitForSelector('.list .keyword >> text=RALLY');
  check(
    (await admin.textContent('#flash .flash.success')) === 'Keyword RALLY saved.×',
    'saving a keyword is confirmed in the success style',
  );
  await admin.screenshot({ path: `${SHOTS}/dashboard-keywords-phone.png`, fullPage: true });
  check(problems.length === 0, `no page errors: ${problems.join('; ')}`);
} finally {
  await browser.close();
}
