// Steering: the arrow keys (or WASD) and the on-screen pad of a touch screen, turned into one
// direction. The page is told only when the direction changes (a key goes down or up), never
// per frame or per key repeat, so it sends the server one RPC per change.

/** @typedef {'up' | 'down' | 'left' | 'right'} Key */
/** @typedef {{ x: number, y: number }} Direction */

/** Keyboard keys -> directions. `code` is the physical key, so WASD works on any layout. */
/** @type {Record<string, Key>} */
const KEY_CODES = {
  ArrowUp: 'up', KeyW: 'up',
  ArrowDown: 'down', KeyS: 'down',
  ArrowLeft: 'left', KeyA: 'left',
  ArrowRight: 'right', KeyD: 'right',
};
/** @type {Record<Key, Direction>} */
const VECTORS = { up: { x: 0, y: -1 }, down: { x: 0, y: 1 }, left: { x: -1, y: 0 }, right: { x: 1, y: 0 } };

/** @param {EventTarget | null} target */
function isTyping(target) {
  return target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

/**
 * Listens to the keyboard and to the buttons of `pad` (each with data-key="up" etc.) while
 * `active()` says the player is playing, and calls `onChange` with the new direction whenever
 * it changes: left + right cancel out; up + right is {x: 1, y: -1} (the server normalises it).
 * @param {HTMLElement} pad
 * @param {() => boolean} active
 * @param {(direction: Direction) => void} onChange
 * @returns {{ reset: () => void }} `reset()` forgets the held keys (when play starts or stops)
 *   without calling onChange
 */
export function listenToSteering(pad, active, onChange) {
  /** @type {Set<Key>} */
  const keysHeld = new Set();
  /** @type {Set<Key>} */
  const padHeld = new Set();
  /** The direction last reported, as "x,y". */
  let reported = '0,0';

  function update() {
    if (!active()) return;
    let x = 0;
    let y = 0;
    for (const key of new Set([...keysHeld, ...padHeld])) {
      x += VECTORS[key].x;
      y += VECTORS[key].y;
    }
    const direction = `${x},${y}`;
    if (direction === reported) return;
    reported = direction;
    onChange({ x, y });
  }

  window.addEventListener('keydown', (e) => {
    const key = KEY_CODES[e.code];
    if (!key || !active() || isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    e.preventDefault(); // arrows would scroll the page
    keysHeld.add(key); // held keys repeat: the Set ignores the repeats, so nothing is re-sent
    update();
  });
  window.addEventListener('keyup', (e) => {
    const key = KEY_CODES[e.code];
    if (key && keysHeld.delete(key)) update();
  });
  // A key released in another window never sends keyup here: stop when the page loses focus.
  window.addEventListener('blur', () => {
    keysHeld.clear();
    padHeld.clear();
    update();
  });

  // The on-screen pad, for touch screens: a button steers while it is pressed.
  for (const button of pad.querySelectorAll('button')) {
    const key = /** @type {Key} */ (button.dataset.key);
    /** @param {boolean} down */
    const press = (down) => {
      if (down) padHeld.add(key);
      else padHeld.delete(key);
      button.setAttribute('aria-pressed', String(down));
      update();
    };
    button.addEventListener('pointerdown', (e) => {
      button.setPointerCapture(e.pointerId); // keep steering if the finger slides off the button
      press(true);
    });
    button.addEventListener('pointerup', () => press(false));
    button.addEventListener('pointercancel', () => press(false));
    button.addEventListener('contextmenu', (e) => e.preventDefault()); // a long press is not a right click
  }

  return {
    reset() {
      keysHeld.clear();
      padHeld.clear();
      reported = '0,0';
    },
  };
}
