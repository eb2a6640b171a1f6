import { createApp } from 'vue';
import App from './App.vue';
import { router } from './router.js';
import './styles.css';

performance.mark?.('gp:start');
createApp(App).use(router).mount('#app');
performance.mark?.('gp:mounted');

// The service worker: precached app shell, so the app opens with no signal.
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  import('virtual:pwa-register').then(({ registerSW }) => registerSW({ immediate: true }));
}
