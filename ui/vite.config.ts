import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `npm run dev` proxies the API to a Hub on :8090; the build goes to dist/ (embedded by the binary).
export default defineConfig({
  plugins: [react()],
  // Relative asset URLs: the Hub's <base href> puts them under its mount point (src/base.ts).
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: { proxy: { '/api': 'http://127.0.0.1:8090', '/__blocklet__.js': 'http://127.0.0.1:8090' } },
  test: { environment: 'node', include: ['src/**/*.test.ts'] },
});
