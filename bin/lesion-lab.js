#!/usr/bin/env node
// The `lesion-lab` command: the bundled backend (run `npm run build` first in a checkout).
require('../dist/backend/cli.js');
