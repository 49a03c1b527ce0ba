// Bundles the IPC mock into one script the page can run before the app (page.addInitScript).
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

export const MOCK_BUNDLE = fileURLToPath(new URL('./.generated/ipc-mock.js', import.meta.url))

export default async function globalSetup(): Promise<void> {
  await build({
    entryPoints: [fileURLToPath(new URL('./ipc-mock.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    target: 'es2021',
    outfile: MOCK_BUNDLE,
    logLevel: 'warning',
  })
}
