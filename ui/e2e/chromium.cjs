// How the browser tests start Debian's Chromium: headless, as root, and with nothing that reaches
// for the network (this machine reaches none; Chromium's background services would retry).
'use strict';

/** playwright-core launch options, with `extraArgs` appended. */
module.exports = function launchOptions(extraArgs = []) {
  return {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  };
};
