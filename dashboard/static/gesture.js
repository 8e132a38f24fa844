// SPDX-License-Identifier: AGPL-3.0-or-later
// gesture.js — one action per deliberate gesture, for actions a person
// must take one at a time (an outreach send: peer texting is lawful only
// when a person sends each message). A gate accepts an activation only
// when it comes from a press that began after the gate was armed (the
// thing it acts on was on screen), that has not acted already, and that
// is not the second press of a double click or a double tap; a key counts
// only when pressed after being released (a held key's repeats never
// count, event.repeat or not). The server paces sends as well (429
// too_soon); this keeps an ordinary double click from ever getting there.

// The presses this page has seen, recorded before any handler runs.
let lastPointer = null; // { time } of the latest pointerdown
let lastKey = null; // { event, time, fresh } of the latest keydown
const held = new Set(); // keys down now (by code)

if (typeof window !== 'undefined') {
  window.addEventListener(
    'pointerdown',
    (ev) => {
      lastPointer = { time: ev.timeStamp };
    },
    true,
  );
  window.addEventListener(
    'keydown',
    (ev) => {
      const fresh = !ev.repeat && !held.has(ev.code);
      held.add(ev.code);
      lastKey = { event: ev, time: ev.timeStamp, fresh };
    },
    true,
  );
  window.addEventListener('keyup', (ev) => held.delete(ev.code), true);
  window.addEventListener('blur', () => held.clear());
}

/** A gate: arm() when what the next action acts on is shown; take(ev)
 * with the click or keydown that wants to act returns true at most once
 * per gesture. minGapMs: two presses closer than this are one gesture
 * (the double-click time of most systems is 500 ms). */
export function gestureGate(minGapMs = 500) {
  let armedAt = Infinity;
  let lastTaken = -Infinity;
  return {
    arm() {
      armedAt = performance.now();
      // On screen means painted: a press before the next frame is not a
      // decision about what it shows.
      requestAnimationFrame(() => {
        armedAt = Math.max(armedAt, performance.now());
      });
    },
    take(ev) {
      let time;
      if (ev.type === 'keydown') {
        if (ev.repeat || !lastKey || lastKey.event !== ev || !lastKey.fresh) return false;
        time = ev.timeStamp;
      } else if (ev.detail === 0) {
        // A button activated from the keyboard (Enter, Space): the key
        // press that did it must be a fresh one.
        if (!lastKey || !lastKey.fresh || !['Enter', 'NumpadEnter', 'Space'].includes(lastKey.event.code)) return false;
        time = lastKey.time;
      } else {
        if (!lastPointer) return false;
        time = lastPointer.time;
      }
      if (time < armedAt || time - lastTaken < minGapMs) return false;
      lastTaken = time;
      return true;
    },
  };
}
