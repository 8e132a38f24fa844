// SPDX-License-Identifier: AGPL-3.0-or-later
// The campaign pages' words and numbers (dashboard/static/leads_format.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stateLabel, isFinal, formatDuration, percent, counterRows, rateText, blastTitle, dateTime } from '../../dashboard/static/leads_format.js';

test('states', () => {
  assert.equal(stateLabel('completed'), 'Done');
  assert.equal(stateLabel('sending'), 'Sending');
  assert.equal(stateLabel('weird'), 'weird');
  assert.equal(isFinal('completed'), true);
  assert.equal(isFinal('cancelled'), true);
  assert.equal(isFinal('paused'), false);
});

test('durations', () => {
  assert.equal(formatDuration(0), 'under a second');
  assert.equal(formatDuration(0.2), '1 s');
  assert.equal(formatDuration(59), '59 s');
  assert.equal(formatDuration(61), '2 min');
  assert.equal(formatDuration(3600), '1 h');
  assert.equal(formatDuration(7500), '2 h 5 min');
});

test('percentages and rates', () => {
  assert.equal(percent(null), '—');
  assert.equal(percent(0.5), '50%');
  assert.equal(percent(0.1234), '12.3%');
  assert.equal(rateText(150), '2.5/s');
  assert.equal(rateText(6000), '100/s');
  assert.equal(rateText(undefined), '0.0/s');
});

test('counters in the order of a message\'s life', () => {
  const rows = counterRows({ state: 'sending', queued: 2, sending: 1, sent: 3, delivered: 4, failed: 1, undelivered: 2, suppressed: 5, opted_out: 6, unknown: 7, cancelled: 8 });
  assert.deepEqual(rows.map((r) => r[0]), ['queued', 'sent', 'delivered', 'failed', 'unknown', 'opted_out', 'suppressed', 'cancelled']);
  // Sent is cumulative: everything the carrier accepted, delivered or not.
  assert.deepEqual(rows.map((r) => r[2]), [3, 16, 4, 3, 7, 6, 5, 8]);
  // Three delivered are three sent; zero tiles are left out.
  const done = counterRows({ state: 'completed', queued: 0, sending: 0, sent: 0, delivered: 3 });
  assert.deepEqual(done.map((r) => [r[0], r[2]]), [['sent', 3], ['delivered', 3]]);
  const running = counterRows({ state: 'sending', queued: 5 });
  assert.deepEqual(running.map((r) => [r[0], r[2]]), [['queued', 5], ['sent', 0], ['delivered', 0]]);
});

test('titles and dates', () => {
  assert.equal(blastTitle('Rally Saturday'), 'Rally Saturday');
  assert.equal(blastTitle('Hi {first_name|friend}, the rally starts Saturday at 10. See you there!'), 'Hi {first_name|friend}, the rally starts…');
  assert.equal(blastTitle('   '), 'Untitled blast');
  assert.ok(blastTitle('x'.repeat(100)).length <= 48);
  assert.match(dateTime('2026-12-07T10:00:00Z'), /2026/);
  assert.equal(dateTime(null), '');
});
