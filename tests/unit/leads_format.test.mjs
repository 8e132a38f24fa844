// SPDX-License-Identifier: AGPL-3.0-or-later
// The campaign pages' words and numbers (dashboard/static/leads_format.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stateLabel, isFinal, formatDuration, percent, counterRows, rateText } from '../../dashboard/static/leads_format.js';

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
  const rows = counterRows({ queued: 2, sending: 1, sent: 3, delivered: 4, failed: 1, undelivered: 2, suppressed: 5, opted_out: 6, unknown: 7, cancelled: 8 });
  assert.deepEqual(rows.map((r) => r[0]), ['queued', 'sent', 'delivered', 'failed', 'suppressed', 'opted_out', 'unknown', 'cancelled']);
  assert.deepEqual(rows.map((r) => r[2]), [3, 3, 4, 3, 5, 6, 7, 8]);
});
