// SPDX-License-Identifier: AGPL-3.0-or-later
// The web app's route table (dashboard/static/routes.js): every page's
// fragment reads back as its route, built fragments round-trip, lead pages
// are the inbox for a volunteer, and hostile or malformed fragments fall
// back to the inbox instead of reaching a page. Run: node --test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { route, href, isAt } from '../../dashboard/static/routes.js';

test('each page of the app has one route, and its fragment reads back', () => {
  const pages = [
    ['inbox', {}, '#/'],
    ['login', {}, '#/login'],
    ['invite', { token: 'aB3_-x' }, '#token=aB3_-x'],
    ['conversation', { id: 12 }, '#/c/12'],
    ['team', {}, '#/team'],
    ['review', {}, '#/review'],
    ['outreach', {}, '#/outreach'],
    ['campaign', { id: 3 }, '#/outreach/3'],
    ['campaign-send', { id: 3 }, '#/outreach/3/send'],
    ['blasts', {}, '#/blasts'],
    ['blast-new', {}, '#/blasts/new'],
    ['blast', { id: 7 }, '#/blasts/7'],
    ['lists', {}, '#/lists'],
    ['keywords', {}, '#/keywords'],
    ['stats', {}, '#/stats'],
    ['senders', {}, '#/senders'],
    ['sso', {}, '#/sso'],
  ];
  for (const [name, params, fragment] of pages) {
    assert.equal(href(name, params), fragment, name);
    const r = route(fragment);
    assert.equal(r.name, name, fragment);
    assert.deepEqual(r.params, params, fragment);
  }
});

test('sections and sub-pages: what the top bar and the sub-navigation mark', () => {
  assert.equal(route('#/c/4').section, 'inbox');
  assert.equal(route('#/outreach/4/send').section, 'outreach');
  assert.equal(route('#/stats').section, 'blasts');
  assert.equal(route('#/team').section, 'team');
  assert.equal(route('#/review').view, 'review');
  assert.ok(isAt('#/blasts/9', 'blasts'));
  assert.ok(isAt('#/blasts/new', 'blasts'));
  assert.ok(!isAt('#/lists', 'blasts'));
  assert.equal(route('#/blasts/9').view, 'leads');
  assert.equal(route('#/c/9').view, 'inbox');
});

test("single sign-on's settings are an admin's page only", () => {
  assert.equal(route('#/sso', true, true).name, 'sso');
  assert.equal(route('#/sso', true, true).section, 'org');
  assert.ok(isAt('#/sso', 'people'), 'a page of People in the sub-navigation');
  assert.equal(route('#/sso', true, false).name, 'inbox');
  assert.equal(route('#/sso', false, false).name, 'inbox');
});

test('an empty fragment is the inbox', () => {
  assert.equal(route('').name, 'inbox');
  assert.equal(route(undefined).name, 'inbox');
});

test("lead pages are the inbox for a volunteer; outreach is everyone's", () => {
  for (const f of ['#/team', '#/review', '#/blasts', '#/blasts/new', '#/blasts/2', '#/lists', '#/keywords', '#/stats'])
    assert.equal(route(f, false).name, 'inbox', f);
  assert.equal(route('#/outreach/2', false).name, 'campaign');
  assert.equal(route('#/c/2', false).name, 'conversation');
});

test("the org's pages: opt-outs for leads and admins, people for admins only", () => {
  assert.equal(route('#/opt-outs', true, false).view, 'admin');
  assert.equal(route('#/opt-outs', false, false).name, 'inbox');
  assert.equal(route('#/people', true, false).name, 'inbox');
  assert.equal(route('#/people', true, true).section, 'org');
  assert.equal(route('#/people').name, 'people');
  assert.equal(route('#/move-in', true, false).view, 'admin');
  assert.equal(route('#/move-in', false, false).name, 'inbox');
  assert.equal(route('#/senders', true, false).name, 'inbox', 'a lead is not taken to the Senders page');
  assert.equal(route('#/senders', true, true).section, 'org');
  assert.equal(route('#/chapters', true, false).name, 'inbox');
  assert.equal(route('#/chapters', true, true).section, 'org');
});

test("the audit page is an admin's only", () => {
  assert.equal(href('audit'), '#/audit');
  assert.equal(route('#/audit', true, true).name, 'audit');
  assert.equal(route('#/audit', true, true).section, 'org');
  assert.equal(route('#/audit', true, false).name, 'inbox');
  assert.equal(route('#/audit', false, false).name, 'inbox');
});

test('unknown and malformed fragments are the inbox, never a page with a bad parameter', () => {
  for (const f of [
    '#/nope',
    '#/c/',
    '#/c/abc',
    '#/c/12/',
    '#/c/-1',
    '#/c/1e3',
    '#/c/' + '9'.repeat(16),
    '#/blasts/new/1',
    '#/outreach/3/send/x',
    '#token=',
    '#token=a b',
    '#token=<script>',
    '#/login?next=evil',
    '#/C/1',
    ' #/c/1',
  ])
    assert.equal(route(f).name, 'inbox', f);
});

test('href refuses unknown names and bad parameters where they are written', () => {
  assert.throws(() => href('nope'), /no route/);
  assert.throws(() => href('conversation'), /bad id/);
  assert.throws(() => href('conversation', { id: '1/../x' }), /bad id/);
  assert.throws(() => href('invite', { token: 'a#b' }), /bad token/);
});
