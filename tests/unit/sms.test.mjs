// SPDX-License-Identifier: AGPL-3.0-or-later
// The dashboard's segment counter (dashboard/static/sms.js) against the
// cases lib/sms.c is tested with (sms_cases.json). Run: node --test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { countSms, unitsLeft } from '../../dashboard/static/sms.js';

const { cases } = JSON.parse(readFileSync(new URL('./sms_cases.json', import.meta.url), 'utf8'));

test('the JavaScript counter agrees with lib/sms.c on every shared case', () => {
  assert.ok(cases.length >= 20);
  for (const c of cases) {
    const body = c.parts.map(([t, n]) => t.repeat(n)).join('');
    const got = countSms(body);
    const label = JSON.stringify(c.parts).slice(0, 60);
    assert.deepEqual(got, { encoding: c.encoding, units: c.units, segments: c.segments, chars: c.chars }, label);
  }
});

test('units left in the current segment', () => {
  assert.equal(unitsLeft(countSms('')), 160);
  assert.equal(unitsLeft(countSms('a'.repeat(150))), 10);
  assert.equal(unitsLeft(countSms('a'.repeat(161))), 306 - 161);
  assert.equal(unitsLeft(countSms('ж')), 69);
});
