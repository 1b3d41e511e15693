// A stand-in for Blocklet Server's notification service (`/.well-known/service/api/send-to-user`)
// that checks what the Hub sends the way the real libraries read it: the sender's token with
// @arcblock/jwt's verify against the app's public key, the sender's appDid against the app key's
// address, the receiver and the notification with @blocklet/sdk's own validators. Prints its port;
// `GET /received` answers what it accepted, `GET /refused` what it did not (and why).
// Env: BLOCKLET_APP_SK.
process.env.NODE_ENV = 'test';
const express = require('express');
const Jwt = require('@arcblock/jwt');
const { fromSecretKey, WalletType } = require('@ocap/wallet');
const { types } = require('@ocap/mcrypto');
const { validateReceiver, validateNotification } = require('@blocklet/sdk/lib/validators/notification');

const wallet = fromSecretKey(
  process.env.BLOCKLET_APP_SK,
  WalletType({ role: types.RoleType.ROLE_APPLICATION, pk: types.KeyType.ED25519, hash: types.HashType.SHA3 }),
);
const received = [];
const refused = [];
const app = express();
app.use(express.json());
app.post('/.well-known/service/api/send-to-user', async (req, res) => {
  const { data } = req.body ?? {};
  try {
    const token = data?.sender?.token;
    if (!(await Jwt.verify(token, wallet.publicKey))) throw new Error('the token does not verify');
    if (data.sender.appDid !== wallet.address) throw new Error(`appDid ${data.sender.appDid} is not ${wallet.address}`);
    await validateReceiver(data.receiver);
    await validateNotification(data.notification);
    received.push(data);
    res.json({ ok: true });
  } catch (e) {
    refused.push(String(e.message ?? e));
    res.status(400).json({ error: String(e.message ?? e) });
  }
});
app.get('/received', (_req, res) => res.json(received));
app.get('/refused', (_req, res) => res.json(refused));
const server = app.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
