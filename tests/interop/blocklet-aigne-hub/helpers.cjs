// @blocklet/aigne-hub 0.7.20's API helpers, as other blocklets use them, against the Hub:
// `getUserInfo` (a user's key), the credit helpers and `appUsedCredits` (its axios instance
// pointed at the Hub with a key, as a page of the Hub's own sends its login), and `appRegister` /
// `appStatus` as a remote app signing with its own wallet (`useAIKitService`, the Hub as the
// AI Kit service). Env: HUB_URL, HUB_KEY (a member with a profile and credits), ADMIN_KEY,
// BILLING ('ledger' or 'payment-kit'). Prints `blocklet-aigne-hub: ok`.
const assert = require('node:assert/strict');
// @ocap/wallet and @ocap/mcrypto come from ../node_modules (the other interop clients').
const { fromRandom, WalletType } = require('@ocap/wallet');
const { types } = require('@ocap/mcrypto');

const hub = process.env.HUB_URL;
const key = process.env.HUB_KEY;
// The remote app's own key, and the Hub as its AI Kit service: read when the package loads.
const appWallet = fromRandom(
  WalletType({ role: types.RoleType.ROLE_APPLICATION, pk: types.KeyType.ED25519, hash: types.HashType.SHA3 }),
);
process.env.BLOCKLET_APP_SK = appWallet.secretKey;
// Its logger wants a blocklet's log folder.
process.env.BLOCKLET_LOG_DIR = require('node:fs').mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'blocklet-log-'));
process.env.AI_KIT_BASE_URL = hub;

const { getUserInfo } = require('@blocklet/aigne-hub/api/user');
const api = require('@blocklet/aigne-hub/api/api').default;
const app = require('@blocklet/aigne-hub/api/app');
const { appRegister, appStatus } = require('@blocklet/aigne-hub/api/call/app');

(async () => {
  const info = await getUserInfo({ baseUrl: hub, accessKey: key });
  assert.ok(info.user.did.startsWith('z'), JSON.stringify(info));
  assert.equal(info.user.fullName, 'Grace Hopper');
  assert.equal(info.user.email, 'grace@example.com');
  assert.equal(info.enableCredit, true);
  assert.equal(info.creditBalance.total, '100');
  assert.equal(info.creditBalance.grantCount, 1);
  assert.equal(info.paymentLink, `${hub}/credits`);

  api.defaults.baseURL = hub;
  api.defaults.headers.common.Authorization = `Bearer ${key}`;
  const balance = await app.getCreditBalance();
  assert.equal(balance.balance, info.creditBalance.balance);
  assert.equal(balance.total, '100');
  const link = await app.getCreditPaymentLink();
  assert.equal(link, `${hub}/credits`);
  const grants = await app.getCreditGrants({ page: 1, pageSize: 10 });
  assert.equal(grants.count, 1, JSON.stringify(grants));
  assert.equal(grants.list.length, 1);
  const transactions = await app.getCreditTransactions({ page: 1, pageSize: 10 });
  assert.ok(Array.isArray(transactions.list), JSON.stringify(transactions));

  const registered = await appRegister({ publicKey: appWallet.publicKey }, { useAIKitService: true });
  assert.equal(registered.id, appWallet.address);
  assert.equal(registered.paymentLink, `${hub}/credits?metadata.appId=${appWallet.address}`);
  const status = await appStatus({}, { useAIKitService: true });
  assert.equal(status.id, appWallet.address);
  assert.equal(status.subscription, null);
  assert.equal(status.subscriptionDetailUrl, null);

  // The Hub's own app's usage, as an admin asks for it.
  api.defaults.headers.common.Authorization = `Bearer ${process.env.ADMIN_KEY}`;
  const now = Math.floor(Date.now() / 1000);
  const used = await app.appUsedCredits({ startTime: String(now - 3600), endTime: String(now + 60) });
  assert.ok(Array.isArray(used.list), JSON.stringify(used));
  // A bad range is the Hub's 400, raised by axios.
  await assert.rejects(app.appUsedCredits({ endTime: '1' }), (e) => e.response?.status === 400);
  console.log(`blocklet-aigne-hub (${process.env.BILLING}): ok`);
  // @blocklet/sdk keeps timers of its own (token refresh): done is done.
  process.exit(0);
})().catch((e) => {
  console.error(e.response ? `${e.message}: ${JSON.stringify(e.response.data)}` : e);
  process.exit(1);
});
