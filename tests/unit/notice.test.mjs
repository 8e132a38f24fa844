// SPDX-License-Identifier: AGPL-3.0-or-later
// The one segment counter line of the web app (dashboard/static/notice.js,
// under the reply box, the blast composer and outreach's script boxes) and
// the error sentence every page shows. Run: node --test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterText, errorText } from '../../dashboard/static/notice.js';
import { ApiError } from '../../dashboard/static/api.js';

test('the counter line: characters, encoding, texts, room left', () => {
  assert.equal(counterText(''), '0 characters · GSM-7 · 0 texts · 160 left');
  assert.equal(counterText('Hi Ana'), '6 characters · GSM-7 · 1 text · 154 left');
  assert.equal(counterText('a'.repeat(161)), '161 characters · GSM-7 · 2 texts · 145 left');
  assert.equal(counterText('¿Vienes? ✊'), '10 characters · UCS-2 · 1 text · 60 left');
  assert.equal(counterText('[x]'), '3 characters · GSM-7 · 1 text · 155 left'); // [ and ] count two
});

test("an API error reads as the server's sentence; anything else as itself", () => {
  assert.equal(errorText(new ApiError(409, 'too_soon', 'Wait a moment before the next send.')), 'Wait a moment before the next send.');
  assert.equal(errorText(new Error('boom')), 'Error: boom');
  assert.equal(errorText('plain'), 'plain');
});
