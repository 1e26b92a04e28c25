// The parts of acme-client this service uses, each from its own module. The package's
// index also loads its legacy node-forge API (`exports.forge`), about 300 KB of every
// bundle that imports it, which nothing here calls. acme-client 5.4.0 declares no package
// "exports", so its files resolve by path; the types are the package's own
// (acme-client-modules.d.ts). Import acme-client through this module, not its index.
import type * as acme from 'acme-client';
import axiosInstance from 'acme-client/src/axios.js';
import ClientClass from 'acme-client/src/client.js';
import cryptoModule from 'acme-client/src/crypto/index.js';

export type { Order } from 'acme-client';
export type Client = acme.Client;
export const Client: typeof acme.Client = ClientClass;
/** Keys, CSRs and PEM helpers (on @peculiar/x509 and node:crypto). */
export const crypto: typeof acme.crypto = cryptoModule;
/** The axios instance every request of acme-client's goes through: interceptors and defaults set here apply to them. */
export const axios: typeof acme.axios = axiosInstance;
