// A small line chart on a <canvas>, enough for the monitor: the latest N points of one or
// more series, y from 0 to a round maximum, redrawn whole on every push. No library.

/**
 * @typedef {object} Series
 * @property {string} label  what the line is, for whoever reads the code (the page shows the
 *   legend as HTML next to the chart)
 * @property {string} color  a CSS colour or custom property (`var(--accent)`), read at draw time
 *   so the chart follows the page's light or dark scheme
 */

export class LineChart {
  /** @type {HTMLCanvasElement} */ #canvas;
  /** @type {readonly Series[]} */ #series;
  /** @type {number} */ #capacity;
  /** @type {(value: number) => string} */ #format;
  /** @type {number} */ #minTop;
  /** @type {boolean} */ #whole;
  /** One array of values per series, oldest first. @type {number[][]} */ #points;

  /**
   * @param {HTMLCanvasElement} canvas  sized by CSS; the chart fills it
   * @param {{ series: readonly Series[], capacity?: number, format?: (value: number) => string, minTop?: number, whole?: boolean }} options
   *   capacity: how many points are kept (the x axis); format: the y axis labels; minTop: the
   *   lowest top of the y axis, so that a flat line near zero is drawn as small, not as noise;
   *   whole: the values are counts, so no axis label such as "0.5"
   */
  constructor(canvas, { series, capacity = 60, format = String, minTop = 1, whole = false }) {
    this.#canvas = canvas;
    this.#series = series;
    this.#capacity = capacity;
    this.#format = format;
    this.#minTop = minTop;
    this.#whole = whole;
    this.#points = series.map(() => []);
    // Redraw when the layout changes the canvas size (phone rotation, window resize), and
    // when the colour scheme changes (the colours come from CSS).
    new ResizeObserver(() => this.draw()).observe(canvas);
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => this.draw());
  }

  /** Adds one value per series (in the order of `series`) and redraws. @param {readonly number[]} values */
  push(values) {
    this.#points.forEach((points, i) => {
      points.push(values[i] ?? 0);
      if (points.length > this.#capacity) points.shift();
    });
    this.#canvas.dataset.points = String(this.#points[0]?.length ?? 0);
    this.draw();
  }

  draw() {
    const canvas = this.#canvas;
    // The canvas has as many pixels as the screen shows for it (devicePixelRatio: 2 on most
    // phones), so lines are sharp; drawing code below works in CSS pixels.
    const dpr = window.devicePixelRatio || 1;
    const { width, height } = canvas.getBoundingClientRect();
    if (width === 0 || height === 0) return; // hidden
    const pixelWidth = Math.round(width * dpr);
    const pixelHeight = Math.round(height * dpr);
    if (canvas.width !== pixelWidth || canvas.height !== pixelHeight) {
      canvas.width = pixelWidth; // resizing also clears it
      canvas.height = pixelHeight;
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);

    const style = getComputedStyle(canvas);
    /** @param {string} color */
    const resolve = (color) => {
      const custom = /^var\((--[\w-]+)\)$/.exec(color);
      return custom ? style.getPropertyValue(/** @type {string} */ (custom[1])).trim() : color;
    };
    const max = niceCeiling(Math.max(this.#minTop, ...this.#points.flat()));
    const left = 0;
    const top = 16; // room for the top label
    const plotWidth = width - 4; // room for the dot on the newest value
    const plotHeight = height - top - 4;
    const y = (/** @type {number} */ v) => top + plotHeight - (v / max) * plotHeight;
    const x = (/** @type {number} */ i) => left + (i / (this.#capacity - 1)) * plotWidth;

    // Grid: zero, half and the maximum, labelled at the left.
    ctx.font = `12px ${style.fontFamily}`;
    ctx.lineWidth = 1;
    for (const v of [0, max / 2, max]) {
      ctx.strokeStyle = resolve('var(--line)');
      ctx.beginPath();
      ctx.moveTo(left, Math.round(y(v)) + 0.5);
      ctx.lineTo(left + plotWidth, Math.round(y(v)) + 0.5);
      ctx.stroke();
      if (v > 0 && (!this.#whole || Number.isInteger(v))) {
        ctx.fillStyle = resolve('var(--muted)');
        ctx.fillText(this.#format(v), left + 2, y(v) - 3);
      }
    }

    // The series, newest point at the right edge: the chart scrolls left as points arrive.
    ctx.lineWidth = 2;
    ctx.lineJoin = 'round';
    this.#points.forEach((points, s) => {
      if (points.length === 0) return;
      const offset = this.#capacity - points.length;
      const color = resolve(this.#series[s]?.color ?? 'var(--fg)');
      ctx.beginPath();
      points.forEach((v, i) => (i === 0 ? ctx.moveTo(x(offset + i), y(v)) : ctx.lineTo(x(offset + i), y(v))));
      ctx.strokeStyle = color;
      ctx.stroke();
      // A light area under the line, and a dot on the newest value.
      ctx.lineTo(x(this.#capacity - 1), y(0));
      ctx.lineTo(x(offset), y(0));
      ctx.closePath();
      ctx.fillStyle = color;
      ctx.globalAlpha = 0.12;
      ctx.fill();
      ctx.globalAlpha = 1;
      ctx.beginPath();
      ctx.arc(x(this.#capacity - 1), y(points[points.length - 1] ?? 0), 3, 0, 2 * Math.PI);
      ctx.fill();
    });
  }
}

/** The smallest of 1, 2, 5 × 10^n at or above `value` (> 0), for round axis labels. @param {number} value */
function niceCeiling(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5]) if (step * power >= value * (1 - 1e-9)) return step * power;
  return 10 * power;
}
