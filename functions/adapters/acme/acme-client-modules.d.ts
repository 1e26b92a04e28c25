// acme-client's own modules, typed by its index's declarations (see acme-client.ts).
declare module 'acme-client/src/client.js' {
  const Client: typeof import('acme-client').Client;
  export = Client;
}
declare module 'acme-client/src/crypto/index.js' {
  const crypto: typeof import('acme-client').crypto;
  export = crypto;
}
declare module 'acme-client/src/axios.js' {
  const axios: typeof import('acme-client').axios;
  export = axios;
}
