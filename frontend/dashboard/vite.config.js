import { defineConfig } from 'vite';

// The dashboard (issue 12) is not a page of its own: Django renders /dashboard/ and loads this
// build as static files (STATICFILES_DIRS prefix "dashboard"), so the output has fixed names
// (dashboard.js, dashboard.css) that the template names with {% static %}; a production
// ManifestStaticFilesStorage adds the content hash. URLs inside the CSS stay relative
// (base './'), so the files work under any STATIC_URL.
export default defineConfig({
  base: './',
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    cssCodeSplit: false,
    // One entry, no chunks: ECharts (only the charts and components used) and Leaflet included.
    chunkSizeWarningLimit: 900,
    rolldownOptions: {
      input: 'src/main.js',
      output: {
        format: 'es',
        entryFileNames: 'dashboard.js',
        chunkFileNames: '[name].js',
        assetFileNames: (asset) =>
          (asset.names || []).some((n) => n.endsWith('.css')) ? 'dashboard.css' : 'assets/[name][extname]',
      },
    },
  },
});
