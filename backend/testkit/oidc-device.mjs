// A real OpenID Connect provider (npm `oidc-provider`) with the device authorization grant, for
// the sign-in tests: `node oidc-device.mjs` listens on a free loopback port and prints its issuer
// URL as the first line. One public client, `chatr-desktop`. The development login page accepts
// any login name (it becomes `sub`) and any password; keys are generated at start.
import { createServer } from "node:http";
import Provider from "oidc-provider";

const server = createServer();
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "chatr-desktop",
      token_endpoint_auth_method: "none",
      grant_types: [
        "urn:ietf:params:oauth:grant-type:device_code",
        "refresh_token",
      ],
      response_types: [],
      redirect_uris: [],
      application_type: "native",
    },
  ],
  features: {
    deviceFlow: { enabled: true },
    devInteractions: { enabled: true },
    // RFC 7009: the app revokes its refresh token when the person signs out and forgets the account.
    revocation: { enabled: true },
  },
  claims: { openid: ["sub"], profile: ["name"] },
  // Profile claims in the id_token itself, as Entra ID puts them.
  conformIdTokenClaims: false,
  scopes: ["openid", "profile", "offline_access"],
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, name: `Person ${id}` }),
  }),
  // Refresh tokens for the device client whenever offline_access was granted.
  issueRefreshToken: (_ctx, client, code) =>
    client.grantTypeAllowed("refresh_token") &&
    code.scopes.has("offline_access"),
  ttl: { DeviceCode: 120, AccessToken: 600, IdToken: 600 },
});
provider.on("server_error", (_ctx, err) =>
  console.error("oidc-provider:", err),
);
server.on("request", provider.callback());
console.log(issuer);
// The issuer line is all stdout is for: the test may stop reading it, so anything the provider
// logs later goes to stderr, and a closed stdout is not an error.
process.stdout.on("error", () => {});
console.log = console.info = console.error;
