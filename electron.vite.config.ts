import { resolve } from 'node:path'
import { defineConfig, externalizeDepsPlugin } from 'electron-vite'
import vue from '@vitejs/plugin-vue'

// Native addons (onnxruntime-node, sharp) and every other runtime dependency stay outside the
// bundles: they are loaded from node_modules at run time, as electron-vite's template does.
export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          // The engine's own process in the desktop app (Electron utilityProcess).
          engine: resolve(__dirname, 'src/main/host/engineMain.ts'),
          cli: resolve(__dirname, 'src/main/cli/main.ts'),
          // The index worker's thread (worker_threads), found beside these entries at run time.
          indexWorker: resolve(__dirname, 'src/main/engine/indexWorker.ts')
        }
      }
    }
  },
  preload: {
    plugins: [externalizeDepsPlugin()],
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        // Sandboxed preload scripts must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' }
      }
    }
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    plugins: [vue()],
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'src/renderer/index.html') }
      }
    }
  }
})
