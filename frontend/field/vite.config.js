import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { VantResolver } from '@vant/auto-import-resolver';
import { VitePWA } from 'vite-plugin-pwa';

// The Django dev server the API calls go to when running `npm run dev` / `vite preview`.
const backend = process.env.FIELD_BACKEND || 'http://127.0.0.1:8000';

export default defineConfig({
  base: '/m/',
  plugins: [
    vue(),
    // Vant components imported on demand (with their CSS), so the first load stays small.
    Components({ resolvers: [VantResolver()], dts: false }),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false,
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.js',
      scope: '/m/',
      base: '/m/',
      includeAssets: ['icons/*.png', 'favicon.svg'],
      manifest: {
        id: '/m/',
        name: '网格通 · 网格员',
        short_name: '网格通',
        description: '网格员走访、需求、积分申报，无网络也能用',
        lang: 'zh-CN',
        start_url: '/m/',
        scope: '/m/',
        display: 'standalone',
        orientation: 'portrait',
        theme_color: '#c8161d',
        background_color: '#ffffff',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/icon-512-maskable.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      injectManifest: {
        // The app shell and every lazy chunk (the scanner too): the app opens with no signal.
        globPatterns: ['**/*.{js,css,html,png,svg,webmanifest}'],
      },
      devOptions: { enabled: false },
    }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
  },
  server: {
    proxy: { '/api': backend, '/media': backend },
  },
  preview: {
    proxy: { '/api': backend, '/media': backend },
  },
  test: {
    environment: 'node',
    include: ['tests/**/*.test.js'],
    // fake-indexeddb is slow on a busy 2-core machine: generous per-test time.
    testTimeout: 20000,
  },
});
