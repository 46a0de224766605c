// Drawing the arena on its canvas. The page hands over a Scene (the last two snapshots, who we
// are, the radii) and says when it changed; this draws it once per screen frame, but only while
// something moves, and slides each dot between the last two snapshots (interpolation) so that
// movement looks smooth although the server sends 20 snapshots a second.

/** @typedef {import('./types.js').Frame} Frame */
/** @typedef {import('./types.js').SnapshotPlayer} SnapshotPlayer */

/**
 * What the renderer draws. The page owns it, changes it and then calls `changed()`.
 * @typedef {object} Scene
 * @property {Frame | undefined} previous  the snapshot before the current one
 * @property {Frame | undefined} current   the latest snapshot
 * @property {string} me  our player id while we play, else ''
 * @property {boolean} subscribed  whether the room's channel is live (else: "Connecting…")
 * @property {{ player: number, item: number }} radius
 */

/** Milliseconds between two snapshots: the server runs 20 ticks per second. */
export const TICK_MS = 50;
/** Until the server says otherwise (the first snapshot). */
const DEFAULT_ARENA = { width: 800, height: 500 };
/** The ring around our own dot: this far outside the dot, this thick (arena units). */
const RING_GAP = 6;
const RING_WIDTH = 3;
/**
 * Space around the arena, in arena units. The server stops a dot's centre one radius from a
 * wall, so the dot touches the wall; its outline, its ring and a star's points reach further,
 * and without this margin the canvas edge cut them off (issue 16).
 */
export const MARGIN = RING_GAP + RING_WIDTH + 1;

/**
 * The CSS aspect ratio of a canvas showing `arena` and its margin.
 * @param {{ width: number, height: number }} arena
 */
export function aspectRatio(arena) {
  return `${arena.width + 2 * MARGIN} / ${arena.height + 2 * MARGIN}`;
}

/**
 * How arena units map to canvas pixels: the largest scale at which the arena and its margin fit,
 * centred. Computed from both sides, so a canvas a pixel off its aspect ratio (borders, rounding)
 * still shows everything.
 * @param {number} width canvas pixels
 * @param {number} height canvas pixels
 * @param {{ width: number, height: number }} arena
 */
export function arenaLayout(width, height, arena) {
  const scale = Math.min(width / (arena.width + 2 * MARGIN), height / (arena.height + 2 * MARGIN));
  return { scale, x: (width - arena.width * scale) / 2, y: (height - arena.height * scale) / 2 };
}

/**
 * Starts drawing `scene` on `canvas` at the screen's frame rate. Returns `changed()`, to call
 * after changing the scene: the next frame redraws.
 * @param {HTMLCanvasElement} canvas
 * @param {Scene} scene
 * @returns {{ changed: () => void }}
 */
export function startRenderer(canvas, scene) {
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  let colors = readColors();
  /** Set when something on the canvas changed: the next frame redraws. */
  let stale = true;
  /** When the last frame was drawn. */
  let drawnAt = 0;

  // The page's colours (style.css), read again when the light/dark preference changes.
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    colors = readColors();
    stale = true;
  });

  /**
   * Keeps the canvas's pixel size equal to its size on screen (times the pixel ratio): sharp,
   * never stretched. Returns whether it changed (a resized canvas is blank until drawn again).
   */
  function fitCanvas() {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(canvas.clientWidth * ratio);
    const height = Math.round(canvas.clientHeight * ratio);
    if (canvas.width === width && canvas.height === height) return false;
    canvas.width = width;
    canvas.height = height;
    return true;
  }

  /**
   * Where player `p` is drawn now: between its place in the previous snapshot and in the
   * current one, by how much of a tick has passed since the current one arrived. Drawing runs
   * one tick behind the server, and in exchange dots glide instead of jumping.
   * @param {SnapshotPlayer} p
   * @param {number} now
   */
  function interpolated(p, now) {
    const before = scene.previous?.snapshot.players.find((q) => q.id === p.id);
    if (!before || !scene.current) return p;
    const alpha = Math.min(1, (now - scene.current.at) / TICK_MS);
    return { ...p, x: before.x + (p.x - before.x) * alpha, y: before.y + (p.y - before.y) * alpha };
  }

  /** @param {number} now */
  function draw(now) {
    requestAnimationFrame(draw);
    const resized = fitCanvas();
    // Draw only while something changes: a new snapshot and the glide towards it, a resize, a
    // theme switch. A page where nobody plays then costs no CPU.
    const gliding = scene.current !== undefined && drawnAt - scene.current.at < TICK_MS;
    if (!stale && !resized && !gliding) return;
    stale = false;
    drawnAt = now;
    const snapshot = scene.current?.snapshot;
    const arena = snapshot?.arena ?? DEFAULT_ARENA;
    const { scale, x, y } = arenaLayout(canvas.width, canvas.height, arena);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = colors.bg;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(scale, 0, 0, scale, x, y); // from here on, arena units

    // A faint grid, to see motion even when alone, inside the walls.
    ctx.strokeStyle = colors.line;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let gx = 50; gx < arena.width; gx += 50) {
      ctx.moveTo(gx, 0);
      ctx.lineTo(gx, arena.height);
    }
    for (let gy = 50; gy < arena.height; gy += 50) {
      ctx.moveTo(0, gy);
      ctx.lineTo(arena.width, gy);
    }
    ctx.stroke();
    ctx.strokeStyle = colors.muted;
    ctx.strokeRect(0, 0, arena.width, arena.height); // the walls the dots stop at

    // Text in screen pixels, not arena units: readable on a phone, not huge on a wide screen.
    const textSize = (14 * (window.devicePixelRatio || 1)) / scale;
    if (!snapshot || snapshot.players.length === 0) {
      ctx.fillStyle = colors.muted;
      ctx.font = `600 ${textSize * 1.2}px system-ui, sans-serif`;
      ctx.textAlign = 'center';
      ctx.fillText(scene.subscribed ? 'Nobody is playing: press Play' : 'Connecting…', arena.width / 2, arena.height / 2);
    }
    if (!snapshot) return;

    for (const item of snapshot.items) drawStar(item.x, item.y, scene.radius.item);
    for (const player of snapshot.players) {
      const p = interpolated(player, now);
      drawPlayer(p, p.id === scene.me, textSize, arena.width);
    }
  }

  /** @param {number} x @param {number} y @param {number} r */
  function drawStar(x, y, r) {
    ctx.beginPath();
    for (let i = 0; i < 10; i++) {
      const angle = -Math.PI / 2 + (i * Math.PI) / 5;
      const d = i % 2 === 0 ? r * 1.25 : r * 0.55;
      ctx.lineTo(x + Math.cos(angle) * d, y + Math.sin(angle) * d);
    }
    ctx.closePath();
    ctx.fillStyle = '#f5b700';
    ctx.fill();
    ctx.strokeStyle = '#7a5a00';
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }

  /**
   * A dot with its name above it (below it near the top wall).
   * @param {SnapshotPlayer} p
   * @param {boolean} mine
   * @param {number} textSize in arena units
   * @param {number} arenaWidth
   */
  function drawPlayer(p, mine, textSize, arenaWidth) {
    const r = scene.radius.player;
    if (mine) {
      // A ring around our own dot: easy to find, and not by colour alone.
      ctx.beginPath();
      ctx.arc(p.x, p.y, r + RING_GAP, 0, 2 * Math.PI);
      ctx.strokeStyle = colors.accent;
      ctx.lineWidth = RING_WIDTH;
      ctx.stroke();
    }
    ctx.beginPath();
    ctx.arc(p.x, p.y, r, 0, 2 * Math.PI);
    ctx.fillStyle = p.color;
    ctx.fill();
    ctx.strokeStyle = colors.fg;
    ctx.lineWidth = 2;
    ctx.stroke();

    ctx.font = `600 ${textSize}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.lineWidth = textSize / 4;
    ctx.strokeStyle = colors.bg; // a halo keeps the name readable over the grid and other dots
    const label = mine ? `${p.name} (you)` : p.name;
    const gap = r + (mine ? 10 : 5);
    const above = p.y - gap;
    const y = above - textSize < 0 ? p.y + gap + textSize : above; // near the top wall, write it below
    // Near a side wall, slide the name inwards so that it is never cut off.
    const half = ctx.measureText(label).width / 2 + 2;
    const x = Math.min(arenaWidth - half, Math.max(half, p.x));
    ctx.strokeText(label, x, y);
    ctx.fillStyle = colors.fg;
    ctx.fillText(label, x, y);
  }

  requestAnimationFrame(draw);
  return {
    changed() {
      stale = true;
    },
  };
}

function readColors() {
  const css = getComputedStyle(document.documentElement);
  /** @param {string} name @param {string} fallback */
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  return { bg: v('--card', '#fff'), line: v('--line', '#ccc'), fg: v('--fg', '#000'), muted: v('--muted', '#555'), accent: v('--accent', '#0b5fff') };
}
