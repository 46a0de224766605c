// The demo pages load the official client as a classic script, /vendor/centrifuge/centrifuge.js
// (served by canal from the `centrifuge` npm package), which sets `globalThis.Centrifuge`.
// This declares that global with the package's own types, so the pages are type-checked
// (npx tsc -p tsconfig.web.json) against the exact client they run.
import type { Centrifuge as CentrifugeClient } from 'centrifuge';

declare global {
  var Centrifuge: typeof CentrifugeClient;
}

export {};
