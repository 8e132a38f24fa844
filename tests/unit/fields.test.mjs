// SPDX-License-Identifier: AGPL-3.0-or-later
// The outreach preview's field filling (dashboard/static/fields.js) on the
// cases test_outreach_api.sh renders with the server's tocsin_blast_render
// (fields_cases.json), and its script check. Run: node --test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fillFields, scriptError } from '../../dashboard/static/fields.js';

const { contact, cases } = JSON.parse(readFileSync(new URL('./fields_cases.json', import.meta.url), 'utf8'));

test('fields are filled in as the server fills them', () => {
  for (const [script, want] of cases) assert.equal(fillFields(script, contact), want, script);
});

test('a value is cut at 100 characters, as on the server', () => {
  assert.equal(fillFields('{first_name}', { first_name: 'é'.repeat(150) }), 'é'.repeat(100));
});

test('scripts the server refuses are flagged', () => {
  assert.equal(scriptError('Hi {first_name|there}'), null);
  assert.match(scriptError('Hi {first_name'), /braces/);
  assert.match(scriptError('Hi }'), /braces/);
  assert.match(scriptError(''), /1 to 1600/);
  assert.match(scriptError('x'.repeat(1601)), /1 to 1600/);
});
