// The service worker (vite-plugin-pwa injectManifest): the app shell and every chunk are
// precached, so /m/ opens with no signal once it has been opened. Nothing under /api/ is
// cached here: the worker's data lives in IndexedDB and is wiped at log-out.
import { precacheAndRoute, cleanupOutdatedCaches, createHandlerBoundToURL } from 'workbox-precaching';
import { getOrCreatePrecacheController } from 'workbox-precaching/utils/getOrCreatePrecacheController.js';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { clientsClaim } from 'workbox-core';

self.skipWaiting();
clientsClaim();
cleanupOutdatedCaches();

// Django answers with "Vary: Accept-Language"; the shell is the same in every language, and a
// phone whose language changed (or a browser whose navigations send another Accept-Language
// than its service worker did) must still find it in the cache.
getOrCreatePrecacheController().strategy.matchOptions = { ignoreVary: true };

precacheAndRoute(self.__WB_MANIFEST);

// Any navigation inside /m/ gets the app shell (routes are in the #hash anyway).
registerRoute(new NavigationRoute(createHandlerBoundToURL('/m/index.html'), { allowlist: [/^\/m\//] }));
