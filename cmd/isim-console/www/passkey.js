// The two WebAuthn ceremonies, with the JSON forms of their options and
// results (WebAuthn Level 3, 5.1.9 toJSON and 5.1.10 parse*FromJSON).
import { post } from "./api.js";

export function supported() {
  return typeof window.PublicKeyCredential === "function" &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";
}

// The browser's own refusals, said for people rather than as DOMException names.
function explain(e) {
  if (e && e.name === "NotAllowedError")
    return new Error("The passkey request was cancelled or timed out, or no passkey was chosen.");
  if (e && e.name === "InvalidStateError")
    return new Error("This authenticator already holds a passkey for this account.");
  if (e && e.name === "SecurityError")
    return new Error("The browser refused passkeys on this address (WebAuthn needs HTTPS or localhost).");
  return e;
}

// register({username, display_name}) creates an account, register({}) adds a
// passkey to the signed-in user.
export async function register(body) {
  const o = await post("/auth/register/options", body);
  let cred;
  try {
    cred = await navigator.credentials.create({
      publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(o.publicKey) });
  } catch (e) {
    throw explain(e);
  }
  return post("/auth/register/verify", cred.toJSON());
}

// login({}) is a discoverable login; login({username}) lists that user's
// credentials; user_verification "required" is the step-up.
export async function login(body) {
  const o = await post("/auth/login/options", body);
  let cred;
  try {
    cred = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(o.publicKey) });
  } catch (e) {
    throw explain(e);
  }
  return post("/auth/login/verify", cred.toJSON());
}
