// The stand-in's entry on Blocklet Server: its port, its state file in the component's data
// directory, and the app key it checks signatures with, from the component's environment.
'use strict';
const path = require('path');
process.env.PORT = process.env.BLOCKLET_PORT;
process.env.STATE_FILE = path.join(process.env.BLOCKLET_DATA_DIR, 'standin-state.json');
process.env.BLOCKLET_APP_SK = process.env.BLOCKLET_APP_SK || process.env.BLOCKLET_APP_ASK;
require('STANDIN');
