// One operation through Blocklet Server's own core module, the way `blocklet deploy` makes its
// local CI key: `node core-op.cjs <op> <json args> <out file>` in the server's data directory
// (ABT_NODE_CUSTOM_DATA_DIR set). The core logs its SQL to stdout, so the answer goes to a file.
'use strict';

const fs = require('fs');
const path = require('path');

const MODULES = path.join(process.env.BS_DIR, 'node_modules');
const need = (name) => require(path.join(MODULES, name));
const { getNode } = need('@blocklet/cli/lib/node');
const { SERVER_ROLES } = need('@abtnode/constant');

const [op, rawArgs, out] = process.argv.slice(2);
const args = JSON.parse(rawArgs || '{}');

const ops = {
  /** A server-level CI access key (what `blocklet deploy` makes for a local deploy). */
  async 'create-ci-key'(node) {
    const info = await node.getNodeInfo();
    const { accessKeyId, accessKeySecret } = await node.createAccessKey(
      { teamDid: info.did, remark: 'aigne-hub tests', passport: SERVER_ROLES.CI },
      { user: { fullName: 'aigne-hub tests', passports: [{ role: SERVER_ROLES.CI, status: 'valid' }] } },
    );
    return { accessKeyId, accessKeySecret, serverDid: info.did };
  },

  /** Users of an app who log in with a DID Wallet (software wallets here), each holding the
   * passport of its `role` (if any) as if an admin had issued it in the dashboard. */
  async 'add-wallet-users'(node) {
    const { teamDid, users } = args;
    for (const { did, pk, name, role } of users) {
      await node.loginUser({
        teamDid,
        user: {
          did,
          pk,
          fullName: name,
          connectedAccount: { provider: 'wallet', did, pk },
        },
      });
      if (role) await node.issuePassportToUser({ teamDid, userDid: did, role, notify: false });
    }
    return { added: users.length };
  },
};

(async () => {
  const { node } = await getNode({ dir: process.cwd() });
  await new Promise((resolve) => node.onReady(resolve));
  const fn = ops[op];
  if (!fn) throw new Error(`unknown op ${op}`);
  fs.writeFileSync(out, JSON.stringify(await fn(node)));
  process.exit(0);
})().catch((e) => {
  process.stderr.write(`core-op ${op}: ${e.stack || e.message}\n`);
  process.exit(1);
});
